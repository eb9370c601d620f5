/*
 * search.c - from a request to ranked, highlighted hits (see index.h).
 *
 * request -> query parser (same analyzer as indexing) -> filters from
 * parameters -> Xapian (BM25, optional recency boost, facet spies) ->
 * relaxed retry when all-words finds nothing -> hits decoded from stored
 * JSON -> snippets for the returned page only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"
#include "index_internal.h"
#include "layout.h"
#include "snippet.h"
#include "terms.h"

static const char *const facet_names[CXS_NFACETS] = {"channel", "author",
                                                     "lang", "tag", "year"};
static const unsigned facet_slots[CXS_NFACETS] = {
    CXS_SLOT_CHANNEL, CXS_SLOT_AUTHOR, CXS_SLOT_LANG, CXS_SLOT_TAGS,
    CXS_SLOT_YEAR};

/* OR of the folded field terms of values; NULL when there are none. */
static cxs_status field_filter(const char *prefix, const char *const *values,
                               size_t n, cxs_qnode *and_node) {
    if (!n)
        return CXS_OK;
    cxs_qnode *any = cxs_qnode_new(CXS_Q_OR);
    if (!any)
        return CXS_ERR_NOMEM;
    cxs_buf t = CXS_BUF_INIT;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < n && rc == CXS_OK; i++) {
        cxs_buf_reset(&t);
        rc = cxs_terms_field(prefix, values[i], &t);
        if (rc == CXS_OK)
            rc = cxs_qnode_add(any,
                               cxs_qnode_term(CXS_Q_TERM, "", t.data, t.len));
    }
    cxs_buf_release(&t);
    if (rc != CXS_OK) {
        cxs_qnode_free(any);
        return rc;
    }
    return cxs_qnode_add(and_node, any);
}

static cxs_status date_filter(const cxs_search_req *req, cxs_qnode *and_node,
                              cxs_err *err) {
    char lo[15], hi[15];
    const char *from =
        req->date_from && *req->date_from ? req->date_from : NULL;
    const char *to = req->date_to && *req->date_to ? req->date_to : NULL;
    if (!from && !to)
        return CXS_OK;
    if (from && !cxs_date_bound(from, false, lo))
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "from: '%s' is not a date (use YYYY, YYYY-MM or "
                           "YYYY-MM-DD)",
                           from);
    if (to && !cxs_date_bound(to, true, hi))
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "to: '%s' is not a date (use YYYY, YYYY-MM or "
                           "YYYY-MM-DD)",
                           to);
    return cxs_qnode_add(
        and_node,
        cxs_qnode_range(CXS_SLOT_DATE, from ? lo : NULL, to ? hi : NULL));
}

/* Wraps q in a FILTER by the request's parameters; takes q over. */
static cxs_status apply_filters(const cxs_search_req *req, cxs_qnode **q,
                                cxs_err *err) {
    cxs_qnode *all = cxs_qnode_new(CXS_Q_AND);
    if (!all)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    cxs_status rc =
        field_filter(CXS_PFX_CHANNEL, req->channels, req->nchannels, all);
    if (rc == CXS_OK)
        rc = field_filter(CXS_PFX_AUTHOR, req->authors, req->nauthors, all);
    if (rc == CXS_OK)
        rc = field_filter(CXS_PFX_LANG, req->langs, req->nlangs, all);
    if (rc == CXS_OK)
        rc = field_filter(CXS_PFX_TAG, req->tags, req->ntags, all);
    if (rc == CXS_ERR_NOMEM)
        cxs_err_set(err, rc, "out of memory");
    if (rc == CXS_OK)
        rc = date_filter(req, all, err);
    if (rc == CXS_OK && req->filter &&
        (rc = cxs_qnode_add(all, cxs_qnode_clone(req->filter))) != CXS_OK)
        cxs_err_set(err, rc, "out of memory");
    if (rc != CXS_OK || all->nkids == 0) {
        cxs_qnode_free(all);
        return rc;
    }
    cxs_qnode *f = cxs_qnode_new(CXS_Q_FILTER);
    if (!f || cxs_qnode_add(f, *q) != CXS_OK) {
        cxs_qnode_free(f);
        cxs_qnode_free(all);
        *q = NULL;
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    *q = f;
    if (cxs_qnode_add(f, all) != CXS_OK)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    return CXS_OK;
}

static void search_opts(const cxs_index *ix, const cxs_search_req *req,
                        unsigned *slots, cxs_xsearch_opts *o) {
    memset(o, 0, sizeof *o);
    o->offset = req->offset;
    o->limit = req->limit;
    o->sort_slot = req->sort == CXS_SORT_RELEVANCE ? -1 : CXS_SLOT_DATE;
    o->sort_desc = req->sort == CXS_SORT_DATE_DESC;
    o->k1 = ix->cfg.bm25_k1;
    o->k2 = ix->cfg.bm25_k2;
    o->k3 = ix->cfg.bm25_k3;
    o->b = ix->cfg.bm25_b;
    o->min_normlen = ix->cfg.bm25_min_normlen;
    for (size_t i = 0; i < CXS_NFACETS; i++)
        if (req->facets & (1u << i))
            slots[o->nfacets++] = facet_slots[i];
    o->facet_slots = slots;
    o->recency_boost = ix->cfg.recency_boost;
    o->recency_halflife =
        (ix->cfg.recency_halflife_days > 0 ? ix->cfg.recency_halflife_days
                                           : 365) *
        86400.0;
    o->time_slot = CXS_SLOT_TIME;
    o->now = (double)time(NULL);
}

static int cmp_facet(const void *a, const void *b) {
    const cxs_facet_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->value, y->value);
}

