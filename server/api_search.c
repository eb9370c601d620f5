/*
 * api_search.c - the read side of the native API: GET/POST /search,
 * /suggest, /documents/{id}, /documents/{id}/similar, /health, /stats,
 * /metrics (docs/api.md describes every parameter and answer).
 *
 * Facts that shaped it:
 *  - GET parameters and a POST body name the same things; both are read
 *    into one search_params, then checked once, so the two cannot drift.
 *  - Bad user input is a 400 naming the parameter, never a 500. Which
 *    values are clamped and which refused is a documented choice:
 *    limit over max_limit and snippet_words over snippet_words_max are
 *    clamped (the answer says which limit was used); a negative or
 *    non-numeric number, offset over max_offset, an unknown sort, facet or
 *    field, and a query over max_query_bytes are refused. Unknown GET
 *    parameters are ignored (caches and browsers add their own); unknown
 *    keys in a POST body are refused (a typo there is a bug to report).
 *  - Every string echoed back goes through cxs_json_str: the query may hold
 *    invalid UTF-8 or NUL bytes and JSON output must stay valid.
 */
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meili_api.h"
#include "routes.h"
#include "sources.h"

/* Which hit fields to return. */
enum {
    F_ID = 1u << 0,
    F_SCORE = 1u << 1,
    F_TITLE = 1u << 2,
    F_SNIPPET = 1u << 3,
    F_CHANNEL = 1u << 4,
    F_AUTHOR = 1u << 5,
    F_DATE = 1u << 6,
    F_LANG = 1u << 7,
    F_URL = 1u << 8,
    F_TAGS = 1u << 9,
    F_TEXT = 1u << 10,
    F_SOURCE = 1u << 11,
    F_DEFAULT = (1u << 10) - 1,
    F_ALL = (1u << 12) - 1
};

static const char *const FIELD_NAMES[] = {
    "id",   "score", "title", "snippet", "channel", "author",
    "date", "lang",  "url",   "tags",    "text",    "source"};
static const char *const FACET_NAMES[] = {"channel", "author", "lang", "tag",
                                          "year"};

#define MAX_HL 64

typedef struct strv {
    const char **v;
    size_t n;
} strv;

typedef struct search_params {
    const char *q;
    size_t qlen;
    size_t limit, offset;
    int limit_clamped;
    cxs_sort sort;
    strv channels, authors, langs, tags;
    const char *from, *to;
    unsigned facets;
    const char *hl_pre, *hl_post;
    unsigned snippet_words;
    unsigned fields;
    int exact, typing; /* -1: not given */
} search_params;

/* A 400 naming the parameter; false, so checks can be chained. */
#define BAD(r, ...) \
    (cxs_req_error((r), 400, "bad_parameter", __VA_ARGS__), false)

static void params_release(search_params *p) {
    free(p->channels.v);
    free(p->authors.v);
    free(p->langs.v);
    free(p->tags.v);
}

static bool strv_push(strv *s, const char *v) {
    const char **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
    if (!nv)
        return false;
    nv[s->n++] = v;
    s->v = nv;
    return true;
}

