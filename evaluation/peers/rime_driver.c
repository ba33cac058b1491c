/* rime_driver: librime (schema luna_pinyin_simp) behind the line protocol of PROTOCOL.md.
 *
 * librime keeps all state in a user-data directory; we point it at a fresh temporary one
 * (removed on exit) so a comparison never reads or trains the real user's Rime profile. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rime_api.h>
#include "driver_common.h"

#ifndef RIME_SHARED_DATA_DIR /* where Debian's rime-data-* packages install schemas */
#define RIME_SHARED_DATA_DIR "/usr/share/rime-data"
#endif
#define SCHEMA "luna_pinyin_simp"
#define LEARN_DEPTH 100 /* candidates searched per learn step: a patient user pages far */

static RimeApi *rime;
static RimeSessionId session;

/* Drops a commit rime has not handed out yet, so it cannot leak into a later answer. */
static void discard_commit(void) {
  RIME_STRUCT(RimeCommit, commit);
  if (rime->get_commit(session, &commit)) rime->free_commit(&commit);
}

/* Types `keys` into a clean composition; '{' never occurs in a-z' so no key names expand.
 * A leading ' reaches rime's punctuator, which commits a quotation mark at once: discarded. */
static void compose(const char *keys) {
  rime->clear_composition(session);
  discard_commit();
  rime->simulate_key_sequence(session, keys);
  discard_commit();
}

static void convert(const char *keys) {
  char *cands[MAX_CANDIDATES];
  int n = 0;
  RimeCandidateListIterator it = {0};
  compose(keys);
  if (rime->candidate_list_begin(session, &it)) {
    while (n < MAX_CANDIDATES && rime->candidate_list_next(&it))
      cands[n++] = strdup(it.candidate.text);
    rime->candidate_list_end(&it);
  }
  reply_candidates((const char *const *)cands, n);
  while (n > 0) free(cands[--n]);
  rime->clear_composition(session);
}

/* Selects, segment by segment, the candidate covering the longest prefix of the rest of
 * `text` (prefix_len); rime commits, and so learns, once the last segment is selected. */
static void learn(const char *keys, const char *text) {
  const char *rest = text;
  char committed[4096] = "";
  compose(keys);
  for (;;) {
    RimeCandidateListIterator it = {0};
    int best = -1;
    size_t best_len = 0;
    if (!rime->candidate_list_begin(session, &it)) break;
    while (it.index + 1 < LEARN_DEPTH && rime->candidate_list_next(&it)) {
      size_t len = prefix_len(it.candidate.text, rest);
      if (len > best_len) { best = it.index; best_len = len; }
    }
    rime->candidate_list_end(&it);
    if (best < 0) break;
    rime->select_candidate(session, (size_t)best);
    rest += best_len;
    RIME_STRUCT(RimeCommit, commit);
    if (rime->get_commit(session, &commit)) { /* the whole input is now committed */
      snprintf(committed, sizeof committed, "%s", commit.text);
      rime->free_commit(&commit);
      break;
    }
  }
  rime->clear_composition(session); /* drop an unfinished composition; it teaches nothing */
  reply_learned(committed);
}

int main(int argc, char **argv) {
  driver_args(argc, argv);
  char *user_dir = make_private_dir("rime");
  char *staging = path_join(user_dir, "build");
  RIME_STRUCT(RimeTraits, traits);
  traits.shared_data_dir = RIME_SHARED_DATA_DIR;
  traits.user_data_dir = user_dir;
  traits.staging_dir = staging;
  traits.log_dir = user_dir; /* glog would otherwise litter the system temp directory */
  traits.min_log_level = 2;  /* errors only */
  traits.distribution_name = "delta-pinyin-peer";
  traits.distribution_code_name = "delta-pinyin-peer";
  traits.distribution_version = "1";
  traits.app_name = "rime.delta-pinyin-peer";

  /* Deploy only our schema: the stock default.yaml lists schemas that are not installed. */
  write_file(user_dir, "default.custom.yaml",
             "patch:\n  schema_list:\n    - schema: " SCHEMA "\n  menu/page_size: 10\n");

  rime = rime_get_api();
  rime->setup(&traits);
  rime->initialize(&traits);
  if (rime->start_maintenance(True)) rime->join_maintenance_thread();
  session = rime->create_session();
  if (!session || !rime->select_schema(session, SCHEMA)) {
    fprintf(stderr, "rime_driver: cannot open schema %s (is rime-data-luna-pinyin installed?)\n",
            SCHEMA);
    return 3;
  }
  reply_ready("rime", rime->get_version());
  serve(convert, learn);

  rime->destroy_session(session);
  rime->finalize();
  remove_private_dir(user_dir);
  free(staging);
  free(user_dir);
  return 0;
}