/* Moves the shim's facet counts into res, sorted by count. */
static void take_facets(const cxs_search_req *req, cxs_xresult *xr,
                        cxs_search_res *res) {
    size_t k = 0;
    for (size_t i = 0; i < CXS_NFACETS && k < xr->nfacets; i++) {
        if (!(req->facets & (1u << i)))
            continue;
        cxs_xfacet *xf = &xr->facets[k++];
        cxs_facet *f = &res->facets[res->nfacets++];
        f->name = facet_names[i];
        f->v = (cxs_facet_count *)xf->v; /* same layout: value, count */
        f->n = xf->n;
        xf->v = NULL;
        xf->n = 0;
        qsort(f->v, f->n, sizeof *f->v, cmp_facet);
    }
}

/* The text without its first line when that line is the title: the title
 * is shown beside the snippet, so repeating it wastes the snippet. */
static const char *body_after_title(const cxs_post *p) {
    const char *text = p->text ? p->text : "";
    size_t tl = p->title ? strlen(p->title) : 0;
    if (!tl || strncmp(text, p->title, tl) != 0)
        return text;
    const char *rest = text + tl;
    while (*rest == '\n' || *rest == '\r' || *rest == ' ' || *rest == '\t')
        rest++;
    return *rest ? rest : text;
}

/* Whether the text begins with the title as a whole line (or is it). */
static int title_opens_text(const cxs_post *p) {
    size_t tl = p->title ? strlen(p->title) : 0;
    const char *text = p->text ? p->text : "";
    return tl && strncmp(text, p->title, tl) == 0 &&
           (text[tl] == '\0' || text[tl] == '\n' || text[tl] == '\r' ||
            text[tl] == ' ' || text[tl] == '\t');
}

/* A term a token can match by its form alone, without the dictionary:
 * exact (no prefix), accent-free or hashtag (terms.h). */
static int form_term(const char *t) {
    return !(t[0] >= 'A' && t[0] <= 'Z') ||
           strncmp(t, CXS_PFX_ASCII, strlen(CXS_PFX_ASCII)) == 0 ||
           t[0] == CXS_PFX_TAG[0];
}

static int is_lemma(const char *t) {
    return t[0] == 'X' && t[1] == 'L';
}

/* What one post holds of the query's highlight terms (index_positions). */
typedef struct held_terms {
    size_t n;
    unsigned char *present; /* CXS_XPRESENT, CXS_XUNPLACED */
    unsigned *wdf;          /* occurrences */
    unsigned *placed;       /* occurrences with a position */
} held_terms;

/* The query words whose own terms hl_terms[i] is (query.h), without the
 * bit words past the 63rd share. */
static unsigned long long words_of(const cxs_query *q, size_t i) {
    return q->hl_words ? q->hl_words[i] & ~CXS_QWORD_MANY : 0;
}

/* Whether the occurrences of form term t (hl_terms[i]) that the index
 * holds without a position stand where a lemma of the same query word
 * does. The index drops a form's position when the form's lemmas carry it
 * (document.c), and the query analyzes the same form into the same
 * lemmas: when one of them is placed in the post, every such occurrence
 * is at one of its positions, so positions alone find them. Accent-free
 * forms do not qualify. */
static int beside_lemma(const cxs_query *q, size_t i, const char *t,
                        unsigned long long lemma_words) {
    return !(t[0] >= 'A' && t[0] <= 'Z') && (words_of(q, i) & lemma_words);
}

/* Whether every occurrence of stem term hl_terms[i] is an occurrence of
 * its own word's exact form, which has positions. The index keeps a stem
 * only for tokens without a lemma, whose exact form keeps the position;
 * for a query word without a lemma its own form's tokens are such tokens
 * (same form, same analysis), so when the stem counts as many
 * occurrences as that form has positions, no other token shares the stem
 * here and positions find all its matches. A query word with a lemma has
 * tokens without a stem: then the stem's occurrences are other words'. */
