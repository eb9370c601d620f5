/*
 * fuzz_import.h - the body shared by the importer fuzz targets: write the
 * input to temporary file(s), run cxs_import_path with the format forced,
 * and check every post handed to the sink.
 *
 * Facts that shaped it: the importers read paths (they sniff, stat and
 * mmap/read files; import_internal.h has no memory entry point), so the
 * input goes through a file in a tmpfs folder. A bad file is never an
 * error of the run (importer.h): only a sink failure is, and this sink
 * never fails, so cxs_import_path must return CXS_OK.
 *
 * Post invariants: cxs_post_finish passed (id 1..512 bytes, no control
 * characters; text non-empty), every string is valid UTF-8, and the post
 * serializes to JSON (what `cxsearch dump` and the API do with it).
 */
#ifndef CXS_FUZZ_IMPORT_H
#define CXS_FUZZ_IMPORT_H

#include "fuzz_util.h"

static inline void fuzz_check_str(const char *s, const char *what) {
    if (s)
        FUZZ_ASSERT(fuzz_utf8_ok(s, strlen(s)), what);
}

static inline cxs_status fuzz_check_post(void *ud, cxs_post *p, cxs_err *err) {
    (void)err;
    size_t *count = ud;
    FUZZ_ASSERT(p->id && p->id[0] && strlen(p->id) <= 512, "id 1..512 bytes");
    for (const char *c = p->id; *c; c++)
        FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f,
                    "no control characters in ids");
    FUZZ_ASSERT(p->text && p->text[0], "text non-empty");
    fuzz_check_str(p->id, "id is UTF-8");
    fuzz_check_str(p->text, "text is UTF-8");
    fuzz_check_str(p->title, "title is UTF-8");
    fuzz_check_str(p->channel, "channel is UTF-8");
    fuzz_check_str(p->author, "author is UTF-8");
    fuzz_check_str(p->date, "date is UTF-8");
    fuzz_check_str(p->url, "url is UTF-8");
    for (size_t i = 0; i < p->ntags; i++)
        fuzz_check_str(p->tags[i], "tag is UTF-8");
    json_t *j = cxs_post_to_json(p);
    FUZZ_ASSERT(j != NULL, "post to JSON");
    char *s = json_dumps(j, JSON_COMPACT);
    FUZZ_ASSERT(s != NULL, "post JSON serializes");
    free(s);
    json_decref(j);
    (*count)++;
    return CXS_OK;
}

static inline void fuzz_ignore_warning(void *ud, const char *file, long line,
                                       const char *msg) {
    (void)ud;
    (void)file;
    (void)line;
    FUZZ_ASSERT(msg != NULL, "a warning has a message");
}

/* Imports path with format f; the run itself must succeed. */
static inline void fuzz_import(const char *path, cxs_format f) {
    cxs_import_opts o = {0};
    o.format = f;
    o.warn = fuzz_ignore_warning;
    cxs_import_stats st = {0};
    cxs_err err = {0};
    size_t posts = 0;
    cxs_status rc =
        cxs_import_path(path, &o, fuzz_check_post, &posts, &st, &err);
    if (rc != CXS_OK)
        fprintf(stderr, "import failed: %s\n", err.msg);
    FUZZ_ASSERT(rc == CXS_OK, "a bad file is not an error of the run");
    FUZZ_ASSERT(st.posts == posts, "stats count the posts handed over");
}

#endif /* CXS_FUZZ_IMPORT_H */
