/* driver_common.h: what the four peer drivers share, compiled as C or C++ (header-only).
 *
 * The line protocol itself (PROTOCOL.md) lives here, so every peer reads requests and
 * writes answers the same way; a driver only supplies `convert` and `learn`. */
#ifndef DELTA_PINYIN_DRIVER_COMMON_H
#define DELTA_PINYIN_DRIVER_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getline, mkdtemp, nftw */
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CANDIDATES 10

#ifndef PEER_VERSION /* setup.sh passes the Debian package version */
#define PEER_VERSION "unknown"
#endif

typedef void (*convert_fn)(const char *keys);
typedef void (*learn_fn)(const char *keys, const char *text);

/* Set by make_private_dir when the driver created the directory itself, so only then is it
 * removed at exit; a directory given on the command line belongs to the caller. */
static int private_dir_is_ours = 0;
static int private_dir_argc = 0;
static char **private_dir_argv = NULL;

/* Remembers argv so make_private_dir can honour `driver [USER_DATA_DIR]`. */
static inline void driver_args(int argc, char **argv) {
  private_dir_argc = argc;
  private_dir_argv = argv;
}

/* The peer's user-data directory: argv[1] when the caller gives one (peers.py does, so it
 * can delete it even after killing a hung driver), else a fresh mkdtemp directory. */
static inline char *make_private_dir(const char *peer) {
  char tmpl[4096];
  const char *tmp = getenv("TMPDIR");
  if (private_dir_argc > 1) return strdup(private_dir_argv[1]);
  snprintf(tmpl, sizeof tmpl, "%s/delta-pinyin-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", peer);
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    exit(3);
  }
  private_dir_is_ours = 1;
  return strdup(tmpl);
}

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)flag; (void)ftw;
  return remove(path);
}

static inline void remove_private_dir(const char *dir) {
  if (private_dir_is_ours) nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = (char *)malloc(n);
  snprintf(path, n, "%s/%s", dir, name);
  return path;
}

static inline void write_file(const char *dir, const char *name, const char *content) {
  char *path = path_join(dir, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(content, f);
    fclose(f);
  }
  free(path);
}

/* Byte length of `cand` when it is a non-empty prefix of `rest` (UTF-8 is prefix-safe), else 0.
 * Learning picks the candidate with the largest such length: the whole rest when offered. */
static inline size_t prefix_len(const char *cand, const char *rest) {
  size_t n = cand ? strlen(cand) : 0;
  return n > 0 && strncmp(cand, rest, n) == 0 ? n : 0;
}

/* Writes one answer field; tabs and newlines inside a peer's text would break the framing. */
static inline void put_field(const char *s) {
  for (; *s; s++) putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

static inline void reply_ready(const char *peer, const char *version) {
  printf("ready\t%s\t", peer);
  put_field(version ? version : "");
  putchar('\n');
  fflush(stdout);
}

/* An empty candidate (libime shows one for a lone ') would read as a missing field: skipped. */
static inline void reply_candidates(const char *const *cands, int n) {
  fputs("ok", stdout);
  for (int i = 0; i < n && i < MAX_CANDIDATES; i++) {
    if (!cands[i] || !*cands[i]) continue;
    putchar('\t');
    put_field(cands[i]);
  }
  putchar('\n');
  fflush(stdout);
}

static inline void reply_learned(const char *committed) {
  fputs("ok\t", stdout);
  put_field(committed);
  putchar('\n');
  fflush(stdout);
}

static inline void reply_error(const char *message) {
  fputs("error\t", stdout);
  put_field(message);
  putchar('\n');
  fflush(stdout);
}

static inline int valid_keys(const char *keys) {
  if (!*keys) return 0;
  for (; *keys; keys++)
    if (!((*keys >= 'a' && *keys <= 'z') || *keys == '\'')) return 0;
  return 1;
}

/* Reads requests until EOF or `quit`, answering each with exactly one line. */
static inline void serve(convert_fn convert, learn_fn learn) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    char *keys = strchr(line, '\t');
    char *text = keys ? strchr(keys + 1, '\t') : NULL;
    if (keys) *keys++ = '\0';
    if (text) *text++ = '\0';
    if (strcmp(line, "quit") == 0) break;
    if (strcmp(line, "convert") == 0 && keys && !text && valid_keys(keys)) {
      convert(keys);
    } else if (strcmp(line, "learn") == 0 && keys && text && *text && valid_keys(keys)) {
      learn(keys, text);
    } else {
      reply_error("bad request: want convert<TAB>KEYS or learn<TAB>KEYS<TAB>TEXT, KEYS in a-z'");
    }
  }
  free(line);
}

#endif
