/*
 * index.c - posts in, ranked and highlighted posts out (see index.h).
 *
 * Layout of a post in Xapian (terms.h): its text analyzed into terms of
 * four classes (exact, accent-free, lemma, stem). Positions, the costliest
 * part of an index to write and store, are kept for exact forms and lemmas
 * only: phrases match inflected forms through lemmas. A lemma, stem or
 * accent-free form equal to the word's exact form is not stored at all:
 * the query side also looks such variants up as exact terms, so the exact
 * term stands for them. Together this halves the postings. Boolean terms
 * for id, channel, author, language, year, tags and text hash, values for
 * sorting and facets, and the post's JSON as document data, so a hit is
 * returned without a second lookup.
 *
 * The writer batches: changes become visible at commit, which cxs_index_put
 * also triggers every batch_size posts. A writer closed without commit
 * discards its batch; Xapian's commit is atomic, so a killed import leaves
 * the last committed batch.
 */
#include "index_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cxs_buf.h"
#include "dates.h"
#include "snippet.h"
#include "terms.h"
#include "xapian_shim.h"

void cxs_index_config_init(cxs_index_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->analyzer.use_lemmas = 1;
    cfg->max_query_len = 4096;
    /* Xapian holds a batch's postings in std::maps until the commit: 5000
     * posts took the indexer to 618 MB at 20k posts, 2000 to 374 MB, and
     * the smaller maps cost less CPU (docs/performance.md). */
    cfg->batch_size = 2000;
    cfg->recency_halflife_days = 365;
}

/* A new index handle; with an, analyzing with that (lent) analyzer. */
static cxs_status index_new(const cxs_index_config *cfg, cxs_stemmers *an,
                            cxs_index **out, cxs_err *err) {
    cxs_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (cfg)
        ix->cfg = *cfg;
    else
        cxs_index_config_init(&ix->cfg);
    cxs_status rc = CXS_OK;
    if (an) {
        ix->an = an;
        ix->an_lent = 1;
    } else {
        rc = cxs_stemmers_new(&ix->cfg.analyzer, &ix->an, err);
    }
    ix->maker.an = ix->an;
    if (rc == CXS_OK && ix->cfg.synonyms_path)
        rc = cxs_synonyms_load(ix->cfg.synonyms_path, ix->an, &ix->syn, err);
    if (rc != CXS_OK) {
        cxs_index_close(ix);
        return rc;
    }
    *out = ix;
    return CXS_OK;
}

/* Compiles the index's phrase list src (CXS_META_PHRASES) unless it is
 * the one compiled already. */
static cxs_status use_phrases(cxs_index *ix, const cxs_buf *src, cxs_err *err) {
    if (src->len == ix->phrases_src.len &&
        (!src->len || memcmp(src->data, ix->phrases_src.data, src->len) == 0))
        return CXS_OK;
    cxs_phrases *p = NULL;
    cxs_status rc = src->len
                        ? cxs_phrases_new(ix->an, src->data, src->len, &p, err)
                        : CXS_OK;
    cxs_buf_reset(&ix->phrases_src);
    if (rc == CXS_OK)
        rc = cxs_buf_append(&ix->phrases_src, src->data, src->len);
    if (rc != CXS_OK) {
        cxs_phrases_free(p);
        return rc;
    }
    cxs_phrases_free(ix->phrases);
    ix->phrases = p;
    ix->maker.phrases = p;
    return CXS_OK;
}

/* A reader looks glossary phrases up as terms only when the index says
 * which it recognized. Shards searched as one may disagree (each got its
 * list when it was created): they are searched by positions. */
static cxs_status reader_phrases(cxs_index *ix, cxs_err *err) {
    if (ix->npaths != 1)
        return CXS_OK;
    cxs_buf src = CXS_BUF_INIT;
    cxs_status rc = cxs_xdb_metadata(ix->rd, CXS_META_PHRASES, &src, err);
    if (rc == CXS_OK)
        rc = use_phrases(ix, &src, err);
    cxs_buf_release(&src);
    return rc;
}

/* A writer recognizes the phrases the index was created with; an index
 * getting its first post takes the writer's glossary's (phrases.h). */
static cxs_status writer_phrases(cxs_index *ix, cxs_err *err) {
    cxs_buf src = CXS_BUF_INIT;
    cxs_status rc = cxs_xwdb_metadata(ix->wr, CXS_META_PHRASES, &src, err);
    if (rc == CXS_OK && !src.len && ix->syn && cxs_xwdb_doccount(ix->wr) == 0) {
        if (cxs_phrases_glossary(ix->syn, &src) != CXS_OK)
            rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        if (rc == CXS_OK && src.len) {
            cxs_buf_appendc(&src, '\0');
            rc = cxs_xwdb_set_metadata(ix->wr, CXS_META_PHRASES, src.data, err);
            src.len--;
        }
    }
    if (rc == CXS_OK)
        rc = use_phrases(ix, &src, err);
    cxs_buf_release(&src);
    return rc;
}