/* Decimal digits only; saturates instead of overflowing. */
static bool parse_count(const char *s, size_t n, size_t *out) {
    size_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v > (SIZE_MAX - 9) / 10 ? SIZE_MAX : v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool set_limit(cxs_req *r, search_params *p, size_t v) {
    size_t max = r->snap->cfg->max_limit;
    p->limit = v > max ? max : v;
    p->limit_clamped = v > max;
    return true;
}

static bool set_offset(cxs_req *r, search_params *p, size_t v) {
    if (v > r->snap->cfg->max_offset)
        return BAD(r, "offset: %zu is over the maximum %zu (max_offset)", v,
                   r->snap->cfg->max_offset);
    p->offset = v;
    return true;
}

static bool set_sort(cxs_req *r, search_params *p, const char *v) {
    if (strcmp(v, "relevance") == 0)
        p->sort = CXS_SORT_RELEVANCE;
    else if (strcmp(v, "-date") == 0)
        p->sort = CXS_SORT_DATE_DESC;
    else if (strcmp(v, "date") == 0)
        p->sort = CXS_SORT_DATE_ASC;
    else
        return BAD(r, "sort: expected relevance, date or -date");
    return true;
}

/* One comma-separated list item of facets or fields. */
static bool set_names(cxs_req *r, const char *what, const char *v, size_t n,
                     const char *const *names, size_t nnames, unsigned *mask) {
    if (n == 1 && v[0] == '*') {
        *mask |= (1u << nnames) - 1;
        return true;
    }
    for (size_t i = 0; i < nnames; i++)
        if (strlen(names[i]) == n && memcmp(names[i], v, n) == 0) {
            *mask |= 1u << i;
            return true;
        }
    return BAD(r, "%s: unknown name '%.*s'", what, (int)(n > 64 ? 64 : n), v);
}

static bool set_list(cxs_req *r, const char *what, const char *v,
                    const char *const *names, size_t nnames, unsigned *mask) {
    while (*v) {
        size_t n = strcspn(v, ",");
        const char *a = v;
        while (n > 0 && *a == ' ')
            a++, n--;
        while (n > 0 && a[n - 1] == ' ')
            n--;
        if (n > 0 && !set_names(r, what, a, n, names, nnames, mask))
            return false;
        v += strcspn(v, ",");
        v += *v == ',';
    }
    return true;
}

static bool set_snippet_words(cxs_req *r, search_params *p, size_t v) {
    unsigned max = r->snap->cfg->snippet_words_max;
    if (v == 0)
        return BAD(r, "snippet_words: must be at least 1");
    p->snippet_words = v > max ? max : (unsigned)v;
    return true;
}

static bool set_highlight(cxs_req *r, const char *name, const char **dst,
                         const char *v, size_t n) {
    if (n > MAX_HL || strlen(v) != n)
        return BAD(r, "%s: at most %d bytes, no NUL", name, MAX_HL);
    *dst = v;
    return true;
}

/* A filter value: a string without NUL bytes. */
static bool add_filter(cxs_req *r, const char *name, strv *dst, const char *v,
                      size_t n) {
    if (strlen(v) != n)
        return BAD(r, "%s: NUL byte in value", name);
    if (!strv_push(dst, v)) {
        cxs_req_error(r, 500, "out_of_memory", "out of memory");
        return false;
    }
    return true;
}

static strv *filter_of(search_params *p, const char *key) {
    return strcmp(key, "channel") == 0  ? &p->channels
           : strcmp(key, "author") == 0 ? &p->authors
           : strcmp(key, "lang") == 0   ? &p->langs
           : strcmp(key, "tag") == 0    ? &p->tags
                                        : NULL;
}

/* exact=1, typing=true: 1/0, true/false, yes/no, on/off. */
static bool set_flag(cxs_req *r, const char *name, int *dst, const char *v) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0)
            return *dst = 1, true;
        if (strcmp(v, no[i]) == 0)
            return *dst = 0, true;
    }
    return BAD(r, "%s: expected 1 or 0 (true or false)", name);
}

/* Whether key names a search parameter (unknown ones are ignored in a
 * query string and refused in a request body). */
