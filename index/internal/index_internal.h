/*
 * index_internal.h - what the index's own files share (index.c writes,
 * search.c searches, browse.c reads posts and statistics). Not for use
 * outside index/.
 */
#ifndef CXS_INDEX_INTERNAL_H
#define CXS_INDEX_INTERNAL_H

#include "checkpoints.h"
#include "cxs_buf.h"
#include "index.h"
#include "phrases.h"
#include "xapian_shim.h"

/* Per-thread state for turning posts into Xapian documents (document.c):
 * an analyzer and scratch buffers reused from post to post. */
typedef struct cxs_doc_maker {
    cxs_stemmers *an;           /* borrowed */
    const cxs_phrases *phrases; /* borrowed; NULL: none recognized */
    cxs_phrase_doc pdoc;        /* positioned terms of the post */
    cxs_buf term;               /* prefix + term */
    cxs_buf data;               /* the stored post (stored.h) */
    cxs_checkpoints marks;      /* the text's resume points */
} cxs_doc_maker;

/* A post made ready for the writer: owns everything it points to. */
typedef struct cxs_prepared {
    char *idterm; /* "Q" + id */
    char *data;   /* the stored post (stored.h) */
    size_t data_len;
    cxs_xdoc *doc;
} cxs_prepared;

/* Detects the post's language when missing (setting post->lang), and
 * builds its document. Thread-safe for distinct makers. */
CXS_MUST_CHECK
cxs_status cxs_doc_prepare(cxs_doc_maker *m, cxs_post *post, cxs_prepared *out,
                           cxs_err *err);
void cxs_prepared_release(cxs_prepared *p);
void cxs_doc_maker_release(cxs_doc_maker *m);

typedef struct cxs_pipeline cxs_pipeline;

struct cxs_index {
    cxs_index_config cfg;
    cxs_stemmers *an;
    int an_lent; /* an belongs to another index (not freed at close) */
    cxs_synonyms *syn;
    cxs_xdb *rd;
    cxs_xwdb *wr;  /* writer: its database, or the shard being written */
    cxs_xwdb **wrs; /* writer over shards: one per shard (wr is one) */
    unsigned char *dirty; /* ... changed since the last commit */
    size_t nwrs;
    char *path;   /* writer: its database */
    char **paths; /* reader: its shards; writer over shards: their names */
    size_t npaths;
    size_t pending;            /* puts since the last commit */
    cxs_buf term;              /* scratch for prefix + term */
    cxs_doc_maker maker;       /* for puts on the caller's thread */
    size_t counts[3];          /* by cxs_put_result */
    cxs_pipeline *pipe;        /* writer with workers > 1, else NULL */
    struct cxs_shards *shards; /* a new index being built in shards */
    cxs_phrases *phrases;      /* glossary phrases the index recognizes */
    cxs_buf phrases_src;       /* the metadata they were compiled from */
    struct lexshare *lex;      /* reader: its vocabulary (lexicon_cache.c) */
    struct lexshare *lex_next; /* ... of a newer revision, being built */
};

/* The vocabulary of a reader's databases (lexicon_cache.c): shared by
 * all readers of the same databases in the process. The first call for a
 * reader builds it from the term list (or waits for another reader
 * building it); when the reader has moved to a newer revision, a thread
 * of the cache builds that one on its own connection while the reader
 * keeps answering with the vocabulary it had, so no query waits for a
 * rebuild. Borrowed: valid until the next call for ix or
 * cxs_index_close. NULL when it cannot be built (then nothing is
 * forgiven). Safe to call from several threads, each with its own ix. */
const cxs_lexicon *cxs_index_lexicon(cxs_index *ix);

/* Another connection to ix's databases with ix's options, for a thread
 * of its own (lexicon_cache.c). */
CXS_MUST_CHECK cxs_status cxs_index_open_db(const cxs_index *ix,
                                            cxs_xdb **out, cxs_err *err);

/* Lets go of ix's lexicons (cxs_index_close); waits for a build no
 * reader wants any more to end. */
void cxs_index_lexicon_drop(cxs_index *ix);

/* cxs_index_open_writer with the analyzer of another index, which must
 * outlive this one and not be used by anyone else meanwhile: a shard
 * (shards.c) analyzes with its owner's, idle while shards write, instead
 * of loading the dictionaries once more (about 35 MB and a second). */
