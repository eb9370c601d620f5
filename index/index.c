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
 * for id, channel, author, language, tags and text hash, values for
 * sorting and facets, and the post's JSON as document data, so a hit is
 * returned without a second lookup.
 *
 * The writer batches: changes become visible at commit, which cxs_index_put
 * also triggers every batch_size posts. A writer closed without commit
 * discards its batch; Xapian's commit is atomic, so a killed import leaves
 * the last committed batch.
 */
#include "index_internal.h"

#include <stdint.h>
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
 * which it recognized. Shards searched as one must all say the same (each
 * got its list when it was created; `cxsearch index --shards` gives them
 * one): else, or with a shard down, phrases are searched by positions. */
static cxs_status reader_phrases(cxs_index *ix, cxs_err *err) {
    cxs_buf src = CXS_BUF_INIT, other = CXS_BUF_INIT;
    cxs_status rc = cxs_xdb_shard_metadata(ix->rd, 0, CXS_META_PHRASES, &src,
                                           err);
    for (size_t i = 1; i < ix->npaths && rc == CXS_OK; i++) {
        cxs_buf_reset(&other);
        rc = cxs_xdb_shard_metadata(ix->rd, i, CXS_META_PHRASES, &other, err);
        if (rc == CXS_OK && (other.len != src.len ||
                             memcmp(other.data, src.data, src.len) != 0))
            cxs_buf_reset(&src);
    }
    if (rc == CXS_OK)
        rc = use_phrases(ix, &src, err);
    cxs_buf_release(&src);
    cxs_buf_release(&other);
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
        if (rc == CXS_OK && src.len) /* data is NUL-terminated (cxs_buf.h) */
            rc = cxs_xwdb_set_metadata(ix->wr, CXS_META_PHRASES, src.data, err);
    }
    if (rc == CXS_OK)
        rc = use_phrases(ix, &src, err);
    cxs_buf_release(&src);
    return rc;
}

/* The remote shards' settings from the index configuration. */
static void shard_opts(const cxs_index_config *cfg, cxs_xdb_opts *o) {
    cxs_xdb_opts_init(o);
    if (cfg->shard_connect_timeout_ms)
        o->connect_timeout_ms = cfg->shard_connect_timeout_ms;
    if (cfg->shard_timeout_ms)
        o->timeout_ms = cfg->shard_timeout_ms;
    if (cfg->shard_retry_ms)
        o->retry_ms = cfg->shard_retry_ms;
    o->partial = cfg->shard_partial;
}

int cxs_index_path_is_remote(const char *path) {
    return strncmp(path, "tcp://", 6) == 0 || strncmp(path, "ssh://", 6) == 0 ||
           strncmp(path, "prog:", 5) == 0;
}

