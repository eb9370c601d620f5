/*
 * api_meili.c - a Meilisearch-compatible subset on cxsearchd's port, so
 * that existing widgets (InstantSearch with instant-meilisearch,
 * docs-searchbar.js) work unchanged against cxsearch:
 *   GET|POST /indexes/{uid}/search, POST /multi-search,
 *   POST /indexes/{uid}/facet-search (searchable facet lists).
 * docs/api.md lists every field and what it does here.
 *
 * Facts that shaped it:
 *  - There is one index, named by meili_index_uid ("posts"); any other uid
 *    is a 404 index_not_found, as Meilisearch answers.
 *  - Clients read errors as {message, code, type, link} (the routes are
 *    marked, http.c shapes every error so) with Meilisearch's codes:
 *    invalid_search_<field> for a wrong type or value. Fields Meilisearch
 *    has and cxsearch does not (matchingStrategy, hybrid, ...) are ignored,
 *    as are unknown ones: a widget upgrade must not break searches.
 *  - Highlighting is done once, by the index, with private markers (\x01,
 *    \x02) and no escaping; the markers become the client's tags here. So
 *    escaping is decided in one place: when the tags look like HTML (they
 *    start with '<') every string in _formatted is HTML-escaped, because
 *    such clients insert _formatted as HTML (docs-searchbar.js does); with
 *    plain markers (instant-meilisearch sends __ais-highlight__) nothing
 *    is escaped, because that client escapes the text itself. Escaping in
 *    both places would show "&amp;lt;" to the reader. A stray \x01 or \x02
 *    in a post can only open or close a highlight, always balanced.
 *  - Only title and text are highlighted (they are what free text
 *    matches); only text is cropped (a title is one line). The crop is the
 *    index's best passage of cropLength words, with cropMarker where it
 *    was cut. _formatted strings are single lines (white space folded).
 *  - page/hitsPerPage ask for exhaustive counts (totalHits, totalPages):
 *    the search then counts a facet, which makes the index count every
 *    match instead of estimating.
 *  - _matchesPosition holds byte offsets into the stored title and text,
 *    found by aligning the marked text with the stored one (approximate
 *    when the analyzer folded characters); a cropped text needs a second,
 *    uncropped pass for it, so it is only paid for when asked.
 */
#include <stdbool.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meili.h"
#include "routes.h"
#include "terms.h"

#define MK_PRE '\x01'
#define MK_POST '\x02'
#define MAX_TAG 256
#define DEFAULT_LIMIT 20
#define DEFAULT_CROP 10
#define MAX_FACET_HITS 100
#define CROP_HEAD "… "
#define CROP_TAIL " …"

typedef struct merr {
    unsigned status;
    char code[64];
    char msg[CXS_ERR_MSG_MAX + 256];
} merr;

/* One search, as the client asked for it. */
typedef struct mreq {
    const char *q;
    size_t qlen;
    size_t offset, limit; /* what is asked of the index */
    size_t req_offset, req_limit, page, hpp;
    int paged;
    cxs_qnode *filter; /* owned */
    unsigned facets;   /* CXS_FACET_* */
    const char *facet_name[CXS_NFACETS];
    const json_t *retrieve; /* array of names; NULL: all */
    int hl_title, hl_text, crop_text, formatted, show_matches, html;
    unsigned crop_len;
    const char *pre, *post, *marker;
    cxs_sort sort;
} mreq;

