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

#define TITLE_POS_GAP 100 /* title terms sit after the text's positions */

void cxs_index_config_init(cxs_index_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->analyzer.use_lemmas = 1;
    cfg->max_query_len = 4096;
    cfg->batch_size = 5000;
    cfg->recency_halflife_days = 365;
}

static cxs_status index_new(const cxs_index_config *cfg, cxs_index **out,
                            cxs_err *err) {
    cxs_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (cfg)
        ix->cfg = *cfg;
    else
        cxs_index_config_init(&ix->cfg);
    cxs_status rc = cxs_analyzer_new(&ix->cfg.analyzer, &ix->an, err);
    if (rc == CXS_OK && ix->cfg.synonyms_path)
        rc = cxs_synonyms_load(ix->cfg.synonyms_path, ix->an, &ix->syn, err);
    if (rc != CXS_OK) {
        cxs_index_close(ix);
        return rc;
    }
    *out = ix;
    return CXS_OK;
}

cxs_status cxs_index_open_reader(const char *const *paths, size_t npaths,
                                 const cxs_index_config *cfg, cxs_index **out,
                                 cxs_err *err) {
    *out = NULL;
    cxs_index *ix = NULL;
    cxs_status rc = index_new(cfg, &ix, err);
    if (rc != CXS_OK)
        return rc;
    ix->paths = calloc(npaths, sizeof *ix->paths);
    rc = ix->paths ? CXS_OK : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < npaths && rc == CXS_OK; i++, ix->npaths++)
        if (!(ix->paths[i] = strdup(paths[i])))
            rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc == CXS_OK)
        rc = cxs_xdb_open(paths, npaths, &ix->rd, err);
    if (rc != CXS_OK) {
        cxs_index_close(ix);
        return rc;
    }
    *out = ix;
    return CXS_OK;
}

cxs_status cxs_index_open_writer(const char *path, const cxs_index_config *cfg,
                                 cxs_index **out, cxs_err *err) {
    *out = NULL;
    cxs_index *ix = NULL;
    cxs_status rc = index_new(cfg, &ix, err);
    if (rc != CXS_OK)
        return rc;
    ix->path = strdup(path);
    rc = ix->path ? cxs_xwdb_open(path, &ix->wr, err)
                  : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
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
    cxs_xdb_close(ix->rd);
    cxs_xwdb_close(ix->wr);
    cxs_synonyms_free(ix->syn);
    cxs_analyzer_free(ix->an);
    cxs_buf_release(&ix->term);
    cxs_buf_release(&ix->data);
    free(ix->path);
    for (size_t i = 0; i < ix->npaths; i++)
        free(ix->paths[i]);
    free(ix->paths);
    free(ix);
}

cxs_status cxs_index_reopen(cxs_index *ix, int *changed, cxs_err *err) {
    if (!ix->rd)
        return cxs_err_set(err, CXS_ERR_INVALID, "not a reader");
    return cxs_xdb_reopen(ix->rd, changed, err);
}