CXS_MUST_CHECK
cxs_status cxs_index_open_writer_lent(const char *path,
                                      const cxs_index_config *cfg,
                                      cxs_stemmers *an, cxs_index **out,
                                      cxs_err *err);

/* Writes a prepared post (writer thread only): unchanged posts are
 * skipped, batches committed. */
CXS_MUST_CHECK
cxs_status cxs_index_apply(cxs_index *ix, cxs_prepared *p, cxs_put_result *res,
                           cxs_err *err);

/* What writing p over a stored copy of its id counts as: CXS_PUT_ADDED
 * when there is none (old NULL), CXS_PUT_UNCHANGED when the copy's stored
 * post is p's byte for byte (the resume points after it, checkpoints.h,
 * follow from the text, and a copy from before them is not rewritten just
 * to add them), else CXS_PUT_UPDATED. The one rule
 * for the writer and for the earlier parts of a shard (shards.c). */
cxs_put_result cxs_index_compare(const cxs_prepared *p, const cxs_buf *old);

/* Commits and closes the writer's database and makes the new database w
 * its writer (shards.c: a shard goes on in a new part), giving w the
 * metadata the index's first database was created with (its glossary
 * phrases). On success ix takes w over (ix->path still names the
 * database ix was opened on); on failure ix keeps its writer and the
 * caller keeps w. */
CXS_MUST_CHECK
cxs_status cxs_index_swap_writer(cxs_index *ix, cxs_xwdb *w, cxs_err *err);

/* The pipeline (pipeline.c): workers prepare posts, the writer applies
 * them in submission order. */
CXS_MUST_CHECK cxs_status cxs_pipeline_start(cxs_index *ix, unsigned workers,
                              cxs_pipeline **out, cxs_err *err);
CXS_MUST_CHECK
cxs_status cxs_pipeline_submit(cxs_pipeline *pl, cxs_post *post, cxs_err *err);
CXS_MUST_CHECK cxs_status cxs_pipeline_drain(cxs_pipeline *pl, cxs_err *err);
void cxs_pipeline_stop(cxs_pipeline *pl);

/* Parses a stored post (document data) into *p (cxs_stored_decode),
 * leaving out the resume points after it (checkpoints.h). */
CXS_MUST_CHECK
cxs_status cxs_index_decode_post(const char *data, size_t len, cxs_post *p,
                                 cxs_err *err);

/* Finds a post by id: its docid and (when p is not NULL) the post. */
CXS_MUST_CHECK
cxs_status cxs_index_get_docid(cxs_index *ix, const char *id, unsigned *docid,
                               cxs_post *p, cxs_err *err);

/* A new index built on every core (shards.c): posts are routed by id to
 * n shard writers beside the target (one thread each, analyzing and
 * writing), each writing a sequence of part databases of a bounded size
 * ("<target>.build-<pid>-<shard>-<part>"), then all parts are merged with
 * Xapian's compactor. Added, updated and unchanged counts come out as
 * with one writer. Used by
 * cxs_index_put_async while the target is empty; cxs_index_commit merges
 * (cxs_shards_finish into a folder, cxs_shards_install over the target);
 * cxs_index_close without a commit discards (cxs_shards_abort). The
 * caller's thread submits; errors of a shard come back from a later
 * submit or from finish. */
typedef struct cxs_shards cxs_shards;
CXS_MUST_CHECK
cxs_status cxs_shards_start(cxs_index *ix, unsigned n, cxs_shards **out,
                            cxs_err *err);
CXS_MUST_CHECK
cxs_status cxs_shards_submit(cxs_shards *ss, cxs_post *post, cxs_err *err);
/* Waits for every post, merges the shards into the new folder merged and
 * adds the posts' counts to counts; frees ss in every case. */
CXS_MUST_CHECK cxs_status cxs_shards_finish(cxs_shards *ss, const char *merged,
                             size_t counts[3], cxs_err *err);
void cxs_shards_abort(cxs_shards *ss); /* NULL allowed */
/* "<target>.build-<pid>-<what>" (malloc'd; NULL on OOM). */
char *cxs_shards_path(const char *target, const char *what);
/* Removes a database folder and the files in it (flat, as glass keeps). */
void cxs_shards_remove_db(const char *path);
/* Puts the folder merged in place of target (whose writer is closed). */
CXS_MUST_CHECK
cxs_status cxs_shards_install(const char *target, const char *merged,
                              cxs_err *err);

#endif /* CXS_INDEX_INTERNAL_H */