cxs_status cxs_index_open_db(const cxs_index *ix, cxs_xdb **out,
                             cxs_err *err) {
    cxs_xdb_opts o;
    shard_opts(&ix->cfg, &o);
    return cxs_xdb_open_opts((const char *const *)ix->paths, ix->npaths, &o,
                             out, err);
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
    cxs_xdb_opts o;
    shard_opts(&ix->cfg, &o);
    if (rc == CXS_OK)
        rc = cxs_xdb_open_opts(paths, npaths, &o, &ix->rd, err);
    if (rc == CXS_OK)
        rc = reader_phrases(ix, err);
    if (rc == CXS_OK && !ix->cfg.forgive.off && !ix->cfg.forgive.no_translit)
        cxs_stemmers_translit_prepare(ix->an); /* not on a query's time */
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
    cxs_xdb_opts o;
    shard_opts(&ix->cfg, &o);
    ix->path = strdup(path);
    rc = ix->path ? cxs_xwdb_open_opts(path, &o, &ix->wr, err)
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

unsigned cxs_index_shard_of(const char *id, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *c = (const unsigned char *)id; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return n ? (unsigned)(h % n) : 0;
}

/* Prefixes err's message with the shard that failed. */
static void name_shard(cxs_err *err, cxs_status rc, const char *name) {
    if (!err)
        return;
    char msg[CXS_ERR_MSG_MAX];
    memcpy(msg, err->msg, sizeof msg); /* the message is rewritten in place */
    cxs_err_set(err, rc, "shard %s: %s", name, msg);
}

/* Records the phrase list src (not NUL-terminated) in a new database. */
static cxs_status set_phrases(cxs_xwdb *w, const cxs_buf *src, cxs_err *err) {
    cxs_buf v = CXS_BUF_INIT;
    cxs_status rc = cxs_buf_append(&v, src->data, src->len);
    if (rc == CXS_OK)
        rc = cxs_buf_appendc(&v, '\0');
    if (rc == CXS_OK)
        rc = cxs_xwdb_set_metadata(w, CXS_META_PHRASES, v.data, err);
    cxs_buf_release(&v);
    return rc;
}

cxs_status cxs_index_open_writers(const char *const *paths, size_t npaths,
                                  const cxs_index_config *cfg, cxs_index **out,
                                  cxs_err *err) {
    if (npaths == 1)
        return cxs_index_open_writer(paths[0], cfg, out, err);
    cxs_index_config one = *cfg;
    one.workers = one.shards = 0; /* routing is per post, on this thread */
    cxs_status rc = npaths ? cxs_index_open_writer(paths[0], &one, out, err)
                           : cxs_err_set(err, CXS_ERR_INVALID, "no index");
    cxs_index *ix = *out;
    if (rc != CXS_OK)
        return rc;
    ix->wrs = calloc(npaths, sizeof *ix->wrs);
    ix->dirty = calloc(npaths, 1);
    ix->paths = calloc(npaths, sizeof *ix->paths); /* to name them */
    for (size_t i = 0; ix->paths && i < npaths; i++, ix->npaths++)
        if (!(ix->paths[i] = strdup(paths[i])))
            break;
    if (!ix->wrs || !ix->dirty || ix->npaths < npaths)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    else
        ix->wrs[ix->nwrs++] = ix->wr;
    cxs_xdb_opts o;
    shard_opts(&ix->cfg, &o);
    for (size_t i = 1; i < npaths && rc == CXS_OK; i++) {
        rc = cxs_xwdb_open_opts(paths[i], &o, &ix->wrs[i], err);
        if (rc == CXS_OK)
            ix->nwrs++;
        else
            name_shard(err, rc, paths[i]);
        /* A new shard recognizes the first one's phrases, and says so. */
        if (rc == CXS_OK && ix->phrases_src.len &&
            cxs_xwdb_doccount(ix->wrs[i]) == 0)
            rc = set_phrases(ix->wrs[i], &ix->phrases_src, err);
        if (rc == CXS_OK)
            ix->dirty[i] = 1; /* committed even when no post comes */
    }
    if (rc != CXS_OK) {
        cxs_index_close(ix);
        *out = NULL;
    }
    return rc;
}

/* Points ix->wr at the shard holding idterm (*found = 1) or, when none
 * does, at the shard a new post goes to. One question per shard at most,
 * the likeliest first. */
static cxs_status route(cxs_index *ix, const char *id, const char *idterm,
                        int *found, cxs_err *err) {
    *found = 0;
    if (ix->nwrs < 2)
        return CXS_OK;
    size_t home = cxs_index_shard_of(id, ix->nwrs);
    cxs_status rc = CXS_OK;
    for (size_t k = 0; k < ix->nwrs && rc == CXS_OK && !*found; k++) {
        size_t i = (home + k) % ix->nwrs;
        rc = cxs_xwdb_has(ix->wrs[i], idterm, strlen(idterm), found, err);
        if (rc == CXS_OK && *found)
            home = i;
        else if (rc != CXS_OK)
            name_shard(err, rc, ix->paths[i]);
    }
    ix->wr = ix->wrs[home];
    return rc;
}

/* The shard ix->wr now has changes to commit. */
static void touched(cxs_index *ix) {
    for (size_t i = 0; i < ix->nwrs; i++)
        if (ix->wrs[i] == ix->wr)
            ix->dirty[i] = 1;
}

void cxs_index_close(cxs_index *ix) {
    if (!ix)
        return;
    cxs_pipeline_stop(ix->pipe);  /* prepared posts not applied are dropped */
    cxs_shards_abort(ix->shards); /* a new index not merged stays empty */
    cxs_index_lexicon_drop(ix);
    cxs_xdb_close(ix->rd);
    if (!ix->nwrs)
        cxs_xwdb_close(ix->wr);
    for (size_t i = 0; i < ix->nwrs; i++)
        cxs_xwdb_close(ix->wrs[i]);
    free(ix->wrs);
    free(ix->dirty);
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
    size_t n = cxs_checkpoints_split(old->data, old->len, NULL, NULL);
    return n == cxs_checkpoints_split(p->data, p->data_len, NULL, NULL) &&
                   memcmp(old->data, p->data, n) == 0
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

cxs_status cxs_index_apply(cxs_index *ix, cxs_prepared *p, cxs_put_result *res,
                           cxs_err *err) {
    cxs_put_result r = CXS_PUT_ADDED;
    cxs_status rc = compare_stored(ix, p, &r, err);
    /* compare_stored has just looked the id up: a new one is added
     * without replace_document's second lookup. */
    if (rc == CXS_OK && r == CXS_PUT_ADDED)
        rc = cxs_xwdb_add(ix->wr, p->doc, err);
    else if (rc == CXS_OK && r == CXS_PUT_UPDATED)
        rc =
            cxs_xwdb_replace(ix->wr, p->idterm, strlen(p->idterm), p->doc, err);
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
    int found = 0;
    cxs_status rc = cxs_doc_prepare(&ix->maker, post, &p, err);
    cxs_put_result r = CXS_PUT_UNCHANGED;
    if (rc == CXS_OK)
        rc = route(ix, post->id, p.idterm, &found, err);
    if (rc == CXS_OK)
        rc = cxs_index_apply(ix, &p, &r, err);
    if (rc == CXS_OK && r != CXS_PUT_UNCHANGED)
        touched(ix);
    if (res)
        *res = r;
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
        rc = route(ix, id, ix->term.data, &existed, err);
    if (rc == CXS_OK)
        rc =
            cxs_xwdb_delete(ix->wr, ix->term.data, ix->term.len, &existed, err);
    if (rc == CXS_OK && !existed)
        return cxs_err_set(err, CXS_ERR_NOT_FOUND, "no post with id '%s'", id);
    if (rc == CXS_OK) {
        ix->pending++;
        touched(ix);
    }
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

cxs_status cxs_index_meta_get(cxs_index *ix, const char *key, cxs_buf *out,
                              cxs_err *err) {
    if (!key || !*key)
        return cxs_err_set(err, CXS_ERR_INVALID, "metadata: empty key");
    if (ix->wr) /* over shards, the index's metadata is the first's */
        return cxs_xwdb_metadata(ix->nwrs ? ix->wrs[0] : ix->wr, key, out,
                                 err);
    return cxs_xdb_metadata(ix->rd, key, out, err);
}

cxs_status cxs_index_meta_set(cxs_index *ix, const char *key, const char *value,
                              cxs_err *err) {
    if (!ix->wr)
        return cxs_err_set(err, CXS_ERR_INVALID, "index opened read-only");
    if (!key || !*key || strlen(key) > 200)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "metadata: key of 1..200 bytes expected");
    if (ix->shards || ix->pipe) {
        /* Posts still in flight would be committed after the value. */
        cxs_status rc = cxs_index_commit(ix, err);
        if (rc != CXS_OK)
            return rc;
    }
    if (ix->nwrs)
        ix->dirty[0] = 1; /* committed with the next commit */
    return cxs_xwdb_set_metadata(ix->nwrs ? ix->wrs[0] : ix->wr, key,
                                 value ? value : "", err);
}

/* Commits one database, saying when it changed last. */
static cxs_status commit_one(cxs_xwdb *w, int changed, cxs_err *err) {
    char now[21];
    cxs_date_format_utc(time(NULL), now);
    cxs_status rc = CXS_OK;
    if (changed)
        rc = cxs_xwdb_set_metadata(w, "cxs.last_update", now, err);
    return rc == CXS_OK ? cxs_xwdb_commit(w, err) : rc;
}

/* Commits what has been applied, without waiting for the pipeline: the
 * database, or every shard written to. */
static cxs_status commit_now(cxs_index *ix, cxs_err *err) {
    cxs_status rc = CXS_OK;
    if (ix->nwrs < 2)
        rc = commit_one(ix->wr, ix->pending != 0, err);
    for (size_t i = 0; ix->nwrs >= 2 && i < ix->nwrs && rc == CXS_OK; i++)
        if (ix->dirty[i] && (rc = commit_one(ix->wrs[i], 1, err)) == CXS_OK)
            ix->dirty[i] = 0;
    if (rc == CXS_OK)
        ix->pending = 0;
    return rc;
}