cxs_status cxs_index_open_reader(const char *const *paths, size_t npaths,
                                 const cxs_index_config *cfg, cxs_index **out,
                                 cxs_err *err) {
    *out = NULL;
    cxs_index *ix = NULL;
    cxs_status rc = index_new(cfg, NULL, &ix, err);
    if (rc != CXS_OK)
        return rc;
    ix->paths = calloc(npaths, sizeof *ix->paths);
    rc = ix->paths ? CXS_OK : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < npaths && rc == CXS_OK; i++, ix->npaths++)
        if (!(ix->paths[i] = strdup(paths[i])))
            rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc == CXS_OK)
        rc = cxs_xdb_open(paths, npaths, &ix->rd, err);
    if (rc == CXS_OK)
        rc = reader_phrases(ix, err);
    if (rc == CXS_ERR_NOT_FOUND && npaths == 1)
        cxs_err_set(err, rc,
                    "no index at %s (build one with: cxsearch index --db %s "
                    "PATH...)",
                    paths[0], paths[0]);
    if (rc != CXS_OK) {
        cxs_index_close(ix);
        return rc;
    }
    *out = ix;
    return CXS_OK;
}

cxs_status cxs_index_open_writer(const char *path, const cxs_index_config *cfg,
                                 cxs_index **out, cxs_err *err) {
    return cxs_index_open_writer_lent(path, cfg, NULL, out, err);
}

cxs_status cxs_index_open_writer_lent(const char *path,
                                      const cxs_index_config *cfg,
                                      cxs_stemmers *an, cxs_index **out,
                                      cxs_err *err) {
    *out = NULL;
    cxs_index *ix = NULL;
    cxs_status rc = index_new(cfg, an, &ix, err);
    if (rc != CXS_OK)
        return rc;
    ix->path = strdup(path);
    rc = ix->path ? cxs_xwdb_open(path, &ix->wr, err)
                  : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc == CXS_OK)
        rc = writer_phrases(ix, err);
    if (rc == CXS_ERR_LOCKED)
        cxs_err_set(err, rc,
                    "the index %s is being written by another process "
                    "(cxsearchd accepting writes, or another cxsearch "
                    "index); stop it or write through its API",
                    path);
    if (rc != CXS_OK) {
        cxs_index_close(ix);
        return rc;
    }
    *out = ix;
    return CXS_OK;
}

void cxs_index_close(cxs_index *ix) {
    if (!ix)
        return;
    cxs_pipeline_stop(ix->pipe);  /* prepared posts not applied are dropped */
    cxs_shards_abort(ix->shards); /* a new index not merged stays empty */
    cxs_xdb_close(ix->rd);
    cxs_xwdb_close(ix->wr);
    cxs_synonyms_free(ix->syn);
    cxs_phrases_free(ix->phrases);
    cxs_buf_release(&ix->phrases_src);
    if (!ix->an_lent)
        cxs_stemmers_free(ix->an);
    cxs_buf_release(&ix->term);
    cxs_doc_maker_release(&ix->maker);
    free(ix->path);
    for (size_t i = 0; i < ix->npaths; i++)
        free(ix->paths[i]);
    free(ix->paths);
    free(ix);
}

cxs_status cxs_index_reopen(cxs_index *ix, int *changed, cxs_err *err) {
    if (!ix->rd)
        return cxs_err_set(err, CXS_ERR_INVALID, "not a reader");
    int moved = 0;
    cxs_status rc = cxs_xdb_reopen(ix->rd, &moved, err);
    if (rc == CXS_OK && moved)
        rc = reader_phrases(ix, err);
    if (changed)
        *changed = moved;
    return rc;
}