static bool is_param(search_params *p, const char *key) {
    static const char *const names[] = {
        "q",     "from",   "to",     "highlight_pre", "highlight_post",
        "sort",  "facets", "fields", "limit",         "offset",
        "exact", "typing", "snippet_words"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return true;
    return filter_of(p, key) != NULL;
}

/* One named value from the query string or a JSON string member. Returns
 * true when used or not a parameter (is_param), false after queueing a
 * 400. */
static bool set_param(cxs_req *r, search_params *p, const char *key,
                     const char *v, size_t n) {
    size_t num;
    strv *f = filter_of(p, key);
    if (f)
        return add_filter(r, key, f, v, n);
    if (strcmp(key, "q") == 0)
        return p->q = v, p->qlen = n, 1;
    if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
        if (strlen(v) != n || n > 32)
            return BAD(r,
                       "%s: expected a date like 2024, 2024-03 or "
                       "2024-03-05",
                       key);
        return *(key[0] == 'f' ? &p->from : &p->to) = v, 1;
    }
    if (strcmp(key, "highlight_pre") == 0)
        return set_highlight(r, key, &p->hl_pre, v, n);
    if (strcmp(key, "highlight_post") == 0)
        return set_highlight(r, key, &p->hl_post, v, n);
    if (strcmp(key, "sort") == 0)
        return set_sort(r, p, v);
    if (strcmp(key, "exact") == 0 || strcmp(key, "typing") == 0)
        return set_flag(r, key, key[0] == 'e' ? &p->exact : &p->typing, v);
    if (strcmp(key, "facets") == 0)
        return set_list(r, key, v, FACET_NAMES, 5, &p->facets);
    if (strcmp(key, "fields") == 0)
        return set_list(r, key, v, FIELD_NAMES, 12, &p->fields);
    int is_num = strcmp(key, "limit") == 0 || strcmp(key, "offset") == 0 ||
                 strcmp(key, "snippet_words") == 0;
    if (!is_num)
        return true;
    if (!parse_count(v, n, &num))
        return BAD(r, "%s: expected a whole number from 0, got '%.*s'", key,
                   (int)(n > 32 ? 32 : n), v);
    return key[0] == 'l'   ? set_limit(r, p, num)
           : key[0] == 'o' ? set_offset(r, p, num)
                           : set_snippet_words(r, p, num);
}

static void params_init(cxs_req *r, search_params *p) {
    memset(p, 0, sizeof *p);
    p->exact = p->typing = -1;
    p->limit = r->snap->cfg->default_limit;
}

static bool params_from_query(cxs_req *r, search_params *p) {
    params_init(r, p);
    int fields_given = 0;
    for (size_t i = 0; i < r->nparams; i++) {
        const cxs_param *pa = &r->params[i];
        fields_given |= strcmp(pa->key, "fields") == 0;
        if (!set_param(r, p, pa->key, pa->val, pa->vlen))
            return false;
    }
    if (!fields_given)
        p->fields = F_DEFAULT;
    return true;
}

/* A JSON member: strings as such, whole numbers as their digits, arrays of
 * strings for the repeatable names. */
static bool set_json_member(cxs_req *r, search_params *p, const char *key,
                           json_t *v) {
    char num[32];
    if ((json_is_string(v) || json_is_integer(v)) && !is_param(p, key))
        return BAD(r, "unknown key '%s' in the request body", key);
    if (json_is_string(v))
        return set_param(r, p, key, json_string_value(v),
                         json_string_length(v));
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return BAD(r, "%s: must not be negative", key);
        int n = snprintf(num, sizeof num, "%lld", (long long)i);
        if (!set_param(r, p, key, num, (size_t)n))
            return false;
        if (strcmp(key, "limit") && strcmp(key, "offset") &&
            strcmp(key, "snippet_words") && strcmp(key, "exact") &&
            strcmp(key, "typing"))
            return BAD(r, "%s: expected a string", key);
        return true;
    }
    if (json_is_array(v) && (filter_of(p, key) || !strcmp(key, "facets") ||
                             !strcmp(key, "fields"))) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!json_is_string(e))
                return BAD(r, "%s: expected an array of strings", key);
            if (!set_param(r, p, key, json_string_value(e),
                           json_string_length(e)))
                return false;
        }
        return true;
    }
    if (json_is_null(v))
        return true;
    if (json_is_boolean(v) && (!strcmp(key, "exact") || !strcmp(key, "typing")))
        return set_param(r, p, key, json_is_true(v) ? "1" : "0", 1);
    return BAD(r, "%s: wrong type", key);
}