static int stem_placed(const cxs_query *q, const held_terms *h, size_t i) {
    unsigned long long w = words_of(q, i);
    unsigned long long sum = 0;
    for (size_t j = 0; w && j < h->n; j++) {
        const char *t = q->hl_terms[j];
        if (!(words_of(q, j) & w))
            continue;
        if (is_lemma(t))
            return 0;
        if (!(t[0] >= 'A' && t[0] <= 'Z'))
            sum += h->placed[j];
    }
    return w && sum == h->wdf[i];
}

/* Decides the snippet path from what the post holds: -1 when only the
 * analyzer can tell the matches (a lemma held without positions, as a
 * stopword's; a stem other words share), else whether tokens must also
 * be matched by their forms (cxs_highlight.by_forms). */
static int forms_needed(const cxs_query *q, const held_terms *h) {
    unsigned long long lemma_words = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->placed[i] && is_lemma(q->hl_terms[i]))
            lemma_words |= words_of(q, i);
    int by_forms = 0;
    for (size_t i = 0; i < h->n; i++) {
        const char *t = q->hl_terms[i];
        if (!h->present[i])
            continue;
        if (!h->placed[i] && (is_lemma(t) || (t[0] == 'Z' &&
                                              !stem_placed(q, h, i))))
            return -1;
        by_forms |= form_term(t) &&
                    (t[0] == CXS_PFX_TAG[0] ||
                     ((h->present[i] & CXS_XUNPLACED) &&
                      !beside_lemma(q, i, t, lemma_words)));
    }
    return by_forms;
}

/* Sets up the snippet fast path (snippet.h) for one hit: asks the index
 * which query terms the post holds and where. It applies when every lemma
 * or stem term the post holds has positions in it or is accounted for by
 * positions (forms_needed). Tokens are also matched by their forms only
 * when some form term the post holds has occurrences without a position
 * that no placed lemma of its word accounts for (beside_lemma): a
 * stopword, a form whose lemma took the position when the query word has
 * no such lemma (lower-case "#cx" has a lemma, "CX" none), an accent-free
 * form, a hashtag. Inflected forms and words the dictionary does not know
 * are the common cases, and analyzing every token of a post for them cost
 * the most. Returns the positions for hl (caller frees); any failure just
 * leaves the analyzer's path. */
static cxs_snippet_pos *index_positions(cxs_index *ix, const cxs_query *q,
                                        unsigned docid, cxs_highlight *hl) {
    size_t n = q ? q->nhl_terms : 0, nx = 0, k = n ? n : 1;
    held_terms h = {n, malloc(k), calloc(k, sizeof(unsigned)),
                    calloc(k, sizeof(unsigned))};
    cxs_xpos *xp = NULL;
    cxs_snippet_pos *sp = NULL;
    cxs_err err = {0};
    int ok = h.present && h.wdf && h.placed &&
             cxs_xdb_doc_positions(ix->rd, docid, q ? q->hl_terms : NULL, n,
                                   h.present, h.wdf, &xp, &nx,
                                   &err) == CXS_OK;
    for (size_t i = 0; ok && i < nx; i++)
        h.placed[xp[i].term]++;
    int by_forms = ok ? forms_needed(q, &h) : -1;
    ok = by_forms >= 0;
    if (ok && nx && !(sp = malloc(nx * sizeof *sp)))
        ok = 0;
    for (size_t i = 0; ok && i < nx; i++)
        sp[i] = (cxs_snippet_pos){xp[i].pos, xp[i].term};
    if (ok) {
        hl->by_index = 1;
        hl->by_forms = by_forms;
        hl->pos = sp;
        hl->npos = nx;
    }
    free(h.present);
    free(h.wdf);
    free(h.placed);
    free(xp);
    if (!ok) {
        free(sp);
        sp = NULL;
    }
    return sp;
}