static bool bad(merr *e, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fills e; returns false so checks can be chained. */
static bool bad(merr *e, unsigned status, const char *code, const char *fmt,
               ...) {
    va_list ap;
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

static void mreq_release(mreq *m) {
    cxs_qnode_free(m->filter);
    m->filter = NULL;
}

/* ---- reading the request fields ---- */

static bool get_count(const json_t *o, const char *key, const char *code,
                     size_t *out, int *given, merr *e) {
    const json_t *v = json_object_get(o, key);
    if (given)
        *given = v && !json_is_null(v);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(e, 400, code, "%s: expected a whole number from 0", key);
    *out = (size_t)json_integer_value(v);
    return true;
}

/* A string field without NUL bytes, at most max bytes (0: no limit). */
static bool get_str(const json_t *o, const char *key, const char *code,
                   size_t max, const char **out, merr *e) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return bad(e, 400, code, "%s: expected a string", key);
    size_t n = json_string_length(v);
    if (strlen(json_string_value(v)) != n || (max && n > max))
        return bad(e, 400, code, "%s: at most %zu bytes, no NUL", key, max);
    *out = json_string_value(v);
    return true;
}

/* An array of strings, or null; *out NULL when absent. */
static bool get_list(const json_t *o, const char *key, const char *code,
                    const json_t **out, merr *e) {
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    size_t i;
    const json_t *x;
    if (!json_is_array(v))
        return bad(e, 400, code, "%s: expected an array of strings", key);
    json_array_foreach(v, i, x) {
        if (!json_is_string(x))
            return bad(e, 400, code, "%s: element %zu is not a string", key, i);
    }
    *out = v;
    return true;
}

static bool name_is(const json_t *s, const char *name) {
    return strcmp(json_string_value(s), name) == 0;
}

static const struct {
    const char *name;
    unsigned bit;
} FACETS[] = {{"channel", CXS_FACET_CHANNEL}, {"author", CXS_FACET_AUTHOR},
              {"lang", CXS_FACET_LANG},       {"tags", CXS_FACET_TAG},
              {"tag", CXS_FACET_TAG},         {"year", CXS_FACET_YEAR}};
#define NFACETS_KNOWN (sizeof FACETS / sizeof FACETS[0])

static int facet_index(unsigned bit) {
    int i = 0;
    while (!(bit & 1u) && i < CXS_NFACETS)
        bit >>= 1, i++;
    return i;
}

static bool add_facet(mreq *m, const char *name, merr *e) {
    if (strcmp(name, "*") == 0) {
        for (size_t i = 0; i < NFACETS_KNOWN; i++)
            if (strcmp(FACETS[i].name, "tag") != 0)
                add_facet(m, FACETS[i].name, e);
        return true;
    }
    for (size_t i = 0; i < NFACETS_KNOWN; i++)
        if (strcmp(FACETS[i].name, name) == 0) {
            m->facets |= FACETS[i].bit;
            m->facet_name[facet_index(FACETS[i].bit)] = FACETS[i].name;
            return true;
        }
    return bad(e, 400, "invalid_search_facets",
               "facets: `%.64s` is not a facet; facets are author, channel, "
               "lang, tags, year",
               name);
}

static bool read_facets(const json_t *o, mreq *m, merr *e) {
    const json_t *l;
    size_t i;
    const json_t *x;
    if (!get_list(o, "facets", "invalid_search_facets", &l, e))
        return false;
    json_array_foreach(l, i, x) {
        if (!add_facet(m, json_string_value(x), e))
            return false;
    }
    return true;
}

static bool read_highlight(const json_t *o, mreq *m, merr *e) {
    const json_t *l;
    size_t i;
    const json_t *x;
    if (!get_list(o, "attributesToHighlight",
                  "invalid_search_attributes_to_highlight", &l, e))
        return false;
    m->formatted |= l && json_array_size(l) > 0;
    json_array_foreach(l, i, x) {
        int all = name_is(x, "*");
        m->hl_title |= all || name_is(x, "title");
        m->hl_text |= all || name_is(x, "text");
    }
    return true;
}

/* "text", "text:N", "*" or "*:N"; other attributes are not cropped. */
static bool read_crop(const json_t *o, mreq *m, merr *e) {
    const json_t *l;
    size_t i, len = DEFAULT_CROP;
    const json_t *x;
    if (!get_count(o, "cropLength", "invalid_search_crop_length", &len, NULL,
                   e) ||
        !get_list(o, "attributesToCrop", "invalid_search_attributes_to_crop",
                  &l, e))
        return false;
    m->crop_len = len > 10000 ? 10000 : len ? (unsigned)len : 1;
    m->formatted |= l && json_array_size(l) > 0;
    json_array_foreach(l, i, x) {
        const char *s = json_string_value(x), *colon = strchr(s, ':');
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        if (!(n == 4 && !memcmp(s, "text", 4)) && !(n == 1 && s[0] == '*'))
            continue;
        m->crop_text = 1;
        if (!colon)
            continue;
        char *end;
        unsigned long v = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || colon[1] == '-' || colon[1] == '+')
            return bad(e, 400, "invalid_search_attributes_to_crop",
                       "attributesToCrop: `%.64s`: expected NAME or NAME:N "
                       "with N a whole number",
                       s);
        m->crop_len = v > 10000 ? 10000 : v ? (unsigned)v : 1;
    }
    return true;
}