static bool params_from_body(cxs_req *r, search_params *p, json_t **root) {
    json_error_t je;
    params_init(r, p);
    *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);
    if (!*root)
        return BAD(r, "request body: invalid JSON at line %d, column %d: %s",
                   je.line, je.column, je.text);
    if (!json_is_object(*root))
        return BAD(r, "request body: expected a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(*root, key, v) {
        if (!set_json_member(r, p, key, v))
            return false;
    }
    if (!json_object_get(*root, "fields"))
        p->fields = F_DEFAULT;
    return true;
}

static bool check_query(cxs_req *r, const search_params *p) {
    size_t max = r->snap->cfg->max_query_bytes;
    if (p->qlen > max)
        return BAD(r,
                   "q: the query is %zu bytes, over the limit of %zu "
                   "(max_query_bytes)",
                   p->qlen, max);
    return true;
}

static void to_request(const search_params *p, cxs_search_req *q) {
    memset(q, 0, sizeof *q);
    q->q = p->q;
    q->q_len = p->qlen;
    q->offset = p->offset;
    q->limit = p->limit;
    q->sort = p->sort;
    q->channels = p->channels.v;
    q->nchannels = p->channels.n;
    q->authors = p->authors.v;
    q->nauthors = p->authors.n;
    q->langs = p->langs.v;
    q->nlangs = p->langs.n;
    q->tags = p->tags.v;
    q->ntags = p->tags.n;
    q->date_from = p->from;
    q->date_to = p->to;
    q->facets = p->facets;
    q->hl_pre = p->hl_pre;
    q->hl_post = p->hl_post;
    q->snippet_words = p->snippet_words;
    q->want_text = (p->fields & F_TEXT) != 0;
    q->exact = p->exact == 1;
    q->typing = p->typing == 1;
}

/* ---- JSON of results ---- */

static json_t *escaped(const char *s) {
    cxs_buf b;
    cxs_buf_init(&b, 0);
    if (!s || cxs_buf_append_html(&b, s, strlen(s)) != CXS_OK) {
        cxs_buf_release(&b);
        return s ? NULL : json_null();
    }
    json_t *j = cxs_json_str(b.data ? b.data : "", b.len);
    cxs_buf_release(&b);
    return j;
}

static json_t *tags_json(const cxs_post *p) {
    json_t *a = json_array();
    for (size_t i = 0; i < p->ntags; i++)
        json_array_append_new(a, cxs_json_cstr(p->tags[i]));
    return a;
}

static json_t *source_json(const cxs_post *p) {
    if (!p->source_file)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "file", cxs_json_cstr(p->source_file));
    if (p->source_line > 0)
        json_object_set_new(o, "line", json_integer(p->source_line));
    return o;
}

static json_t *hit_json(const cxs_hit *h, unsigned f) {
    const cxs_post *p = &h->post;
    json_t *o = json_object();
    json_object_set_new(o, "id", cxs_json_cstr(p->id));
    if (f & F_SCORE)
        json_object_set_new(o, "score", json_real(h->score));
    if (f & F_TITLE)
        json_object_set_new(o, "title",
                            h->title_hl ? cxs_json_cstr(h->title_hl)
                                        : escaped(p->title));
    if (f & F_SNIPPET)
        json_object_set_new(o, "snippet",
                            cxs_json_cstr(h->snippet ? h->snippet : ""));
    const struct {
        unsigned bit;
        const char *name, *val;
    } S[] = {{F_CHANNEL, "channel", p->channel},
             {F_AUTHOR, "author", p->author},
             {F_DATE, "date", p->date},
             {F_LANG, "lang", p->lang},
             {F_URL, "url", p->url},
             {F_TEXT, "text", p->text}};
    for (size_t i = 0; i < sizeof S / sizeof S[0]; i++)
        if (f & S[i].bit)
            json_object_set_new(o, S[i].name, cxs_json_cstr(S[i].val));
    if (f & F_TAGS)
        json_object_set_new(o, "tags", tags_json(p));
    if (f & F_SOURCE)
        json_object_set_new(o, "source", source_json(p));
    return o;
}