static cxs_status make_hit(cxs_index *ix, const cxs_search_req *req,
                           const cxs_query *q, const cxs_xmatch *m,
                           cxs_snippet_cache *cache, cxs_hit *hit,
                           cxs_err *err) {
    cxs_status rc =
        cxs_index_decode_post(m->data, m->data_len, &hit->post, err);
    if (rc != CXS_OK)
        return rc;
    hit->score = m->weight;
    cxs_highlight hl = {.pre = req->hl_pre ? req->hl_pre : "<mark>",
                        .post = req->hl_post ? req->hl_post : "</mark>",
                        .no_escape = req->hl_no_escape,
                        .cache = cache};
    if (q) {
        hl.terms = q->hl_terms, hl.nterms = q->nhl_terms;
        hl.prefixes = q->hl_prefixes, hl.nprefixes = q->nhl_prefixes;
    }
    cxs_lang lang = cxs_lang_from_code(hit->post.lang);
    cxs_buf b = CXS_BUF_INIT;
    const char *text = hit->post.text ? hit->post.text : "";
    const char *body = body_after_title(&hit->post);
    cxs_snippet_pos *pos =
        req->snippet_analyze ? NULL : index_positions(ix, q, m->docid, &hl);
    if (!req->snippet_scan)
        cxs_checkpoints_split(m->data, m->data_len, &hl.marks, &hl.nmarks);
    rc = req->snippet_full ? cxs_snippet_mark_all(ix->an, text, strlen(text),
                                                  lang, &hl, &b, err)
                           : cxs_snippet_make(ix->an, text, strlen(text),
                                              (size_t)(body - text), lang, &hl,
                                              req->snippet_words, &b, err);
    hit->snippet = rc == CXS_OK ? cxs_buf_detach(&b) : NULL;
    cxs_buf_release(&b);
    /* A title that opens the text has the text's first positions; any
     * other goes through the analyzer, as its positions in the index are
     * offset (document.c) or shared with a later line. */
    const char *title = hit->post.title ? hit->post.title : "";
    hl.by_index = hl.by_index && title_opens_text(&hit->post);
    if (rc == CXS_OK)
        rc = cxs_snippet_mark_all(ix->an, title, strlen(title), lang, &hl, &b,
                                  err);
    free(pos);
    hit->title_hl = rc == CXS_OK ? cxs_buf_detach(&b) : NULL;
    cxs_buf_release(&b);
    if (rc == CXS_OK && (!hit->snippet || !hit->title_hl))
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (!req->want_text) {
        free(hit->post.text);
        hit->post.text = NULL;
    }
    return rc;
}

static cxs_status make_hits(cxs_index *ix, const cxs_search_req *req,
                            const cxs_query *q, const cxs_xresult *xr,
                            cxs_search_res *res, cxs_err *err) {
    res->hits = calloc(xr->n ? xr->n : 1, sizeof *res->hits);
    if (!res->hits)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    /* Without a cache (out of memory) snippets are only slower. */
    cxs_snippet_cache *cache = xr->n > 1 ? cxs_snippet_cache_new() : NULL;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < xr->n && rc == CXS_OK; i++) {
        rc = make_hit(ix, req, q, &xr->m[i], cache, &res->hits[i], err);
        res->nhits = i + 1;
    }
    cxs_snippet_cache_free(cache);
    return rc;
}

/* Runs one tree with the request's filters; takes tree over. xr is
 * zeroed first: the caller releases it whatever happens (a refused
 * filter never reaches Xapian). */
static cxs_status run(cxs_index *ix, const cxs_search_req *req, cxs_qnode *tree,
                      int no_data, cxs_xresult *xr, cxs_err *err) {
    memset(xr, 0, sizeof *xr);
    unsigned slots[CXS_NFACETS];
    cxs_xsearch_opts o;
    cxs_status rc = apply_filters(req, &tree, err);
    search_opts(ix, req, slots, &o);
    o.no_data = no_data;
    if (rc == CXS_OK)
        rc = cxs_xdb_search(ix->rd, tree, &o, xr, err);
    cxs_qnode_free(tree);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Proximity rescoring                                                  */

/* The first RESCORE_WINDOW posts by BM25 are reordered by how close the
 * query's words stand in them (cxs_query.prox); beyond the window the
 * order is BM25's alone, as with Elasticsearch's rescore window. Checking
 * positions in these posts only, instead of a PHRASE/NEAR boost that
 * makes Xapian check them in every match, took multi-word queries on the
 * 100k bench index from 20-45 ms to a few. */
#define RESCORE_WINDOW 30

/* Fewer posts than this is a thin answer: it may come with a
 * did-you-mean. */
#define THIN_ANSWER 3

/* Weight factors, as the boost they replace (its phrase scored as much
 * as the words, its NEAR half as much). */
#define PROX_ADJACENT 1.0
#define PROX_NEAR 0.5

/* All the proximity words' terms, sorted, each with the words it stands
 * for (a bit per word; at most 8 words). */
typedef struct prox_terms {
    char **terms; /* borrowed from the query */
    unsigned *words;
    size_t n, nwords;
} prox_terms;

typedef struct prox_pair {
    char *term;
    unsigned word; /* a bit */
} prox_pair;

static int cmp_pair(const void *a, const void *b) {
    return strcmp(((const prox_pair *)a)->term, ((const prox_pair *)b)->term);
}

/* Every (term, word) of the query, sorted by term; equal terms merged. */
static cxs_status prox_terms_init(const cxs_query *q, prox_terms *pt) {
    size_t n = 0;
    memset(pt, 0, sizeof *pt);
    pt->nwords = q->nprox < 8 ? q->nprox : 8;
    for (size_t i = 0; i < pt->nwords; i++)
        n += q->prox[i].n;
    prox_pair *v = malloc((n ? n : 1) * sizeof *v);
    pt->terms = malloc((n ? n : 1) * sizeof *pt->terms);
    pt->words = calloc(n ? n : 1, sizeof *pt->words);
    if (!v || !pt->terms || !pt->words) {
        free(v);
        return CXS_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < pt->nwords; i++)
        for (size_t j = 0; j < q->prox[i].n; j++)
            v[k++] = (prox_pair){q->prox[i].terms[j], 1u << i};
    qsort(v, k, sizeof *v, cmp_pair);
    for (size_t r = 0; r < k; r++) {
        if (!pt->n || strcmp(pt->terms[pt->n - 1], v[r].term) != 0)
            pt->terms[pt->n++] = v[r].term;
        pt->words[pt->n - 1] |= v[r].word;
    }
    free(v);
    return CXS_OK;
}

static void prox_terms_release(prox_terms *pt) {
    free(pt->terms);
    free(pt->words);
}

/* The words standing at position pos (a bit each). */
static unsigned words_at(const prox_terms *pt, const cxs_xpos *v, size_t n,
                         unsigned pos) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].pos < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    unsigned w = 0;
    for (; lo < n && v[lo].pos == pos; lo++)
        w |= pt->words[v[lo].term];
    return w;
}

