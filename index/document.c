/*
 * document.c - a post turned into a Xapian document, ready for the writer.
 *
 * Layout of a post in Xapian (terms.h): its text analyzed into terms of
 * four classes (exact, accent-free, lemma, stem). Positions, the costliest
 * part of an index to write and store, are kept for one form per word: its
 * lemmas when the dictionary knows it under another form, else its exact
 * form. Phrases match through either (the query side ORs both), so
 * "путь клиента" finds "пути клиентов" as in PostgreSQL; a second copy of
 * every position on the inflected form would buy nothing. Stopwords keep
 * none: phrases check the order of the other words. A lemma, stem or
 * accent-free form equal to the word's exact form is not stored at all:
 * the query side also looks such variants up as exact terms, so the exact
 * term stands for them. Stems are kept only for words without a lemma.
 * Boolean terms for id, channel, author, language,
 * tags and text hash; values for sorting and facets; the post itself
 * as document data (stored.h), so a hit is returned without a second
 * lookup, followed by the text's resume points for snippets
 * (checkpoints.h), gathered from the tokens the text analysis sees anyway.
 *
 * Preparing needs no database, only an analyzer, so it runs on any thread
 * (pipeline.c); the writer then applies prepared documents in order.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"
#include "index_internal.h"
#include "stored.h"
#include "terms.h"

#define TITLE_POS_GAP 100 /* title terms sit after the text's positions */

typedef struct doc_build {
    cxs_doc_maker *m;
    cxs_xdoc *doc;
    unsigned pos_base;
    unsigned max_pos;
    cxs_status rc;
    /* The token (by start and position) that last reported a lemma. */
    size_t lemma_start;
    unsigned lemma_pos;
    int lemma_seen;
    /* The current word's exact form, held back until its lemmas are known:
     * it takes positions only if no lemma stands in for it. */
    char pend[256]; /* terms are at most 240 bytes (doc_term_cb) */
    size_t pend_len;
    unsigned pend_pos;
    /* the held word's token, by start and position */
    size_t pend_tok_start;
    unsigned pend_tok_pos;
    int pend_lemma_other; /* a lemma other than the form was stored */
    int pend_lemma_same;  /* a lemma equal to the form: exact stands for it */
} doc_build;

/* Adds a term with its position, and tells the phrase finder. */
static cxs_status positioned(doc_build *b, const char *t, size_t len,
                             unsigned pos) {
    cxs_status rc = cxs_xdoc_posting(b->doc, t, len, pos, 1);
    if (rc == CXS_OK && b->m->phrases)
        rc = cxs_phrase_doc_add(&b->m->pdoc, pos, t, len);
    return rc;
}

/* Adds the held-back exact form, with its position unless a lemma of the
 * word carries it. */
static void flush_exact(doc_build *b) {
    if (!b->pend_len || b->rc != CXS_OK)
        return;
    if (b->pend_lemma_other && !b->pend_lemma_same)
        b->rc = cxs_xdoc_term(b->doc, b->pend, b->pend_len, 1);
    else
        b->rc = positioned(b, b->pend, b->pend_len, b->pend_pos);
    b->pend_len = 0;
}

static void hold_exact(doc_build *b, const char *t, size_t len, unsigned pos,
                       const cxs_token *tok) {
    flush_exact(b);
    memcpy(b->pend, t, len);
    b->pend_len = len;
    b->pend_pos = pos;
    b->pend_tok_start = tok->start;
    b->pend_tok_pos = tok->pos;
    b->pend_lemma_other = b->pend_lemma_same = 0;
}

/* Snowball stems are the fallback for words the dictionary does not know
 * (issue 3, rule 9): a word with a lemma keeps no stem. The analyzer
 * reports a word's lemmas before its stem. */
static int stem_not_needed(doc_build *b, cxs_term_kind kind,
                           const cxs_token *tok) {
    if (kind == CXS_TERM_LEMMA) {
        b->lemma_seen = 1;
        b->lemma_start = tok->start;
        b->lemma_pos = tok->pos;
        return 0;
    }
    return kind == CXS_TERM_STEM && b->lemma_seen &&
           b->lemma_start == tok->start && b->lemma_pos == tok->pos;
}

static int held(const doc_build *b, const cxs_token *tok) {
    return b->pend_len && b->pend_tok_start == tok->start &&
           b->pend_tok_pos == tok->pos;
}