static bool read_sort(const json_t *o, mreq *m, merr *e) {
    const json_t *l;
    size_t i;
    const json_t *x;
    if (!get_list(o, "sort", "invalid_search_sort", &l, e))
        return false;
    json_array_foreach(l, i, x) {
        const char *s = json_string_value(x);
        if (strcmp(s, "date:desc") == 0 && i == 0)
            m->sort = CXS_SORT_DATE_DESC;
        else if (strcmp(s, "date:asc") == 0 && i == 0)
            m->sort = CXS_SORT_DATE_ASC;
        else
            return bad(e, 400, "invalid_search_sort",
                       "sort: `%.64s`: the one sortable attribute is date "
                       "(\"date:desc\" or \"date:asc\")",
                       s);
    }
    return true;
}

static bool read_tags(const json_t *o, mreq *m, merr *e) {
    m->pre = "<em>";
    m->post = "</em>";
    m->marker = "…";
    const json_t *sm = json_object_get(o, "showMatchesPosition");
    if (sm && !json_is_null(sm) && !json_is_boolean(sm))
        return bad(e, 400, "invalid_search_show_matches_position",
                   "showMatchesPosition: expected true or false");
    m->show_matches = json_is_true(sm);
    if (!get_str(o, "highlightPreTag", "invalid_search_highlight_pre_tag",
                 MAX_TAG, &m->pre, e) ||
        !get_str(o, "highlightPostTag", "invalid_search_highlight_post_tag",
                 MAX_TAG, &m->post, e) ||
        !get_str(o, "cropMarker", "invalid_search_crop_marker", MAX_TAG,
                 &m->marker, e))
        return false;
    m->html = m->pre[0] == '<';
    return true;
}

static bool read_query(const json_t *o, const cxs_server_config *c, mreq *m,
                      merr *e) {
    const json_t *q = json_object_get(o, "q");
    if (q && !json_is_null(q) && !json_is_string(q))
        return bad(e, 400, "invalid_search_q", "q: expected a string");
    m->q = json_is_string(q) ? json_string_value(q) : "";
    m->qlen = json_is_string(q) ? json_string_length(q) : 0;
    if (m->qlen > c->max_query_bytes)
        return bad(e, 400, "invalid_search_q",
                   "q: the query is %zu bytes, over the limit of %zu "
                   "(max_query_bytes)",
                   m->qlen, c->max_query_bytes);
    return true;
}

/* offset/limit, or page/hitsPerPage (then counts are exhaustive). */
static bool read_paging(const json_t *o, const cxs_server_config *c, mreq *m,
                       merr *e) {
    int pg = 0, hg = 0;
    m->req_limit = DEFAULT_LIMIT;
    m->page = 1;
    m->hpp = DEFAULT_LIMIT;
    if (!get_count(o, "offset", "invalid_search_offset", &m->req_offset, NULL,
                   e) ||
        !get_count(o, "limit", "invalid_search_limit", &m->req_limit, NULL,
                   e) ||
        !get_count(o, "page", "invalid_search_page", &m->page, &pg, e) ||
        !get_count(o, "hitsPerPage", "invalid_search_hits_per_page", &m->hpp,
                   &hg, e))
        return false;
    m->paged = pg || hg;
    size_t per = m->paged ? m->hpp : m->req_limit;
    m->limit = per > c->max_limit ? c->max_limit : per;
    if (m->paged) {
        size_t before = m->page ? m->page - 1 : 0;
        m->offset = m->limit && before <= c->max_offset / m->limit
                        ? before * m->limit
                        : c->max_offset + 1;
        if (m->page == 0)
            m->limit = 0;
    } else {
        m->offset = m->req_offset;
    }
    if (m->offset > c->max_offset) {
        m->offset = 0; /* beyond the deepest page served: no hits */
        m->limit = 0;
    }
    return true;
}

static bool read_filter(const json_t *o, mreq *m, merr *e) {
    cxs_err err = {0};
    cxs_status st =
        cxs_meili_filter(json_object_get(o, "filter"), &m->filter, &err);
    if (st == CXS_ERR_NOMEM)
        return bad(e, 500, "internal", "out of memory");
    if (st != CXS_OK)
        return bad(e, 400, "invalid_search_filter", "%s", err.msg);
    return true;
}