/* The words in query order on consecutive positions. */
static int adjacent(const prox_terms *pt, const cxs_xpos *v, size_t n) {
    for (size_t e = 0; e < n; e++) {
        if (!(pt->words[v[e].term] & 1u))
            continue;
        size_t i = 1;
        while (i < pt->nwords &&
               (words_at(pt, v, n, v[e].pos + (unsigned)i) & (1u << i)))
            i++;
        if (i == pt->nwords)
            return 1;
    }
    return 0;
}

/* Every word within window positions, in any order. */
static int near(const prox_terms *pt, const cxs_xpos *v, size_t n,
                unsigned window) {
    unsigned count[8] = {0}, all = (1u << pt->nwords) - 1, have = 0;
    for (size_t l = 0, r = 0; r < n; r++) {
        for (unsigned i = 0; i < pt->nwords; i++)
            if (pt->words[v[r].term] & (1u << i) && count[i]++ == 0)
                have |= 1u << i;
        while (l <= r && v[r].pos - v[l].pos + 1 > window) {
            for (unsigned i = 0; i < pt->nwords; i++)
                if (pt->words[v[l].term] & (1u << i) && --count[i] == 0)
                    have &= ~(1u << i);
            l++;
        }
        if (have == all)
            return 1;
    }
    return 0;
}

static double prox_factor(cxs_index *ix, const prox_terms *pt, unsigned docid) {
    cxs_xpos *v = NULL;
    size_t n = 0;
    cxs_err err = {0};
    double f = 1.0;
    if (cxs_xdb_term_positions(ix->rd, docid, pt->terms, pt->n, &v, &n, &err) ==
        CXS_OK) {
        if (adjacent(pt, v, n))
            f += PROX_ADJACENT;
        if (near(pt, v, n, 2 * (unsigned)pt->nwords + 2))
            f += PROX_NEAR;
    }
    free(v);
    return f;
}

/* By weight, best first; stable, so equal weights keep BM25's order. */
static void sort_matches(cxs_xmatch *m, size_t n) {
    for (size_t i = 1; i < n; i++) {
        cxs_xmatch x = m[i];
        size_t j = i;
        for (; j > 0 && m[j - 1].weight < x.weight; j--)
            m[j] = m[j - 1];
        m[j] = x;
    }
}

/* Reorders the window's matches, then keeps the requested page. */
static cxs_status rescore(cxs_index *ix, const cxs_query *q,
                          const cxs_search_req *req, cxs_xresult *xr) {
    prox_terms pt;
    if (prox_terms_init(q, &pt) != CXS_OK) {
        prox_terms_release(&pt);
        return CXS_ERR_NOMEM;
    }
    size_t w = xr->n < RESCORE_WINDOW ? xr->n : RESCORE_WINDOW;
    for (size_t i = 0; i < w; i++)
        xr->m[i].weight *= prox_factor(ix, &pt, xr->m[i].docid);
    prox_terms_release(&pt);
    sort_matches(xr->m, w);
    size_t from = req->offset < xr->n ? req->offset : xr->n;
    size_t to = from + req->limit < xr->n ? from + req->limit : xr->n;
    for (size_t i = 0; i < xr->n; i++)
        if (i < from || i >= to)
            free(xr->m[i].data);
    memmove(xr->m, xr->m + from, (to - from) * sizeof *xr->m);
    xr->n = to - from;
    return CXS_OK;
}

