/*
 * fuzz_util.h - small helpers shared by the libFuzzer targets: a UTF-8
 * check for the invariants the targets assert, temporary files for the
 * importers (which read paths, not memory), and an analyzer made once per
 * process (building one loads Hunspell dictionaries: far too slow per
 * input).
 *
 * Facts that shaped it: a fuzz target reports a finding by crashing, so a
 * broken invariant calls abort() after printing what broke; libFuzzer then
 * saves the input. Temporary files go to /dev/shm when it exists so the
 * importers' file I/O costs little.
 *
 * Header-only (static inline functions): every target is one translation unit.
 */
#ifndef CXS_FUZZ_UTIL_H
#define CXS_FUZZ_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stemmers.h"
#include "importer.h"
#include "index.h"

#define FUZZ_ASSERT(cond, what)                                                \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", what,       \
                    __FILE__, __LINE__);                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, at
 * most U+10FFFF). */
static inline int fuzz_utf8_ok(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80                 ? 0
                   : c >= 0xC2 && c <= 0xDF ? 1
                   : c >= 0xE0 && c <= 0xEF ? 2
                   : c >= 0xF0 && c <= 0xF4 ? 3
                                            : 9;
        if (k == 9 || (k > 0 && i + k >= n))
            return 0;
        unsigned cp = k == 0 ? c : c & (0x3F >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* The process's analyzer (lemmas on, as in production). */
static inline cxs_stemmers *fuzz_stemmers(void) {
    static cxs_stemmers *a;
    if (!a) {
        cxs_err err = {0};
        if (cxs_stemmers_new(NULL, &a, &err) != CXS_OK) {
            fprintf(stderr, "fuzz: analyzer: %s\n", err.msg);
            abort();
        }
    }
    return a;
}

static inline int fuzz_rm_entry(const char *path, const struct stat *sb,
                                int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path); /* best effort: a leftover file is harmless */
    return 0;
}

/* The folder of this process, removed at a normal exit (libFuzzer exits
 * normally at -max_total_time; after a crash scripts/fuzz removes the
 * folder it gave in CXS_FUZZ_TMP). */
static char fuzz_dir_[256];

static inline void fuzz_cleanup(void) {
    if (fuzz_dir_[0])
        nftw(fuzz_dir_, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh private folder for this process's temporary files, under
 * $CXS_FUZZ_TMP, else /dev/shm, else /tmp. */
static inline const char *fuzz_tmpdir(void) {
    if (!fuzz_dir_[0]) {
        const char *base = getenv("CXS_FUZZ_TMP");
        if (!base || !*base)
            base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir_, sizeof fuzz_dir_, "%s/cxs-fuzz-XXXXXX", base);
        if (!mkdtemp(fuzz_dir_)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return fuzz_dir_;
}

/* Writes data to path (created or truncated). */
static inline void fuzz_write_file(const char *path, const uint8_t *data,
                                   size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static inline cxs_status fuzz_sink_put(void *ud, cxs_post *post, cxs_err *err) {
    cxs_put_result res;
    return cxs_index_put(ud, post, &res, err);
}

/* An index of the sample corpus (data/sample), built once per process in the
 * temporary folder: queries need real posts to reach matching, ranking and
 * snippets. */
static inline const char *fuzz_sample_db(void) {
    static char db[128];
    if (db[0])
        return db;
    snprintf(db, sizeof db, "%s/index", fuzz_tmpdir());
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    cxs_index *w = NULL;
    cxs_err err = {0};
    cxs_import_stats st = {0};
    cxs_import_opts o = {0};
    if (cxs_index_open_writer(db, &cfg, &w, &err) != CXS_OK ||
        cxs_import_path(CXS_SOURCE_DIR "/data/sample", &o, fuzz_sink_put, w,
                        &st, &err) != CXS_OK ||
        cxs_index_commit(w, &err) != CXS_OK) {
        fprintf(stderr, "fuzz: sample index: %s\n", err.msg);
        abort();
    }
    cxs_index_close(w);
    return db;
}

/* A reader over fuzz_sample_db(), opened once. */
static inline cxs_index *fuzz_sample_index(void) {
    static cxs_index *rd;
    if (rd)
        return rd;
    const char *paths[1] = {fuzz_sample_db()};
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    cxs_err err = {0};
    if (cxs_index_open_reader(paths, 1, &cfg, &rd, &err) != CXS_OK) {
        fprintf(stderr, "fuzz: sample index reader: %s\n", err.msg);
        abort();
    }
    return rd;
}

/* Highlighted text as the native API sends it must be valid UTF-8 and
 * hold no markup but the highlight tags. */
static inline void fuzz_check_highlighted(const char *s, const char *what) {
    if (!s)
        return;
    size_t n = strlen(s);
    FUZZ_ASSERT(fuzz_utf8_ok(s, n), what);
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<'))
        FUZZ_ASSERT(strncmp(p, "<mark>", 6) == 0 ||
                        strncmp(p, "</mark>", 7) == 0,
                    what);
}

#endif /* CXS_FUZZ_UTIL_H */