static bool mreq_read(const json_t *o, const cxs_server_config *c, mreq *m,
                     merr *e) {
    memset(m, 0, sizeof *m);
    if (!json_is_object(o))
        return bad(e, 400, "bad_request", "expected a JSON object");
    if (!get_list(o, "attributesToRetrieve",
                  "invalid_search_attributes_to_retrieve", &m->retrieve, e))
        return false;
    for (size_t i = 0; m->retrieve && i < json_array_size(m->retrieve); i++)
        if (name_is(json_array_get(m->retrieve, i), "*"))
            m->retrieve = NULL;
    return read_query(o, c, m, e) && read_paging(o, c, m, e) &&
           read_facets(o, m, e) && read_highlight(o, m, e) &&
           read_crop(o, m, e) && read_sort(o, m, e) && read_tags(o, m, e) &&
           read_filter(o, m, e);
}

/* ---- GET parameters as the same JSON ---- */

static json_t *param_value(const cxs_param *p) {
    static const char *const COUNTS[] = {"offset", "limit", "page",
                                         "hitsPerPage", "cropLength"};
    static const char *const LISTS[] = {"facets", "attributesToRetrieve",
                                        "attributesToHighlight",
                                        "attributesToCrop", "sort"};
    for (size_t i = 0; i < sizeof COUNTS / sizeof COUNTS[0]; i++)
        if (strcmp(p->key, COUNTS[i]) == 0) {
            int digits = p->vlen > 0 && p->vlen < 16 &&
                         strspn(p->val, "0123456789") == p->vlen;
            return digits ? json_integer(strtoll(p->val, NULL, 10))
                          : cxs_json_str(p->val, p->vlen);
        }
    for (size_t i = 0; i < sizeof LISTS / sizeof LISTS[0]; i++)
        if (strcmp(p->key, LISTS[i]) == 0) {
            json_t *a = json_array();
            for (const char *s = p->val; *s;) {
                size_t n = strcspn(s, ",");
                if (n)
                    json_array_append_new(a, cxs_json_str(s, n));
                s += n + (s[n] == ',');
            }
            return a;
        }
    if (strcmp(p->key, "showMatchesPosition") == 0 &&
        (strcmp(p->val, "true") == 0 || strcmp(p->val, "false") == 0))
        return json_boolean(p->val[0] == 't');
    return cxs_json_str(p->val, p->vlen);
}

static json_t *params_json(const cxs_req *r) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < r->nparams; i++)
        if (strlen(r->params[i].key) == r->params[i].klen)
            json_object_set_new(o, r->params[i].key,
                                param_value(&r->params[i]));
    return o;
}

/* ---- formatting ---- */

static cxs_status put_plain(cxs_buf *b, const mreq *m, const char *s,
                            size_t n) {
    return m->html ? cxs_buf_append_html(b, s, n) : cxs_buf_append(b, s, n);
}

/* The index's marked text s with the client's tags (or none), escaped
 * when the tags are HTML, and the crop marker where the index cut. */
static json_t *fmt_marked(const mreq *m, const char *s, int highlight,
                          int cropped) {
    cxs_buf b = CXS_BUF_INIT;
    const char *end = s + strlen(s);
    int head = cropped && strncmp(s, CROP_HEAD, strlen(CROP_HEAD)) == 0;
    int tail = cropped && (size_t)(end - s) >= strlen(CROP_TAIL) &&
               strcmp(end - strlen(CROP_TAIL), CROP_TAIL) == 0;
    cxs_status rc = head ? cxs_buf_appends(&b, m->marker) : CXS_OK;
    s += head ? strlen(CROP_HEAD) : 0;
    end -= tail ? strlen(CROP_TAIL) : 0;
    int open = 0;
    while (rc == CXS_OK && s < end) {
        size_t n = 0;
        while (s + n < end && s[n] != MK_PRE && s[n] != MK_POST)
            n++;
        rc = put_plain(&b, m, s, n);
        s += n;
        if (rc != CXS_OK || s >= end)
            break;
        int opens = *s++ == MK_PRE;
        if (opens == open)
            continue; /* unbalanced: a stray marker byte in the post */
        open = opens;
        if (highlight)
            rc = cxs_buf_appends(&b, open ? m->pre : m->post);
    }
    if (rc == CXS_OK && open && highlight)
        rc = cxs_buf_appends(&b, m->post);
    if (rc == CXS_OK && tail)
        rc = cxs_buf_appends(&b, m->marker);
    json_t *j = rc == CXS_OK ? cxs_json_str(b.data ? b.data : "", b.len) : NULL;
    cxs_buf_release(&b);
    return j;
}