/* Reads the stored posts of the page (a rescored search left them out
 * of the window it read). */
static cxs_status read_data(cxs_index *ix, cxs_xresult *xr, cxs_err *err) {
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < xr->n && rc == CXS_OK; i++) {
        cxs_buf b = CXS_BUF_INIT;
        rc = cxs_xdb_data(ix->rd, xr->m[i].docid, &b, err);
        xr->m[i].data_len = b.len;
        xr->m[i].data = rc == CXS_OK ? cxs_buf_detach(&b) : NULL;
        cxs_buf_release(&b);
        if (rc == CXS_OK && !xr->m[i].data)
            rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    return rc;
}

/* The request for the search itself: a rescored search reads the whole
 * window from the first post. */
static cxs_search_req wide_request(const cxs_search_req *req,
                                   const cxs_query *q, int *rescored) {
    cxs_search_req w = *req;
    *rescored = q->nprox >= 2 && req->sort == CXS_SORT_RELEVANCE &&
                req->offset < RESCORE_WINDOW && req->limit > 0;
    if (*rescored) {
        w.offset = 0;
        w.limit = req->offset + req->limit > RESCORE_WINDOW
                      ? req->offset + req->limit
                      : RESCORE_WINDOW;
    }
    return w;
}

static cxs_status search_parsed(cxs_index *ix, const cxs_search_req *req0,
                                const cxs_query *q, cxs_search_res *res,
                                cxs_err *err) {
    cxs_xresult xr;
    int rescored;
    cxs_search_req wide = wide_request(req0, q, &rescored);
    const cxs_search_req *req = &wide;
    cxs_qnode *tree = cxs_qnode_clone(q->strict);
    cxs_status rc = tree ? run(ix, req, tree, rescored, &xr, err)
                         : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc == CXS_OK && xr.upper == 0 && q->relaxed) {
        cxs_xresult_release(&xr);
        tree = cxs_qnode_clone(q->relaxed);
        rc = tree ? run(ix, req, tree, rescored, &xr, err)
                  : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        res->relaxed = 1;
    }
    if (rc == CXS_OK && rescored && rescore(ix, q, req0, &xr) != CXS_OK)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc == CXS_OK && rescored)
        rc = read_data(ix, &xr, err);
    req = req0;
    if (rc == CXS_OK) {
        res->total = xr.estimated;
        res->total_exact = xr.lower == xr.upper;
        take_facets(req, &xr, res);
        rc = make_hits(ix, req, q, &xr, res, err);
    }
    /* A did-you-mean only where the answer is empty or thin even after
     * the rewrites (the parser never offers one for a known word). */
    if (rc == CXS_OK && q->suggestion &&
        (res->relaxed || res->total < THIN_ANSWER) &&
        !(res->suggestion = strdup(q->suggestion)))
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    cxs_xresult_release(&xr);
    return rc;
}

static unsigned long long index_termfreq(void *ud, const char *term,
                                         size_t len) {
    unsigned long long f = 0;
    return cxs_xdb_termfreq(ud, term, len, &f, NULL) == CXS_OK ? f : 0;
}

/* The parser's forgiving options: the configuration's, as the request
 * narrows them. */
static void forgive_opts(cxs_index *ix, const cxs_search_req *req,
                         cxs_query_opts *qo) {
    qo->forgive = ix->cfg.forgive;
    cxs_forgive *f = &qo->forgive;
    f->off |= req->exact;
    f->typing = req->typing;
    f->no_typos |= req->no_typos;
    if (req->one_typo_from)
        f->one_typo_from = req->one_typo_from;
    if (req->two_typos_from)
        f->two_typos_from = req->two_typos_from;
    /* Even exact, a query that finds little gets a did-you-mean. */
    qo->lexicon = cxs_index_lexicon(ix);
    qo->termfreq = index_termfreq;
    qo->termfreq_ud = ix->rd;
}