static int doc_term_cb(void *ud, cxs_term_kind kind, const char *term,
                       size_t len, const cxs_token *tok) {
    doc_build *b = ud;
    cxs_buf *t = &b->m->term;
    if (b->pos_base == 0 &&
        (b->rc = cxs_checkpoints_token(&b->m->marks, tok)) != CXS_OK)
        return 1;
    if (stem_not_needed(b, kind, tok))
        return 0;
    int is_form = len == tok->form_len && memcmp(term, tok->form, len) == 0;
    /* Stopwords keep no positions: a fifth of all positions, and phrases
     * only check the order of the other words (query/query.c). */
    int positional = !(tok->flags & CXS_TOKF_STOPWORD);
    if (kind != CXS_TERM_EXACT && kind != CXS_TERM_TAG && is_form) {
        if (kind == CXS_TERM_LEMMA && held(b, tok))
            b->pend_lemma_same = 1;
        return 0; /* the exact term stands for it (see layout above) */
    }
    cxs_buf_reset(t);
    b->rc = cxs_buf_appends(t, cxs_terms_prefix(kind));
    if (b->rc == CXS_OK)
        b->rc = cxs_buf_append(t, term, len);
    if (b->rc != CXS_OK || t->len > 240)
        return b->rc != CXS_OK;
    unsigned pos = b->pos_base + tok->pos + 1; /* Xapian positions from 1 */
    if (pos > b->max_pos)
        b->max_pos = pos;
    if (kind == CXS_TERM_EXACT && is_form && positional)
        hold_exact(b, t->data, t->len, pos, tok);
    else if (kind == CXS_TERM_TAG)
        b->rc = cxs_xdoc_term(b->doc, t->data, t->len, 0);
    else if (kind == CXS_TERM_STEM || kind == CXS_TERM_ASCII || !positional)
        b->rc = cxs_xdoc_term(b->doc, t->data, t->len, 1);
    else
        b->rc = positioned(b, t->data, t->len, pos);
    if (b->rc == CXS_OK && kind == CXS_TERM_LEMMA && held(b, tok))
        b->pend_lemma_other = 1;
    return b->rc != CXS_OK;
}

static cxs_status add_field(cxs_doc_maker *m, cxs_xdoc *doc, const char *prefix,
                            const char *value) {
    if (!value || !*value)
        return CXS_OK;
    cxs_buf_reset(&m->term);
    cxs_status rc = cxs_terms_field(prefix, value, &m->term);
    if (rc == CXS_OK && m->term.len > strlen(prefix))
        rc = cxs_xdoc_term(doc, m->term.data, m->term.len, 0);
    return rc;
}

static cxs_status add_value(cxs_xdoc *doc, unsigned slot, const char *v) {
    return v && *v ? cxs_xdoc_value(doc, slot, v, strlen(v)) : CXS_OK;
}

static cxs_status add_dates(cxs_xdoc *doc, const char *date) {
    char compact[15];
    time_t t;
    if (!date || !cxs_date_parse(date, compact, &t))
        return CXS_OK;
    char year[5];
    memcpy(year, compact, 4);
    year[4] = '\0';
    cxs_status rc = cxs_xdoc_value(doc, CXS_SLOT_DATE, compact, 14);
    if (rc == CXS_OK)
        rc = cxs_xdoc_value(doc, CXS_SLOT_YEAR, year, 4);
    /* No year term: year filters are ranges on CXS_SLOT_DATE, and the
     * year facet reads CXS_SLOT_YEAR; a term nobody queried cost a
     * posting and a term-list entry per post. */
    if (rc == CXS_OK)
        rc = cxs_xdoc_value_number(doc, CXS_SLOT_TIME, (double)t);
    return rc;
}