static json_t *fmt_plain(const mreq *m, const json_t *v) {
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(a, fmt_plain(m, x));
        return a;
    }
    if (!json_is_string(v) || !m->html)
        return json_deep_copy(v);
    cxs_buf b = CXS_BUF_INIT;
    json_t *j = cxs_buf_append_html(&b, json_string_value(v),
                                    json_string_length(v)) == CXS_OK
                    ? cxs_json_str(b.data ? b.data : "", b.len)
                    : NULL;
    cxs_buf_release(&b);
    return j;
}

static json_t *formatted(const mreq *m, const cxs_hit *h, json_t *doc) {
    json_t *f = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        json_t *x;
        if (strcmp(key, "title") == 0 && json_is_string(v))
            x = fmt_marked(m, h->title_hl ? h->title_hl : json_string_value(v),
                           m->hl_title, 0);
        else if (strcmp(key, "text") == 0 && json_is_string(v))
            x = fmt_marked(m, h->snippet ? h->snippet : "", m->hl_text,
                           m->crop_text);
        else
            x = fmt_plain(m, v);
        json_object_set_new(f, key, x);
    }
    return f;
}

/* Byte spans of raw marked in m (the index's marked copy, where runs of
 * white space may be folded to one space). */
static json_t *positions(const char *raw, const char *m) {
    json_t *a = json_array();
    size_t i = 0, j = 0, start = 0;
    int open = 0;
    while (raw && m && m[j]) {
        if (m[j] == MK_PRE || m[j] == MK_POST) {
            if (m[j] == MK_POST && open)
                json_array_append_new(a, json_pack("{sIsI}", "start",
                                                   (json_int_t)start, "length",
                                                   (json_int_t)(i - start)));
            open = m[j] == MK_PRE;
            start = i;
            j++;
        } else if (raw[i] && raw[i] == m[j]) {
            i++, j++;
        } else if (raw[i] && strchr(" \t\r\n", raw[i])) {
            i++;
        } else if (m[j] == ' ') {
            j++;
        } else {
            break; /* lost: keep what was found */
        }
    }
    return a;
}

static void add_positions(json_t *mp, const char *key, const char *raw,
                          const char *marked) {
    json_t *a = positions(raw, marked);
    if (json_array_size(a))
        json_object_set_new(mp, key, a);
    else
        json_decref(a);
}

/* The stored post as a document: every field but the source file. */
static json_t *document(const mreq *m, const cxs_post *p) {
    json_t *doc = cxs_post_to_json(p);
    if (!doc)
        return NULL;
    json_object_del(doc, "source");
    if (!m->retrieve)
        return doc;
    json_t *picked = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        for (size_t i = 0; i < json_array_size(m->retrieve); i++)
            if (name_is(json_array_get(m->retrieve, i), key)) {
                json_object_set(picked, key, v);
                break;
            }
    }
    json_decref(doc);
    return picked;
}

static json_t *hit_json(const mreq *m, const cxs_hit *h, const char *full) {
    json_t *o = document(m, &h->post);
    if (!o)
        return NULL;
    if (m->formatted)
        json_object_set_new(o, "_formatted", formatted(m, h, o));
    if (m->show_matches) {
        json_t *mp = json_object();
        add_positions(mp, "title", h->post.title, h->title_hl);
        add_positions(mp, "text", h->post.text, full);
        json_object_set_new(o, "_matchesPosition", mp);
    }
    return o;
}

/* ---- searching ---- */

typedef struct mctx {
    cxs_req *r;
    cxs_index *ix;
} mctx;