cxs_status cxs_index_search(cxs_index *ix, const cxs_search_req *req,
                            cxs_search_res *res, cxs_err *err) {
    memset(res, 0, sizeof *res);
    if (!ix->rd)
        return cxs_err_set(err, CXS_ERR_INVALID, "not a reader");
    cxs_query q;
    cxs_query_opts qo = {0};
    qo.max_len = ix->cfg.max_query_len;
    qo.syn = ix->syn;
    qo.phrases = ix->phrases;
    forgive_opts(ix, req, &qo);
    const char *text = req->q ? req->q : "";
    size_t len = req->q ? (req->q_len ? req->q_len : strlen(req->q)) : 0;
    cxs_status rc = cxs_query_parse(ix->an, text, len, &qo, &q, err);
    if (rc != CXS_OK)
        return rc;
    rc = search_parsed(ix, req, &q, res, err);
    res->rewrites = q.rewrites;
    res->nrewrites = q.nrewrites;
    q.rewrites = NULL;
    q.nrewrites = 0;
    cxs_query_release(&q);
    return rc;
}

void cxs_search_res_release(cxs_search_res *res) {
    if (!res)
        return;
    for (size_t i = 0; i < res->nhits; i++) {
        cxs_post_release(&res->hits[i].post);
        free(res->hits[i].snippet);
        free(res->hits[i].title_hl);
    }
    free(res->hits);
    for (size_t i = 0; i < res->nfacets; i++) {
        for (size_t j = 0; j < res->facets[i].n; j++)
            free(res->facets[i].v[j].value);
        free(res->facets[i].v);
    }
    free(res->suggestion);
    for (size_t i = 0; i < res->nrewrites; i++) {
        free(res->rewrites[i].typed);
        free(res->rewrites[i].read_as);
    }
    free(res->rewrites);
    memset(res, 0, sizeof *res);
}

/* ------------------------------------------------------------------ */
/* More like this                                                       */

/* Only exact forms and lemmas describe what a post is about; stems,
 * accent folds and boolean fields would only repeat them. */
static int skip_for_similar(const char *term, size_t len) {
    if (len && term[0] >= 'A' && term[0] <= 'Z')
        return !(len > 2 && term[0] == 'X' && term[1] == 'L');
    return len < 3;
}

static int add_expansion(void *ud, const char *term, size_t len,
                         unsigned long long freq) {
    (void)freq;
    return cxs_qnode_add(ud, cxs_qnode_term(CXS_Q_TERM, "", term, len)) !=
           CXS_OK;
}

/* OR of the post's best terms, without the post and its duplicates. */
static cxs_status similar_query(cxs_index *ix, const cxs_post *p,
                                unsigned docid, cxs_qnode **out, cxs_err *err) {
    cxs_qnode *any = cxs_qnode_new(CXS_Q_OR);
    cxs_qnode *but_not = cxs_qnode_new(CXS_Q_AND_NOT);
    char hash[2 + 17];
    snprintf(hash, sizeof hash, "%s%016llx", CXS_PFX_HASH,
             cxs_post_text_hash(p->text, strlen(p->text)));
    cxs_status rc = any && but_not ? CXS_OK : CXS_ERR_NOMEM;
    if (rc == CXS_OK)
        rc = cxs_xdb_expand(ix->rd, docid, 24, skip_for_similar, add_expansion,
                            any, err);
    if (rc == CXS_OK && any->nkids == 0)
        rc = cxs_qnode_add(any, cxs_qnode_new(CXS_Q_NOTHING));
    if (rc == CXS_OK) {
        rc = cxs_qnode_add(but_not, any);
        any = NULL;
    }
    if (rc == CXS_OK)
        rc = cxs_qnode_add(but_not, cxs_qnode_term(CXS_Q_TERM, CXS_PFX_ID,
                                                   p->id, strlen(p->id)));
    if (rc == CXS_OK)
        rc = cxs_qnode_add(but_not,
                           cxs_qnode_term(CXS_Q_TERM, "", hash, strlen(hash)));
    cxs_qnode_free(any);
    if (rc != CXS_OK) {
        cxs_qnode_free(but_not);
        return rc == CXS_ERR_NOMEM ? cxs_err_set(err, rc, "out of memory") : rc;
    }
    *out = but_not;
    return CXS_OK;
}