/* Sets obj[key] = v with key made valid UTF-8 first. */
static void set_lossy(json_t *obj, const char *key, json_t *v) {
    json_t *k = cxs_json_cstr(key);
    if (k)
        json_object_setn_new(obj, json_string_value(k), json_string_length(k),
                             v);
    else
        json_decref(v);
    json_decref(k);
}

static json_t *facet_json(const cxs_facet *f) {
    json_t *o = json_object();
    for (size_t i = 0; i < f->n; i++)
        set_lossy(o, f->v[i].value, json_integer((json_int_t)f->v[i].count));
    return o;
}

static json_t *hits_json(const cxs_search_res *res, unsigned fields) {
    json_t *a = json_array();
    for (size_t i = 0; i < res->nhits; i++)
        json_array_append_new(a, hit_json(&res->hits[i], fields));
    return a;
}

static double ms_since(double t0) {
    return round((cxs_server_now() - t0) * 1e6) / 1e3;
}

/* The rewrites, and the query with the replacements applied at the
 * places they were typed (synonyms are searched besides the words, so
 * they replace nothing; a completion stands for the word typed so far):
 * read_as only when some word was replaced. */
static void rewrites_json(json_t *o, const search_params *p,
                          const cxs_search_res *res) {
    json_t *a = json_array();
    cxs_buf q = CXS_BUF_INIT;
    const char *s = p->q ? p->q : "";
    size_t at = 0, n = p->q ? p->qlen : 0;
    cxs_status rc = CXS_OK;
    int changed = 0;
    for (size_t i = 0; i < res->nrewrites; i++) {
        const cxs_rewrite *w = &res->rewrites[i];
        json_t *e = json_object();
        json_object_set_new(e, "typed", cxs_json_cstr(w->typed));
        json_object_set_new(e, "read_as", cxs_json_cstr(w->read_as));
        json_object_set_new(e, "why",
                            json_string(cxs_rewrite_why_name(w->why)));
        json_array_append_new(a, e);
        if (w->why == CXS_RW_SYNONYM || w->start < at ||
            w->start + w->len > n || rc != CXS_OK)
            continue; /* a second reading of one word is not applied */
        changed = 1;
        rc = cxs_buf_append(&q, s + at, w->start - at);
        if (rc == CXS_OK)
            rc = cxs_buf_appends(&q, w->read_as);
        at = w->start + w->len;
    }
    if (rc == CXS_OK)
        rc = cxs_buf_append(&q, s + at, n - at);
    json_object_set_new(o, "rewrites", a);
    if (changed && rc == CXS_OK)
        json_object_set_new(o, "read_as",
                            cxs_json_str(q.data ? q.data : "", q.len));
    cxs_buf_release(&q);
}

static json_t *search_json(const search_params *p, const cxs_search_res *res,
                           double took_ms) {
    json_t *o = json_object();
    json_object_set_new(o, "query", cxs_json_str(p->q ? p->q : "", p->qlen));
    json_object_set_new(o, "total", json_integer((json_int_t)res->total));
    json_object_set_new(o, "total_exact", json_boolean(res->total_exact));
    json_object_set_new(o, "took_ms", json_real(took_ms));
    json_object_set_new(o, "offset", json_integer((json_int_t)p->offset));
    json_object_set_new(o, "limit", json_integer((json_int_t)p->limit));
    json_object_set_new(o, "relaxed", json_boolean(res->relaxed));
    if (res->suggestion)
        json_object_set_new(o, "suggestion", cxs_json_cstr(res->suggestion));
    rewrites_json(o, p, res);
    json_object_set_new(o, "hits", hits_json(res, p->fields));
    if (p->facets) {
        json_t *fo = json_object();
        for (size_t i = 0; i < res->nfacets; i++)
            set_lossy(fo, res->facets[i].name, facet_json(&res->facets[i]));
        json_object_set_new(o, "facets", fo);
    }
    return o;
}