static bool run(mctx *c, const mreq *m, int full, unsigned facets,
               cxs_search_res *res, merr *e) {
    cxs_search_req q;
    cxs_err err = {0};
    memset(&q, 0, sizeof q);
    q.q = m->q;
    q.q_len = m->qlen;
    q.offset = m->offset;
    q.limit = m->limit;
    q.sort = m->sort;
    q.facets = facets;
    q.hl_pre = "\x01";
    q.hl_post = "\x02";
    q.hl_no_escape = 1;
    q.snippet_words = m->crop_len;
    q.snippet_full = full;
    q.want_text = 1;
    q.filter = m->filter;
    /* Meilisearch reads the last word of a query, when nothing follows
     * it, as a prefix too: widgets search as the user types. */
    q.typing = 1;
    if (cxs_index_search(c->ix, &q, res, &err) == CXS_OK)
        return true;
    if (err.code == CXS_ERR_INVALID || err.code == CXS_ERR_TOO_LARGE)
        return bad(e, 400, "invalid_search_q", "%s", err.msg);
    cxs_log_msg("error", "meili search: %s", err.msg);
    return bad(e, 500, "internal", "search failed: %s", err.msg);
}

static json_t *hits_json(mctx *c, const mreq *m, const cxs_search_res *res,
                         merr *e) {
    cxs_search_res full;
    int have_full = 0;
    memset(&full, 0, sizeof full);
    if (m->show_matches && m->crop_text) {
        if (!run(c, m, 1, 0, &full, e)) {
            cxs_search_res_release(&full);
            return NULL;
        }
        have_full = 1;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < res->nhits; i++) {
        const cxs_hit *h = &res->hits[i];
        const char *marked = !m->crop_text ? h->snippet : NULL;
        if (have_full && i < full.nhits &&
            strcmp(full.hits[i].post.id, h->post.id) == 0)
            marked = full.hits[i].snippet;
        json_t *j = hit_json(m, h, marked);
        if (!j || json_array_append_new(a, j) != 0) {
            json_decref(a);
            a = NULL;
            bad(e, 500, "internal", "cannot render a hit");
        }
    }
    cxs_search_res_release(&full);
    return a;
}

static json_t *facets_json(const mreq *m, const cxs_search_res *res,
                           json_t *stats) {
    /* The index names its facets in the order of the CXS_FACET_* bits. */
    static const char *const IX_NAMES[CXS_NFACETS] = {"channel", "author",
                                                      "lang", "tag", "year"};
    json_t *d = json_object();
    for (size_t i = 0; i < res->nfacets; i++) {
        const cxs_facet *f = &res->facets[i];
        unsigned bit = 0;
        for (unsigned k = 0; k < CXS_NFACETS; k++)
            if (strcmp(IX_NAMES[k], f->name) == 0)
                bit = 1u << k;
        if (!(m->facets & bit))
            continue; /* counted only to make totals exact */
        json_t *o = json_object();
        long lo = 0, hi = 0;
        for (size_t j = 0; j < f->n; j++) {
            json_t *key = cxs_json_cstr(f->v[j].value);
            if (key)
                json_object_set_new(o, json_string_value(key),
                                    json_integer((json_int_t)f->v[j].count));
            json_decref(key);
            long y = strtol(f->v[j].value, NULL, 10);
            lo = j == 0 || y < lo ? y : lo;
            hi = j == 0 || y > hi ? y : hi;
        }
        const char *name = m->facet_name[facet_index(bit)];
        json_object_set_new(d, name, o);
        if (bit == CXS_FACET_YEAR && f->n)
            json_object_set_new(stats, name,
                                json_pack("{sIsI}", "min", (json_int_t)lo,
                                          "max", (json_int_t)hi));
    }
    return d;
}

static void add_paging(json_t *o, const mreq *m, const cxs_search_res *res) {
    if (m->paged) {
        size_t per = m->hpp ? m->limit : 0;
        size_t pages = per ? (res->total + per - 1) / per : 0;
        json_object_set_new(o, "hitsPerPage", json_integer((json_int_t)m->hpp));
        json_object_set_new(o, "page", json_integer((json_int_t)m->page));
        json_object_set_new(o, "totalPages", json_integer((json_int_t)pages));
        json_object_set_new(o, "totalHits",
                            json_integer((json_int_t)res->total));
    } else {
        json_object_set_new(o, "offset",
                            json_integer((json_int_t)m->req_offset));
        json_object_set_new(o, "limit", json_integer((json_int_t)m->limit));
        json_object_set_new(o, "estimatedTotalHits",
                            json_integer((json_int_t)res->total));
    }
}