cxs_stemmers *cxs_index_analyzer(cxs_index *ix) {
    return ix->an;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

cxs_put_result cxs_index_compare(const cxs_prepared *p, const cxs_buf *old) {
    if (!old)
        return CXS_PUT_ADDED;
    return old->len == p->data_len && memcmp(old->data, p->data, old->len) == 0
               ? CXS_PUT_UNCHANGED
               : CXS_PUT_UPDATED;
}

/* Says whether the stored copy of the post equals the prepared one. */
static cxs_status compare_stored(cxs_index *ix, const cxs_prepared *p,
                                 cxs_put_result *res, cxs_err *err) {
    cxs_buf old = CXS_BUF_INIT;
    int found = 0;
    cxs_status rc = cxs_xwdb_find_data(ix->wr, p->idterm, strlen(p->idterm),
                                       &old, &found, err);
    if (rc == CXS_OK)
        *res = cxs_index_compare(p, found ? &old : NULL);
    cxs_buf_release(&old);
    return rc;
}

static cxs_status commit_now(cxs_index *ix, cxs_err *err);

/* Commits of at least this many posts add only repeated spelling words. */
#define SPELLING_BATCH 100

/* Adds the prepared document's spelling words (NUL-separated). */
static cxs_status add_spellings(cxs_index *ix, const cxs_prepared *p,
                                cxs_err *err) {
    cxs_status rc = CXS_OK;
    for (size_t at = 0; at < p->spell_len && rc == CXS_OK;) {
        size_t n = strlen(p->spell + at);
        rc = cxs_xwdb_add_spelling(ix->wr, p->spell + at, n, err);
        at += n + 1;
    }
    return rc;
}

cxs_status cxs_index_apply(cxs_index *ix, cxs_prepared *p, cxs_put_result *res,
                           cxs_err *err) {
    cxs_put_result r = CXS_PUT_ADDED;
    cxs_status rc = compare_stored(ix, p, &r, err);
    if (rc == CXS_OK && r != CXS_PUT_UNCHANGED)
        rc =
            cxs_xwdb_replace(ix->wr, p->idterm, strlen(p->idterm), p->doc, err);
    if (rc == CXS_OK && r != CXS_PUT_UNCHANGED)
        rc = add_spellings(ix, p, err);
    if (rc == CXS_OK)
        ix->counts[r]++;
    if (rc == CXS_OK && r != CXS_PUT_UNCHANGED &&
        ++ix->pending >= ix->cfg.batch_size && ix->cfg.batch_size)
        rc = commit_now(ix, err);
    if (res)
        *res = r;
    return rc;
}

cxs_status cxs_index_put(cxs_index *ix, cxs_post *post, cxs_put_result *res,
                         cxs_err *err) {
    if (!ix->wr)
        return cxs_err_set(err, CXS_ERR_INVALID, "index opened read-only");
    cxs_prepared p;
    cxs_status rc = cxs_doc_prepare(&ix->maker, post, &p, err);
    if (rc == CXS_OK)
        rc = cxs_index_apply(ix, &p, res, err);
    cxs_prepared_release(&p);
    return rc;
}

cxs_status cxs_index_delete(cxs_index *ix, const char *id, cxs_err *err) {
    if (!ix->wr)
        return cxs_err_set(err, CXS_ERR_INVALID, "index opened read-only");
    cxs_buf_reset(&ix->term);
    cxs_status rc = cxs_buf_appends(&ix->term, CXS_PFX_ID);
    if (rc == CXS_OK)
        rc = cxs_buf_appends(&ix->term, id);
    int existed = 0;
    if (rc == CXS_OK)
        rc =
            cxs_xwdb_delete(ix->wr, ix->term.data, ix->term.len, &existed, err);
    if (rc == CXS_OK && !existed)
        return cxs_err_set(err, CXS_ERR_NOT_FOUND, "no post with id '%s'", id);
    if (rc == CXS_OK)
        ix->pending++;
    return rc;
}

cxs_status cxs_index_swap_writer(cxs_index *ix, cxs_xwdb *w, cxs_err *err) {
    cxs_status rc = commit_now(ix, err);
    /* The compactor keeps the first database's value of a metadata key:
     * every part must say which phrases its terms were made with. */
    if (rc == CXS_OK && ix->phrases_src.len)
        rc = cxs_xwdb_set_metadata(w, CXS_META_PHRASES, ix->phrases_src.data,
                                   err);
    if (rc != CXS_OK)
        return rc;
    cxs_xwdb_close(ix->wr);
    ix->wr = w;
    return CXS_OK;
}

/* An empty index with nothing pending is built in shards (shards.c). */
static cxs_status maybe_shards(cxs_index *ix, cxs_err *err) {
    if (ix->shards || ix->pipe || ix->cfg.shards < 2 || ix->pending ||
        cxs_xwdb_doccount(ix->wr) != 0)
        return CXS_OK;
    return cxs_shards_start(ix, ix->cfg.shards, &ix->shards, err);
}

cxs_status cxs_index_put_async(cxs_index *ix, cxs_post *post, cxs_err *err) {
    if (!ix->wr)
        return cxs_err_set(err, CXS_ERR_INVALID, "index opened read-only");
    cxs_status st = maybe_shards(ix, err);
    if (st != CXS_OK || ix->shards) {
        st = st == CXS_OK ? cxs_shards_submit(ix->shards, post, err) : st;
        cxs_post_release(post);
        return st;
    }
    if (!ix->pipe) {
        cxs_status rc = CXS_OK;
        if (ix->cfg.workers > 1)
            rc = cxs_pipeline_start(ix, ix->cfg.workers, &ix->pipe, err);
        if (!ix->pipe || rc != CXS_OK) {
            cxs_post moved = *post;
            memset(post, 0, sizeof *post);
            rc = rc == CXS_OK ? cxs_index_put(ix, &moved, NULL, err) : rc;
            cxs_post_release(&moved);
            return rc;
        }
    }
    return cxs_pipeline_submit(ix->pipe, post, err);
}

void cxs_index_put_counts(const cxs_index *ix, size_t *added, size_t *updated,
                          size_t *unchanged) {
    *added = ix->counts[CXS_PUT_ADDED];
    *updated = ix->counts[CXS_PUT_UPDATED];
    *unchanged = ix->counts[CXS_PUT_UNCHANGED];
}

/* Commits to the merged index until its revision passes the target's:
 * readers keep to the newest revision any of them has seen (cxsearchd),
 * so the index that replaces the target must not look older. */
static cxs_status outrun_revision(const char *merged, unsigned long long rev,
                                  cxs_err *err) {
    cxs_xwdb *w = NULL;
    cxs_status rc = cxs_xwdb_open(merged, &w, err);
    char now[21], bump[32];
    cxs_date_format_utc(time(NULL), now);
    /* Each commit changes a value, so that it makes a revision. */
    for (unsigned i = 0; rc == CXS_OK && cxs_xwdb_revision(w) <= rev; i++) {
        if (i == 1000)
            rc = cxs_err_set(err, CXS_ERR_INDEX,
                             "cannot advance the revision "
                             "of the merged index");
        snprintf(bump, sizeof bump, "%u", i);
        if (rc == CXS_OK)
            rc = cxs_xwdb_set_metadata(w, "cxs.merge_commits", bump, err);
        if (rc == CXS_OK)
            rc = cxs_xwdb_commit(w, err);
    }
    if (rc == CXS_OK)
        rc = cxs_xwdb_set_metadata(w, "cxs.last_update", now, err);
    if (rc == CXS_OK)
        rc = cxs_xwdb_commit(w, err);
    cxs_xwdb_close(w);
    return rc;
}

/* Merges the shards of a new index over the (empty) target, whose writer
 * is closed only for the two renames and then reopened. */
static cxs_status merge_shards(cxs_index *ix, cxs_err *err) {
    cxs_shards *ss = ix->shards;
    ix->shards = NULL;
    char *merged = cxs_shards_path(ix->path, "merged");
    if (!merged) {
        cxs_shards_abort(ss);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    cxs_status rc = cxs_shards_finish(ss, merged, ix->counts, err);
    if (rc == CXS_OK)
        rc = outrun_revision(merged, cxs_xwdb_revision(ix->wr), err);
    if (rc == CXS_OK) {
        cxs_xwdb_close(ix->wr);
        ix->wr = NULL;
        rc = cxs_shards_install(ix->path, merged, err);
        cxs_status ro = cxs_xwdb_open(ix->path, &ix->wr, rc ? NULL : err);
        rc = rc != CXS_OK ? rc : ro;
    }
    free(merged);
    return rc;
}

cxs_status cxs_index_commit(cxs_index *ix, cxs_err *err) {
    if (!ix->wr)
        return cxs_err_set(err, CXS_ERR_INVALID, "index opened read-only");
    cxs_status rc = ix->pipe ? cxs_pipeline_drain(ix->pipe, err) : CXS_OK;
    if (rc == CXS_OK && ix->shards)
        rc = merge_shards(ix, err);
    return rc == CXS_OK ? commit_now(ix, err) : rc;
}

/* Commits what has been applied, without waiting for the pipeline. */
static cxs_status commit_now(cxs_index *ix, cxs_err *err) {
    char now[21];
    cxs_date_format_utc(time(NULL), now);
    cxs_status rc = CXS_OK;
    if (ix->pending)
        rc = cxs_xwdb_set_metadata(ix->wr, "cxs.last_update", now, err);
    /* A batch of many posts (an import) keeps only repeated words for
     * spelling; a few posts (the API) keep every word. */
    cxs_xwdb_set_spelling_min(ix->wr, ix->pending >= SPELLING_BATCH ? 2 : 1);
    if (rc == CXS_OK)
        rc = cxs_xwdb_commit(ix->wr, err);
    if (rc == CXS_OK)
        ix->pending = 0;
    return rc;
}