/* The reader of this thread, or a 503 queued. */
static cxs_index *reader_or_fail(cxs_req *r) {
    cxs_index *ix = NULL;
    cxs_err err = {0};
    if (cxs_server_reader(r->srv, r->snap, &ix, &err) != CXS_OK) {
        cxs_log_msg("error", "index: %s", err.msg);
        cxs_req_error(r, 503, "index_unavailable", "index unavailable: %s",
                      err.msg);
        return NULL;
    }
    return ix;
}

static void fail_search(cxs_req *r, const cxs_err *err) {
    /* A query over the index's limit is the user's doing: a 400. */
    cxs_status st =
        err->code == CXS_ERR_TOO_LARGE ? CXS_ERR_INVALID : err->code;
    cxs_req_fail(r, st == CXS_OK ? CXS_ERR_INTERNAL : st, err->msg);
}

static void run_search(cxs_req *r, const search_params *p) {
    cxs_search_req q;
    cxs_search_res res;
    cxs_err err = {0};
    cxs_index *ix = check_query(r, p) ? reader_or_fail(r) : NULL;
    if (!ix)
        return;
    memset(&res, 0, sizeof res);
    to_request(p, &q);
    double t0 = cxs_server_now();
    if (cxs_index_search(ix, &q, &res, &err) != CXS_OK) {
        fail_search(r, &err);
    } else {
        r->hits = (long)res.nhits;
        json_t *o = search_json(p, &res, ms_since(t0));
        cxs_api_note_partial(ix, o);
        cxs_req_json(r, 200, o);
    }
    cxs_search_res_release(&res);
}

void cxs_api_search(cxs_req *r) {
    search_params p;
    json_t *root = NULL;
    int ok = r->method == CXS_M_POST ? params_from_body(r, &p, &root)
                                     : params_from_query(r, &p);
    if (ok)
        run_search(r, &p);
    params_release(&p);
    json_decref(root);
}

/* ---- /suggest ---- */

/* Titles of posts matching the query with its last word as a prefix. */
static json_t *suggest_titles(cxs_index *ix, const char *q, size_t n) {
    json_t *a = json_array();
    cxs_buf b;
    cxs_buf_init(&b, 0);
    int word_end = n > 0 && (unsigned char)q[n - 1] > ' ' && q[n - 1] != '"' &&
                   q[n - 1] != ')' && q[n - 1] != '*';
    if (n == 0 || cxs_buf_append(&b, q, n) != CXS_OK ||
        (word_end && cxs_buf_appendc(&b, '*') != CXS_OK)) {
        cxs_buf_release(&b);
        return a;
    }
    cxs_search_req req = {.q = b.data, .q_len = b.len, .limit = 5};
    cxs_search_res res;
    memset(&res, 0, sizeof res);
    if (cxs_index_search(ix, &req, &res, NULL) == CXS_OK)
        for (size_t i = 0; i < res.nhits; i++) {
            json_t *t = json_object();
            json_object_set_new(t, "id", cxs_json_cstr(res.hits[i].post.id));
            json_object_set_new(t, "title",
                                res.hits[i].title_hl
                                    ? cxs_json_cstr(res.hits[i].title_hl)
                                    : escaped(res.hits[i].post.title));
            json_array_append_new(a, t);
        }
    cxs_search_res_release(&res);
    cxs_buf_release(&b);
    return a;
}

/* The query with its last word replaced by each completion. */
static json_t *completions(const char *q, size_t n, char **words,
                           size_t nwords) {
    size_t keep = n;
    while (keep > 0 && (unsigned char)q[keep - 1] > ' ')
        keep--;
    json_t *a = json_array();
    for (size_t i = 0; i < nwords; i++) {
        cxs_buf b;
        cxs_buf_init(&b, 0);
        if (cxs_buf_append(&b, q, keep) == CXS_OK &&
            cxs_buf_appends(&b, words[i]) == CXS_OK)
            json_array_append_new(a, cxs_json_str(b.data, b.len));
        cxs_buf_release(&b);
    }
    return a;
}

