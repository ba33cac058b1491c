/* libpinyin_driver: libpinyin (the engine of ibus-libpinyin) behind PROTOCOL.md.
 *
 * pinyin_init takes a user directory for the trained bigram and user phrases; we give it a
 * fresh private one, so learning starts from the shipped model and never reads or writes the
 * real user's ~/.cache/ibus/libpinyin. */
#include "driver_common.h"

#include <stdbool.h> /* pinyin.h uses bool but does not include it for C callers */
#include <pinyin.h>

#ifndef LIBPINYIN_DATA_DIR /* setup.sh passes the packaged path (pkg-config pkgdatadir) */
#define LIBPINYIN_DATA_DIR "/usr/lib/x86_64-linux-gnu/libpinyin/data"
#endif
#define LEARN_DEPTH 100 /* candidates searched per learn step: a patient user pages far */

/* ibus-libpinyin's order: longer phrases first, then longer pinyin, then frequency; the
 * n-best sentence candidates come before all of them. */
#define SORT_OPTION SORT_BY_PHRASE_LENGTH_AND_PINYIN_LENGTH_AND_FREQUENCY

static pinyin_context_t *context;
static pinyin_instance_t *instance;

/* Parses `keys` afresh and lists the candidates starting at key offset 0. */
static void compose(const char *keys) {
  pinyin_reset(instance);
  pinyin_parse_more_full_pinyins(instance, keys);
  pinyin_guess_sentence(instance);
  pinyin_guess_candidates(instance, 0, SORT_OPTION);
}

static const char *candidate_text(guint index, lookup_candidate_t **out) {
  lookup_candidate_t *cand = NULL;
  const gchar *text = NULL;
  if (!pinyin_get_candidate(instance, index, &cand)) return NULL;
  pinyin_get_candidate_string(instance, cand, &text);
  if (out) *out = cand;
  return text;
}

static void convert(const char *keys) {
  const char *cands[MAX_CANDIDATES];
  guint total = 0;
  int n = 0;
  compose(keys);
  pinyin_get_n_candidate(instance, &total);
  for (guint i = 0; i < total && n < MAX_CANDIDATES; i++) {
    const char *text = candidate_text(i, NULL);
    if (text) cands[n++] = text;
  }
  reply_candidates(cands, n); /* the strings belong to the instance: print before reset */
  pinyin_reset(instance);
}

/* Chooses, offset by offset, the candidate that covers most of the rest of `text`; choosing
 * fixes that part of the sentence, and pinyin_train then learns the whole sentence, as
 * ibus-libpinyin does on commit. */
static void learn(const char *keys, const char *text) {
  const char *rest = text;
  char *committed = NULL;
  size_t cursor = 0;
  compose(keys);
  size_t end = pinyin_get_parsed_input_length(instance);
  while (cursor < end) {
    guint total = 0;
    lookup_candidate_t *best = NULL;
    size_t best_len = 0;
    pinyin_guess_candidates(instance, cursor, SORT_OPTION);
    pinyin_get_n_candidate(instance, &total);
    for (guint i = 0; i < total && i < LEARN_DEPTH; i++) {
      lookup_candidate_t *cand = NULL;
      size_t len = prefix_len(candidate_text(i, &cand), rest);
      if (len > best_len) { best = cand; best_len = len; }
    }
    if (!best) break;
    cursor = (size_t)pinyin_choose_candidate(instance, cursor, best);
    pinyin_guess_sentence(instance); /* re-decode the rest under the new constraint */
    rest += best_len;
  }
  if (cursor >= end && *rest == '\0') {
    pinyin_get_sentence(instance, 0, &committed);
    pinyin_train(instance, 0);
  }
  reply_learned(committed ? committed : "");
  g_free(committed);
  pinyin_reset(instance);
}

int main(int argc, char **argv) {
  driver_args(argc, argv);
  char *user_dir = make_private_dir("libpinyin");
  context = pinyin_init(LIBPINYIN_DATA_DIR, user_dir);
  if (!context) {
    fprintf(stderr, "libpinyin_driver: cannot load %s (is libpinyin-data installed?)\n",
            LIBPINYIN_DATA_DIR);
    return 3;
  }
  /* ibus-libpinyin's defaults: initials and incomplete syllables (zgrm), common typo
   * corrections (gn/ng, uei/ui, ...), and re-splitting (xian -> xi'an). */
  pinyin_set_options(context, PINYIN_INCOMPLETE | PINYIN_CORRECT_ALL | USE_DIVIDED_TABLE |
                                  USE_RESPLIT_TABLE | DYNAMIC_ADJUST);
  instance = pinyin_alloc_instance(context);

  reply_ready("libpinyin", PEER_VERSION);
  serve(convert, learn);

  pinyin_free_instance(instance);
  pinyin_fini(context);
  remove_private_dir(user_dir);
  free(user_dir);
  return 0;
}