cxs_analyzer *cxs_index_analyzer(cxs_index *ix) {
    return ix->an;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

typedef struct doc_build {
    cxs_index *ix;
    cxs_xdoc *doc;
    unsigned pos_base;
    unsigned max_pos;
    cxs_status rc;
} doc_build;

/* A word worth a spelling entry: a plain word of 3+ letters, no digits. */
static int spelling_worthy(const cxs_token *tok) {
    if (tok->kind != CXS_TOK_WORD || (tok->flags & CXS_TOKF_STOPWORD) ||
        (tok->flags & CXS_TOKF_COMPOUND) || tok->form_len < 3)
        return 0;
    for (size_t i = 0; i < tok->form_len; i++)
        if ((tok->form[i] >= '0' && tok->form[i] <= '9') || tok->form[i] == '-')
            return 0;
    return 1;
}

static int doc_term_cb(void *ud, cxs_term_kind kind, const char *term,
                       size_t len, const cxs_token *tok) {
    doc_build *b = ud;
    cxs_buf *t = &b->ix->term;
    if (kind != CXS_TERM_EXACT && kind != CXS_TERM_TAG && len == tok->form_len &&
        memcmp(term, tok->form, len) == 0)
        return 0; /* the exact term stands for it (see layout above) */
    cxs_buf_reset(t);
    b->rc = cxs_buf_appends(t, cxs_terms_prefix(kind));
    if (b->rc == CXS_OK)
        b->rc = cxs_buf_append(t, term, len);
    if (b->rc != CXS_OK || t->len > 240)
        return b->rc != CXS_OK;
    unsigned pos = b->pos_base + tok->pos + 1; /* Xapian positions from 1 */
    if (pos > b->max_pos)
        b->max_pos = pos;
    if (kind == CXS_TERM_TAG)
        b->rc = cxs_xdoc_term(b->doc, t->data, t->len, 0);
    else if (kind == CXS_TERM_STEM || kind == CXS_TERM_ASCII)
        b->rc = cxs_xdoc_term(b->doc, t->data, t->len, 1);
    else
        b->rc = cxs_xdoc_posting(b->doc, t->data, t->len, pos, 1);
    if (b->rc == CXS_OK && kind == CXS_TERM_EXACT && len == tok->form_len &&
        memcmp(term, tok->form, len) == 0 && spelling_worthy(tok) &&
        b->pos_base == 0)
        b->rc = cxs_xwdb_add_spelling(b->ix->wr, term, len, NULL);
    return b->rc != CXS_OK;
}

static cxs_status add_field(cxs_index *ix, cxs_xdoc *doc, const char *prefix,
                            const char *value) {
    if (!value || !*value)
        return CXS_OK;
    cxs_buf_reset(&ix->term);
    cxs_status rc = cxs_terms_field(prefix, value, &ix->term);
    if (rc == CXS_OK && ix->term.len > strlen(prefix))
        rc = cxs_xdoc_term(doc, ix->term.data, ix->term.len, 0);
    return rc;
}

static cxs_status add_value(cxs_xdoc *doc, unsigned slot, const char *v) {
    return v && *v ? cxs_xdoc_value(doc, slot, v, strlen(v)) : CXS_OK;
}

static cxs_status add_dates(cxs_xdoc *doc, const char *date) {
    char compact[15];
    time_t t;
    if (!date || cxs_date_parse(date, compact, &t) < 0)
        return CXS_OK;
    char year[5];
    memcpy(year, compact, 4);
    year[4] = '\0';
    cxs_status rc = cxs_xdoc_value(doc, CXS_SLOT_DATE, compact, 14);
    if (rc == CXS_OK)
        rc = cxs_xdoc_value(doc, CXS_SLOT_YEAR, year, 4);
    if (rc == CXS_OK)
        rc = cxs_xdoc_value_number(doc, CXS_SLOT_TIME, (double)t);
    if (rc == CXS_OK) {
        char term[8];
        memcpy(term, CXS_PFX_YEAR, 2);
        memcpy(term + 2, year, 5);
        rc = cxs_xdoc_term(doc, term, 6, 0);
    }
    return rc;
}

static cxs_status add_tags(cxs_index *ix, cxs_xdoc *doc, const cxs_post *p) {
    cxs_buf joined = CXS_BUF_INIT;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < p->ntags && rc == CXS_OK; i++) {
        rc = add_field(ix, doc, CXS_PFX_TAG, p->tags[i]);
        if (rc == CXS_OK && i)
            rc = cxs_buf_appendc(&joined, '\x1f');
        if (rc == CXS_OK)
            rc = cxs_buf_appends(&joined, p->tags[i]);
    }
    if (rc == CXS_OK && joined.len)
        rc = cxs_xdoc_value(doc, CXS_SLOT_TAGS, joined.data, joined.len);
    cxs_buf_release(&joined);
    return rc;
}

static cxs_status add_fields(cxs_index *ix, cxs_xdoc *doc, const cxs_post *p) {
    char hash[2 + 17];
    snprintf(hash, sizeof hash, "%s%016llx", CXS_PFX_HASH,
             cxs_post_text_hash(p->text, strlen(p->text)));
    cxs_status rc = cxs_xdoc_term(doc, hash, strlen(hash), 0);
    if (rc == CXS_OK)
        rc = add_field(ix, doc, CXS_PFX_CHANNEL, p->channel);
    if (rc == CXS_OK)
        rc = add_field(ix, doc, CXS_PFX_AUTHOR, p->author);
    if (rc == CXS_OK)
        rc = add_field(ix, doc, CXS_PFX_LANG, p->lang);
    if (rc == CXS_OK)
        rc = add_value(doc, CXS_SLOT_CHANNEL, p->channel);
    if (rc == CXS_OK)
        rc = add_value(doc, CXS_SLOT_AUTHOR, p->author);
    if (rc == CXS_OK)
        rc = add_value(doc, CXS_SLOT_LANG, p->lang);
    if (rc == CXS_OK)
        rc = add_dates(doc, p->date);
    if (rc == CXS_OK)
        rc = add_tags(ix, doc, p);
    return rc;
}

/* The title is usually the text's first line; index it separately only
 * when it is not. */
static int title_in_text(const cxs_post *p) {
    return !p->title || strstr(p->text, p->title) != NULL;
}

static cxs_status add_text(cxs_index *ix, cxs_xdoc *doc, const cxs_post *p,
                           cxs_err *err) {
    cxs_lang lang = cxs_lang_from_code(p->lang);
    doc_build b = {ix, doc, 0, 0, CXS_OK};
    cxs_status rc = cxs_analyzer_terms(ix->an, p->text, strlen(p->text), lang,
                                       doc_term_cb, &b, err);
    if (rc == CXS_OK && b.rc == CXS_OK && !title_in_text(p)) {
        b.pos_base = b.max_pos + TITLE_POS_GAP;
        rc = cxs_analyzer_terms(ix->an, p->title, strlen(p->title), lang,
                                doc_term_cb, &b, err);
    }
    if (rc == CXS_OK && b.rc != CXS_OK)
        rc = cxs_err_set(err, b.rc, "cannot add terms of post %s", p->id);
    return rc;
}