void cxs_api_suggest(cxs_req *r) {
    size_t n = 0, limit = 10, nwords = 0;
    const char *q = cxs_req_param(r, "q", &n);
    const char *lim = cxs_req_param(r, "limit", NULL);
    if (!q)
        q = "";
    if (lim && !parse_count(lim, strlen(lim), &limit))
        return (void)BAD(r, "limit: expected a whole number from 0");
    if (limit > r->snap->cfg->max_limit)
        limit = r->snap->cfg->max_limit;
    if (n > r->snap->cfg->max_query_bytes)
        return (void)BAD(r, "q: over the limit of %zu bytes (max_query_bytes)",
                         r->snap->cfg->max_query_bytes);
    cxs_index *ix = reader_or_fail(r);
    char **words = NULL;
    cxs_err err = {0};
    if (!ix)
        return;
    /* The index takes a C string: a NUL ends the prefix there. */
    if (cxs_index_suggest(ix, q, limit, &words, &nwords, &err) != CXS_OK)
        return cxs_req_fail(r, err.code, err.msg);
    json_t *o = json_object();
    json_object_set_new(o, "query", cxs_json_str(q, n));
    json_object_set_new(o, "suggestions", completions(q, n, words, nwords));
    json_t *wa = json_array();
    for (size_t i = 0; i < nwords; i++) {
        json_array_append_new(wa, cxs_json_cstr(words[i]));
        free(words[i]);
    }
    free(words);
    json_object_set_new(o, "words", wa);
    json_object_set_new(o, "titles", suggest_titles(ix, q, strlen(q)));
    cxs_api_note_partial(ix, o);
    r->hits = (long)nwords;
    cxs_req_json(r, 200, o);
}

/* ---- /documents/{id} and /similar ---- */

static bool check_id(cxs_req *r) {
    if (strlen(r->param) != r->param_len || r->param_len > 4096)
        return BAD(r, "id: no NUL bytes and at most 4096 bytes");
    return true;
}

void cxs_api_document(cxs_req *r) {
    cxs_post post = CXS_POST_INIT;
    cxs_err err = {0};
    cxs_index *ix = check_id(r) ? reader_or_fail(r) : NULL;
    if (!ix)
        return;
    if (cxs_index_get(ix, r->param, &post, &err) == CXS_OK) {
        json_t *o = cxs_post_to_json(&post);
        if (o)
            cxs_req_json(r, 200, o);
        else
            cxs_req_error(r, 500, "internal", "cannot render the post");
    } else if (err.code == CXS_ERR_NOT_FOUND &&
               cxs_index_missing_shards(ix, NULL, 0)) {
        /* It may be on a shard that does not answer. */
        cxs_req_fail(r, CXS_ERR_UNAVAILABLE,
                     "no post with this id on the shards that answer; "
                     "some shards are down (see /health)");
    } else if (err.code == CXS_ERR_NOT_FOUND) {
        cxs_req_error(r, 404, "not_found", "no post with id '%s'", r->param);
    } else {
        cxs_req_fail(r, err.code, err.msg);
    }
    cxs_post_release(&post);
}

void cxs_api_similar(cxs_req *r) {
    size_t limit = r->snap->cfg->default_limit;
    const char *lim = cxs_req_param(r, "limit", NULL);
    if (!check_id(r))
        return;
    if (lim && !parse_count(lim, strlen(lim), &limit))
        return (void)BAD(r, "limit: expected a whole number from 0");
    if (limit > r->snap->cfg->max_limit)
        limit = r->snap->cfg->max_limit;
    cxs_index *ix = reader_or_fail(r);
    cxs_search_res res;
    cxs_err err = {0};
    if (!ix)
        return;
    memset(&res, 0, sizeof res);
    double t0 = cxs_server_now();
    if (cxs_index_similar(ix, r->param, limit, &res, &err) == CXS_OK) {
        json_t *o = json_object();
        json_object_set_new(o, "id", cxs_json_cstr(r->param));
        json_object_set_new(o, "total", json_integer((json_int_t)res.total));
        json_object_set_new(o, "took_ms", json_real(ms_since(t0)));
        json_object_set_new(o, "hits", hits_json(&res, F_DEFAULT));
        cxs_api_note_partial(ix, o);
        r->hits = (long)res.nhits;
        cxs_req_json(r, 200, o);
    } else if (err.code == CXS_ERR_NOT_FOUND) {
        cxs_req_error(r, 404, "not_found", "no post with id '%s'", r->param);
    } else {
        cxs_req_fail(r, err.code, err.msg);
    }
    cxs_search_res_release(&res);
}