static cxs_status add_tags(cxs_doc_maker *m, cxs_xdoc *doc, const cxs_post *p) {
    cxs_buf joined = CXS_BUF_INIT;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < p->ntags && rc == CXS_OK; i++) {
        rc = add_field(m, doc, CXS_PFX_TAG, p->tags[i]);
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

static cxs_status add_fields(cxs_doc_maker *m, cxs_xdoc *doc,
                             const cxs_post *p) {
    char hash[2 + 17];
    snprintf(hash, sizeof hash, "%s%016llx", CXS_PFX_HASH,
             cxs_post_text_hash(p->text, strlen(p->text)));
    cxs_status rc = cxs_xdoc_term(doc, hash, strlen(hash), 0);
    if (rc == CXS_OK)
        rc = add_field(m, doc, CXS_PFX_CHANNEL, p->channel);
    if (rc == CXS_OK)
        rc = add_field(m, doc, CXS_PFX_AUTHOR, p->author);
    if (rc == CXS_OK)
        rc = add_field(m, doc, CXS_PFX_LANG, p->lang);
    if (rc == CXS_OK)
        rc = add_value(doc, CXS_SLOT_CHANNEL, p->channel);
    if (rc == CXS_OK)
        rc = add_value(doc, CXS_SLOT_AUTHOR, p->author);
    if (rc == CXS_OK)
        rc = add_value(doc, CXS_SLOT_LANG, p->lang);
    if (rc == CXS_OK)
        rc = add_dates(doc, p->date);
    if (rc == CXS_OK)
        rc = add_tags(m, doc, p);
    return rc;
}

/* The title is usually the text's first line; index it separately only
 * when it is not. */
static int title_in_text(const cxs_post *p) {
    return !p->title || strstr(p->text, p->title) != NULL;
}

static cxs_status add_text(cxs_doc_maker *m, cxs_xdoc *doc, const cxs_post *p,
                           cxs_err *err) {
    cxs_lang lang = cxs_lang_from_code(p->lang);
    doc_build b;
    memset(&b, 0, sizeof b);
    b.m = m;
    b.doc = doc;
    b.rc = CXS_OK;
    size_t len = strlen(p->text);
    cxs_checkpoints_begin(&m->marks, p->text, len);
    cxs_status rc = cxs_stemmers_terms(m->an, p->text, len, lang, doc_term_cb,
                                       &b, err);
    flush_exact(&b);
    if (rc == CXS_OK && b.rc == CXS_OK)
        b.rc = cxs_checkpoints_append(&m->marks, &m->data);
    if (rc == CXS_OK && b.rc == CXS_OK && !title_in_text(p)) {
        b.pos_base = b.max_pos + TITLE_POS_GAP;
        rc = cxs_stemmers_terms(m->an, p->title, strlen(p->title), lang,
                                doc_term_cb, &b, err);
        flush_exact(&b);
    }
    if (rc == CXS_OK && b.rc != CXS_OK)
        rc = cxs_err_set(err, b.rc, "cannot add terms of post %s", p->id);
    return rc;
}

static cxs_status add_phrase(void *ud, const char *term, size_t len) {
    return cxs_xdoc_term(ud, term, len, 1);
}

/* One term per glossary phrase the post holds (phrases.h). */
static cxs_status add_phrases(cxs_doc_maker *m, cxs_xdoc *doc,
                              const cxs_post *p, cxs_err *err) {
    cxs_status rc = cxs_phrases_find(m->phrases, &m->pdoc, add_phrase, doc);
    cxs_phrase_doc_reset(&m->pdoc);
    return rc == CXS_OK
               ? rc
               : cxs_err_set(err, rc, "cannot add phrases of post %s", p->id);
}

static cxs_status detect_lang(cxs_doc_maker *m, cxs_post *p) {
    if (cxs_lang_from_code(p->lang) != CXS_LANG_UNKNOWN)
        return CXS_OK;
    cxs_lang l = cxs_stemmers_detect_lang(m->an, p->text, strlen(p->text));
    if (l == CXS_LANG_UNKNOWN)
        return CXS_OK;
    const char *code = cxs_lang_code(l);
    return cxs_post_set(&p->lang, code, strlen(code));
}

static cxs_status serialize(cxs_doc_maker *m, const cxs_post *p, cxs_err *err) {
    cxs_buf_reset(&m->data);
    cxs_status rc = cxs_stored_encode(p, &m->data);
    return rc == CXS_OK
               ? rc
               : cxs_err_set(err, rc, "cannot serialize post %s", p->id);
}

static cxs_status build_doc(cxs_doc_maker *m, const cxs_post *p, cxs_xdoc *doc,
                            cxs_err *err) {
    cxs_phrase_doc_reset(&m->pdoc);
    cxs_status rc = add_text(m, doc, p, err);
    if (rc == CXS_OK)
        rc = add_phrases(m, doc, p, err);
    if (rc == CXS_OK && (rc = add_fields(m, doc, p)) != CXS_OK)
        cxs_err_set(err, rc, "cannot add fields of post %s", p->id);
    if (rc == CXS_OK &&
        (rc = cxs_xdoc_data(doc, m->data.data, m->data.len)) != CXS_OK)
        cxs_err_set(err, rc, "cannot store post %s", p->id);
    return rc;
}

void cxs_doc_maker_release(cxs_doc_maker *m) {
    cxs_buf_release(&m->term);
    cxs_buf_release(&m->data);
    cxs_checkpoints_release(&m->marks);
    cxs_phrase_doc_release(&m->pdoc);
}

void cxs_prepared_release(cxs_prepared *p) {
    free(p->idterm);
    free(p->data);
    cxs_xdoc_free(p->doc);
    memset(p, 0, sizeof *p);
}

static cxs_status prepare(cxs_doc_maker *m, cxs_post *post, cxs_prepared *out,
                          cxs_err *err) {
    size_t idlen = strlen(post->id);
    out->idterm = malloc(idlen + 2);
    out->doc = cxs_xdoc_new();
    if (!out->idterm || !out->doc)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    memcpy(out->idterm, CXS_PFX_ID, 1);
    memcpy(out->idterm + 1, post->id, idlen + 1);
    cxs_status rc = detect_lang(m, post);
    if (rc == CXS_OK)
        rc = serialize(m, post, err);
    if (rc == CXS_OK)
        rc = build_doc(m, post, out->doc, err);
    if (rc == CXS_OK)
        rc = cxs_xdoc_term(out->doc, out->idterm, idlen + 1, 0);
    if (rc != CXS_OK)
        return rc;
    out->data_len = m->data.len;
    out->data = cxs_buf_detach(&m->data);
    return out->data ? CXS_OK
                     : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
}

cxs_status cxs_doc_prepare(cxs_doc_maker *m, cxs_post *post, cxs_prepared *out,
                           cxs_err *err) {
    memset(out, 0, sizeof *out);
    if (!post->id || !post->text)
        return cxs_err_set(err, CXS_ERR_INVALID, "post without id or text");
    cxs_status rc = prepare(m, post, out, err);
    if (rc != CXS_OK)
        cxs_prepared_release(out);
    return rc;
}