static cxs_status detect_lang(cxs_index *ix, cxs_post *p) {
    if (cxs_lang_from_code(p->lang) != CXS_LANG_UNKNOWN)
        return CXS_OK;
    cxs_lang l = cxs_analyzer_detect_lang(ix->an, p->text, strlen(p->text));
    if (l == CXS_LANG_UNKNOWN)
        return CXS_OK;
    const char *code = cxs_lang_code(l);
    return cxs_post_set(&p->lang, code, strlen(code));
}

static cxs_status serialize(cxs_index *ix, const cxs_post *p, cxs_err *err) {
    json_t *obj = cxs_post_to_json(p);
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!s)
        return cxs_err_set(err, CXS_ERR_NOMEM, "cannot serialize post %s",
                           p->id);
    cxs_buf_reset(&ix->data);
    cxs_status rc = cxs_buf_appends(&ix->data, s);
    free(s);
    return rc;
}

/* Says whether the stored copy of the post equals data. */
static cxs_status compare_stored(cxs_index *ix, const char *idterm,
                                 cxs_put_result *res, cxs_err *err) {
    cxs_buf old = CXS_BUF_INIT;
    int found = 0;
    cxs_status rc =
        cxs_xwdb_find_data(ix->wr, idterm, strlen(idterm), &old, &found, err);
    if (rc == CXS_OK)
        *res = !found ? CXS_PUT_ADDED
               : old.len == ix->data.len &&
                       memcmp(old.data, ix->data.data, old.len) == 0
                   ? CXS_PUT_UNCHANGED
                   : CXS_PUT_UPDATED;
    cxs_buf_release(&old);
    return rc;
}

static cxs_status build_doc(cxs_index *ix, const cxs_post *p, cxs_xdoc *doc,
                            cxs_err *err) {
    cxs_status rc = add_text(ix, doc, p, err);
    if (rc == CXS_OK && (rc = add_fields(ix, doc, p)) != CXS_OK)
        cxs_err_set(err, rc, "cannot add fields of post %s", p->id);
    if (rc == CXS_OK &&
        (rc = cxs_xdoc_data(doc, ix->data.data, ix->data.len)) != CXS_OK)
        cxs_err_set(err, rc, "cannot store post %s", p->id);
    return rc;
}

static cxs_status put_doc(cxs_index *ix, const cxs_post *p, const char *idterm,
                          cxs_err *err) {
    cxs_xdoc *doc = cxs_xdoc_new();
    if (!doc)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    cxs_status rc = build_doc(ix, p, doc, err);
    if (rc == CXS_OK)
        rc = cxs_xdoc_term(doc, idterm, strlen(idterm), 0);
    if (rc == CXS_OK)
        rc = cxs_xwdb_replace(ix->wr, idterm, strlen(idterm), doc, err);
    cxs_xdoc_free(doc);
    return rc;
}

cxs_status cxs_index_put(cxs_index *ix, cxs_post *post, cxs_put_result *res,
                         cxs_err *err) {
    if (!ix->wr)
        return cxs_err_set(err, CXS_ERR_INVALID, "index opened read-only");
    if (!post->id || !post->text)
        return cxs_err_set(err, CXS_ERR_INVALID, "post without id or text");
    cxs_put_result r = CXS_PUT_ADDED;
    char *idterm = malloc(strlen(post->id) + 2);
    if (!idterm)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    strcpy(idterm, CXS_PFX_ID);
    strcat(idterm, post->id);
    cxs_status rc = detect_lang(ix, post);
    if (rc == CXS_OK)
        rc = serialize(ix, post, err);
    if (rc == CXS_OK)
        rc = compare_stored(ix, idterm, &r, err);
    if (rc == CXS_OK && r != CXS_PUT_UNCHANGED)
        rc = put_doc(ix, post, idterm, err);
    free(idterm);
    if (rc == CXS_OK && r != CXS_PUT_UNCHANGED &&
        ++ix->pending >= ix->cfg.batch_size && ix->cfg.batch_size)
        rc = cxs_index_commit(ix, err);
    if (res)
        *res = r;
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
        rc = cxs_xwdb_delete(ix->wr, ix->term.data, ix->term.len, &existed,
                             err);
    if (rc == CXS_OK && !existed)
        return cxs_err_set(err, CXS_ERR_NOT_FOUND, "no post with id '%s'", id);
    if (rc == CXS_OK)
        ix->pending++;
    return rc;
}

cxs_status cxs_index_commit(cxs_index *ix, cxs_err *err) {
    if (!ix->wr)
        return cxs_err_set(err, CXS_ERR_INVALID, "index opened read-only");
    char now[21];
    cxs_date_format_utc(time(NULL), now);
    cxs_status rc = CXS_OK;
    if (ix->pending)
        rc = cxs_xwdb_set_metadata(ix->wr, "cxs.last_update", now, err);
    if (rc == CXS_OK)
        rc = cxs_xwdb_commit(ix->wr, err);
    if (rc == CXS_OK)
        ix->pending = 0;
    return rc;
}