/* One search answered as Meilisearch does; NULL with e filled. */
static json_t *search_one(mctx *c, const mreq *m, merr *e) {
    cxs_search_res res;
    memset(&res, 0, sizeof res);
    double t0 = cxs_server_now();
    unsigned facets = m->facets | (m->paged ? CXS_FACET_LANG : 0);
    json_t *hits = NULL, *o = NULL;
    if (run(c, m, !m->crop_text, facets, &res, e))
        hits = hits_json(c, m, &res, e);
    if (hits) {
        o = json_object();
        json_object_set_new(o, "hits", hits);
        json_object_set_new(o, "query", cxs_json_str(m->q, m->qlen));
        json_object_set_new(
            o, "processingTimeMs",
            json_integer((json_int_t)llround((cxs_server_now() - t0) * 1e3)));
        add_paging(o, m, &res);
        if (m->facets) {
            json_t *stats = json_object();
            json_object_set_new(o, "facetDistribution",
                                facets_json(m, &res, stats));
            json_object_set_new(o, "facetStats", stats);
        }
        c->r->hits += (long)res.nhits;
    }
    cxs_search_res_release(&res);
    return o;
}

/* ---- handlers ---- */

static bool open_reader(mctx *c, merr *e) {
    cxs_err err = {0};
    if (cxs_server_reader(c->r->srv, c->r->snap, &c->ix, &err) == CXS_OK)
        return true;
    cxs_log_msg("error", "index: %s", err.msg);
    return bad(e, 503, "internal", "index unavailable: %s", err.msg);
}

static bool check_uid(const cxs_req *r, const char *uid, size_t n, merr *e) {
    const char *want = r->snap->cfg->meili_index_uid;
    if (strlen(want) == n && memcmp(want, uid, n) == 0)
        return true;
    return bad(e, 404, "index_not_found", "Index `%.*s` not found.",
               (int)(n > 200 ? 200 : n), uid);
}

static json_t *load_body(const cxs_req *r, merr *e) {
    json_error_t je;
    json_t *root =
        json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);
    if (!root)
        bad(e, 400, "malformed_payload",
            "the request body is not valid JSON: line %d, column %d: %s",
            je.line, je.column, je.text);
    return root;
}

static void reply(cxs_req *r, json_t *o, const merr *e, const char *prefix) {
    if (o)
        cxs_req_json(r, 200, o);
    else
        cxs_req_error(r, e->status ? e->status : 500,
                      e->code[0] ? e->code : "internal", "%s%s", prefix,
                      e->msg);
}

void cxs_api_meili_search(cxs_req *r) {
    merr e = {0};
    mreq m;
    mctx c = {r, NULL};
    json_t *root = NULL, *o = NULL;
    memset(&m, 0, sizeof m);
    r->hits = 0;
    if (check_uid(r, r->param, r->param_len, &e)) {
        root = r->method == CXS_M_POST ? load_body(r, &e) : params_json(r);
        if (root && mreq_read(root, r->snap->cfg, &m, &e) &&
            open_reader(&c, &e))
            o = search_one(&c, &m, &e);
    }
    reply(r, o, &e, "");
    mreq_release(&m);
    json_decref(root);
}

/* One element of "queries": its uid, then the search. */
static json_t *multi_one(mctx *c, const json_t *q, merr *e) {
    const json_t *uid = json_object_get(q, "indexUid");
    mreq m;
    json_t *o = NULL;
    memset(&m, 0, sizeof m);
    if (!json_is_object(q))
        bad(e, 400, "bad_request", "expected an object");
    else if (!json_is_string(uid))
        bad(e, 400, "missing_index_uid", "Missing field `indexUid`");
    else if (check_uid(c->r, json_string_value(uid), json_string_length(uid),
                       e) &&
             mreq_read(q, c->r->snap->cfg, &m, e))
        o = search_one(c, &m, e);
    mreq_release(&m);
    if (!o)
        return NULL;
    json_t *res = json_object();
    json_object_set(res, "indexUid", (json_t *)uid);
    json_object_update(res, o);
    json_decref(o);
    return res;
}