cxs_status cxs_index_similar(cxs_index *ix, const char *id, size_t limit,
                             cxs_search_res *res, cxs_err *err) {
    memset(res, 0, sizeof *res);
    cxs_post p = CXS_POST_INIT;
    unsigned docid = 0;
    cxs_qnode *tree = NULL;
    cxs_status rc = cxs_index_get_docid(ix, id, &docid, &p, err);
    if (rc == CXS_OK)
        rc = similar_query(ix, &p, docid, &tree, err);
    if (rc == CXS_OK) {
        cxs_search_req req = {0};
        req.limit = limit;
        cxs_query q = {0};
        cxs_xresult xr;
        rc = run(ix, &req, tree, 0, &xr, err);
        if (rc == CXS_OK) {
            res->total = xr.estimated;
            res->total_exact = xr.lower == xr.upper;
            rc = make_hits(ix, &req, &q, &xr, res, err);
        }
        cxs_xresult_release(&xr);
    }
    cxs_post_release(&p);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Completion                                                           */

typedef struct completion {
    char **words;
    unsigned long long *freq;
    size_t n, max;
    size_t scanned;
    int oom;
} completion;

/* Keeps the max most frequent terms seen (insertion into a small sorted
 * array: max is a handful). */
static int take_completion(void *ud, const char *term, size_t len,
                           unsigned long long freq) {
    completion *c = ud;
    if (++c->scanned > 20000)
        return 1; /* bounded work per keystroke */
    size_t at = c->n;
    while (at > 0 && c->freq[at - 1] < freq)
        at--;
    if (at >= c->max)
        return 0;
    char *w = cxs_strndup(term, len);
    if (!w) {
        c->oom = 1;
        return 1;
    }
    if (c->n == c->max)
        free(c->words[--c->n]);
    memmove(c->words + at + 1, c->words + at, (c->n - at) * sizeof *c->words);
    memmove(c->freq + at + 1, c->freq + at, (c->n - at) * sizeof *c->freq);
    c->words[at] = w;
    c->freq[at] = freq;
    c->n++;
    return 0;
}

/* The folded last word of text, or an empty buffer. */
static cxs_status last_word(const char *text, cxs_buf *out) {
    size_t len = strlen(text), start = len;
    while (start > 0 && text[start - 1] != ' ' && text[start - 1] != '\t' &&
           text[start - 1] != '"' && text[start - 1] != '(')
        start--;
    if (start == len)
        return CXS_OK;
    return cxs_terms_field("", text + start, out);
}

/* Completions from the lexicon, most frequent first: with one typo once
 * the prefix has prefix_typo_from characters, and read on the other
 * keyboard layout when it has none as typed. */
static cxs_status lexicon_completions(cxs_index *ix, const cxs_buf *w,
                                      completion *c) {
    const cxs_lexicon *lx = cxs_index_lexicon(ix);
    const cxs_forgive *f = &ix->cfg.forgive;
    unsigned from = f->prefix_typo_from ? f->prefix_typo_from : 5;
    size_t chars = 0;
    for (size_t i = 0; i < w->len; i++)
        chars += ((unsigned char)w->data[i] & 0xC0) != 0x80;
    unsigned d = !f->no_typos && chars >= from ? 1 : 0;
    cxs_lexcand cand[32];
    size_t max = c->max < 32 ? c->max : 32;
    size_t n = cxs_lexicon_complete(lx, w->data, w->len, d, cand, max);
    cxs_buf sw = CXS_BUF_INIT;
    int swapped = 0;
    cxs_status rc = CXS_OK;
    if (n == 0 && !f->no_layout &&
        (rc = cxs_layout_swap(w->data, w->len, &sw, &swapped)) == CXS_OK &&
        swapped)
        n = cxs_lexicon_complete(lx, sw.data, sw.len, 0, cand, max);
    cxs_buf_release(&sw);
    for (size_t i = 0; i < n && rc == CXS_OK && !c->oom; i++)
        (void)take_completion(c, cand[i].word, cand[i].len,
                              cand[i].dist ? 0 : cand[i].freq);
    return rc == CXS_OK && !c->oom ? CXS_OK : CXS_ERR_NOMEM;
}

cxs_status cxs_index_suggest(cxs_index *ix, const char *prefix, size_t max,
                             char ***out, size_t *n, cxs_err *err) {
    *out = NULL;
    *n = 0;
    cxs_buf w = CXS_BUF_INIT;
    cxs_status rc = last_word(prefix, &w);
    if (rc != CXS_OK || w.len == 0 || max == 0) {
        cxs_buf_release(&w);
        return rc == CXS_OK ? CXS_OK : cxs_err_set(err, rc, "bad prefix");
    }
    completion c = {.words = calloc(max, sizeof(char *)),
                    .freq = calloc(max, sizeof(unsigned long long)),
                    .max = max};
    if (!c.words || !c.freq)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc == CXS_OK && !ix->cfg.forgive.off)
        rc = lexicon_completions(ix, &w, &c);
    if (rc == CXS_OK && c.n == 0)
        rc = cxs_xdb_terms(ix->rd, w.data, w.len, take_completion, &c, err);
    if (rc == CXS_OK && c.oom)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    cxs_buf_release(&w);
    free(c.freq);
    if (rc != CXS_OK) {
        for (size_t i = 0; i < c.n; i++)
            free(c.words[i]);
        free(c.words);
        return rc;
    }
    *out = c.words;
    *n = c.n;
    return CXS_OK;
}