/* ---- /health, /stats, /metrics ---- */

static bool read_stats(cxs_req *r, cxs_index_stats *st) {
    cxs_err err = {0};
    cxs_index *ix = reader_or_fail(r);
    memset(st, 0, sizeof *st);
    if (!ix)
        return false;
    if (cxs_index_stats_get(ix, st, &err) != CXS_OK) {
        cxs_req_error(r, 503, "index_unavailable", "index unavailable: %s",
                      err.msg);
        return false;
    }
    return true;
}

void cxs_api_stats(cxs_req *r) {
    cxs_index_stats st;
    if (!read_stats(r, &st))
        return;
    json_t *o = json_object();
    json_object_set_new(o, "posts", json_integer((json_int_t)st.posts));
    json_object_set_new(o, "langs", facet_json(&st.langs));
    json_object_set_new(o, "channels", facet_json(&st.channels));
    json_object_set_new(o, "disk_bytes",
                        json_integer((json_int_t)st.disk_bytes));
    json_object_set_new(o, "last_update",
                        st.last_update[0] ? cxs_json_cstr(st.last_update)
                                          : json_null());
    json_object_set_new(o, "revision", json_integer((json_int_t)st.revision));
    json_object_set_new(o, "shards",
                        json_integer((json_int_t)r->snap->cfg->ndbs));
    size_t up = 0;
    unsigned long long posts = 0;
    cxs_index *ix = NULL;
    if (cxs_server_reader(r->srv, r->snap, &ix, NULL) == CXS_OK) {
        json_object_set_new(o, "shard_list",
                            cxs_api_shards_json(ix, 0, &up, &posts));
        cxs_api_note_partial(ix, o);
    }
    json_object_set_new(
        o, "uptime_seconds",
        json_real(round((cxs_server_now() - r->srv->started) * 1000.0) /
                  1000.0));
    cxs_meili_stats_extend(r, o, &st); /* the same answer for its clients */
    cxs_index_stats_release(&st);
    cxs_req_json(r, 200, o);
}

void cxs_api_metrics(cxs_req *r) {
    cxs_metrics_gauges g = {0};
    cxs_index_stats st;
    cxs_index *ix = NULL;
    cxs_err err = {0};
    memset(&st, 0, sizeof st);
    if (cxs_server_reader(r->srv, r->snap, &ix, &err) == CXS_OK &&
        cxs_index_stats_get(ix, &st, &err) == CXS_OK) {
        g.index_ok = 1;
        g.posts = st.posts;
        g.revision = st.revision;
        g.disk_bytes = st.disk_bytes;
        cxs_index_stats_release(&st);
    }
    g.uptime_seconds = cxs_server_now() - r->srv->started;
    g.generation = atomic_load(&r->srv->generation);
    cxs_buf b;
    cxs_buf_init(&b, 0);
    if (cxs_metrics_render(r->srv->metrics, &g, &b) != CXS_OK ||
        cxs_sources_metrics(r->srv->sources, &b) != CXS_OK ||
        (ix && cxs_api_shard_metrics(ix, &b) != CXS_OK)) {
        cxs_buf_release(&b);
        cxs_req_error(r, 500, "out_of_memory", "out of memory");
        return;
    }
    size_t len = b.len;
    cxs_req_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                  cxs_buf_detach(&b), len);
}