void cxs_api_meili_multi_search(cxs_req *r) {
    merr e = {0};
    mctx c = {r, NULL};
    char prefix[48] = "";
    json_t *root = load_body(r, &e), *results = NULL;
    const json_t *qs = json_object_get(root, "queries");
    const json_t *fed = json_object_get(root, "federation");
    r->hits = 0;
    if (root && !json_is_array(qs))
        bad(&e, 400, "bad_request", "`queries`: expected an array of queries");
    else if (root && fed && !json_is_null(fed))
        bad(&e, 400, "bad_request", "federated search is not supported");
    else if (root && open_reader(&c, &e))
        results = json_array();
    for (size_t i = 0; results && i < json_array_size(qs); i++) {
        json_t *one = multi_one(&c, json_array_get(qs, i), &e);
        if (!one) {
            snprintf(prefix, sizeof prefix, "Inside `.queries[%zu]`: ", i);
            json_decref(results);
            results = NULL;
        } else {
            json_array_append_new(results, one);
        }
    }
    reply(r, results ? json_pack("{so}", "results", results) : NULL, &e,
          prefix);
    json_decref(root);
}

/* ---- facet search ---- */

/* Whether the folded value has a word starting with the folded query. */
static bool facet_matches(const char *value, const cxs_buf *fq) {
    cxs_buf fv = CXS_BUF_INIT;
    int hit = fq->len == 0;
    if (!hit && cxs_terms_field("", value, &fv) == CXS_OK && fv.data)
        for (size_t i = 0; !hit && i + fq->len <= fv.len; i++)
            hit = (i == 0 || strchr(" _-./", fv.data[i - 1])) &&
                  memcmp(fv.data + i, fq->data, fq->len) == 0;
    cxs_buf_release(&fv);
    return hit;
}

static json_t *facet_hits(const cxs_search_res *res, const char *fq_text,
                          merr *e) {
    cxs_buf fq = CXS_BUF_INIT;
    if (fq_text && cxs_terms_field("", fq_text, &fq) != CXS_OK) {
        cxs_buf_release(&fq);
        bad(e, 400, "invalid_facet_search_facet_query",
            "facetQuery: not a valid value");
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; res->nfacets && i < res->facets[0].n &&
                       json_array_size(a) < MAX_FACET_HITS;
         i++) {
        const cxs_facet_count *v = &res->facets[0].v[i];
        if (facet_matches(v->value, &fq))
            json_array_append_new(a, json_pack("{sosI}", "value",
                                               cxs_json_cstr(v->value), "count",
                                               (json_int_t)v->count));
    }
    cxs_buf_release(&fq);
    return a;
}

static json_t *facet_search(mctx *c, const json_t *root, merr *e) {
    mreq m;
    const char *name = NULL, *fq = NULL;
    json_t *o = NULL;
    cxs_search_res res;
    memset(&m, 0, sizeof m);
    memset(&res, 0, sizeof res);
    double t0 = cxs_server_now();
    if (!json_is_object(root) ||
        !json_is_string(json_object_get(root, "facetName")))
        bad(e, 400, "missing_facet_search_facet_name",
            "Missing field `facetName`");
    else if (get_str(root, "facetName", "invalid_facet_search_facet_name", 64,
                     &name, e) &&
             get_str(root, "facetQuery", "invalid_facet_search_facet_query", 0,
                     &fq, e) &&
             mreq_read(root, c->r->snap->cfg, &m, e)) {
        m.facets = 0;
        m.limit = 0;
        if (!add_facet(&m, name, e) || strcmp(name, "*") == 0) {
            bad(e, 400, "invalid_facet_search_facet_name",
                "facetName: `%.64s` is not a facet; facets are author, "
                "channel, lang, tags, year",
                name);
        } else if (open_reader(c, e) && run(c, &m, 0, m.facets, &res, e)) {
            json_t *hits = facet_hits(&res, fq, e);
            if (hits)
                o = json_pack(
                    "{soso?sI}", "facetHits", hits, "facetQuery",
                    fq ? json_string(fq) : NULL, "processingTimeMs",
                    (json_int_t)llround((cxs_server_now() - t0) * 1e3));
        }
    }
    cxs_search_res_release(&res);
    mreq_release(&m);
    return o;
}

void cxs_api_meili_facet_search(cxs_req *r) {
    merr e = {0};
    mctx c = {r, NULL};
    json_t *root = NULL, *o = NULL;
    r->hits = 0;
    if (check_uid(r, r->param, r->param_len, &e) && (root = load_body(r, &e)))
        o = facet_search(&c, root, &e);
    reply(r, o, &e, "");
    json_decref(root);
}
