/*
 * follow.c - one pass over a live source (follow.h).
 *
 * Facts that shaped it:
 * - t.me/s/NAME shows the newest ~20 messages and links older ones with
 *   ?before=ID; ids grow by one per message (service messages and album
 *   parts take ids too). So what is stored is described by one range of
 *   ids [low, high]: a pass reads the newest page; if it reaches back to
 *   high + 1 the range simply grows, otherwise (many posts since the last
 *   pass) the pages in between are read first, as a second range
 *   [pend_low, pend_high] that joins the first when it reaches it. Then
 *   the backfill pages back from low. The state is committed with each
 *   page's posts; a pass killed anywhere leaves a state true of the index.
 * - A page that is gone (404) while paging back is the channel's start,
 *   not an error; the newest page failing is.
 * - Fetching happens without the index lock, writing with it: a slow
 *   source never holds up the daemon's API writes.
 * - Ids may come in any order on a page (pinned posts, albums): min and max
 *   of the page, not its first and last message, bound it.
 */
#include "follow.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_PAGES 100

typedef struct fstate {
    char kind[16];
    long long low, high, pend_low, pend_high;
    size_t read, backfill;
    int start; /* the channel's first post was reached */
    char *etag, *lm;
    char channel[128];
} fstate;

typedef struct post_list {
    cxs_post *v;
    size_t n, cap;
} post_list;

typedef struct pass {
    cxs_index *ix;
    cxs_fetcher *f;
    const char *url;
    char base[2048];
    char key[64];
    const cxs_follow_opts *o;
    cxs_follow_report *rep;
    fstate st;
    size_t max_pages;
} pass;

/* ------------------------------------------------------------- state */

/* The key of a source's state: its address without a fragment (a feed's
 * query may tell it from another: ?feed=rss2, ?feed=atom). */
static void state_key(const char *url, char *key, size_t cap) {
    unsigned long long h = cxs_post_text_hash(url, strcspn(url, "#"));
    snprintf(key, cap, "cxs.follow.%016llx", h);
}

static long long jint(json_t *o, const char *k) {
    return (long long)json_integer_value(json_object_get(o, k));
}

static char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? cxs_strndup(s, strlen(s)) : NULL;
}

/* Takes the writer (p->ix) for one write. */
static cxs_status lock(pass *p, cxs_err *err) {
    const cxs_follow_writer *w = p->o->writer;
    if (!w)
        return p->ix ? CXS_OK
                     : cxs_err_set(err, CXS_ERR_INVALID, "follow: no index");
    return w->begin(w->ud, &p->ix, err);
}

static void unlock(pass *p, int committed, int failed) {
    const cxs_follow_writer *w = p->o->writer;
    if (w) {
        w->end(w->ud, committed, failed);
        p->ix = NULL;
    }
}

static cxs_status load_state(pass *p, cxs_err *err) {
    cxs_buf b = CXS_BUF_INIT;
    cxs_status rc = lock(p, err);
    if (rc != CXS_OK)
        return rc;
    rc = cxs_index_meta_get(p->ix, p->key, &b, err);
    unlock(p, 0, rc != CXS_OK);
    if (rc != CXS_OK || !b.len) {
        cxs_buf_release(&b);
        return rc;
    }
    json_t *o = json_loadb(b.data, b.len, 0, NULL);
    cxs_buf_release(&b);
    if (!o)
        return CXS_OK; /* unreadable state: start afresh, ids dedupe */
    const char *kind = json_string_value(json_object_get(o, "kind"));
    snprintf(p->st.kind, sizeof p->st.kind, "%s", kind ? kind : "");
    p->st.low = jint(o, "low");
    p->st.high = jint(o, "high");
    p->st.pend_low = jint(o, "pend_low");
    p->st.pend_high = jint(o, "pend_high");
    p->st.read = (size_t)jint(o, "read");
    p->st.backfill = (size_t)jint(o, "backfill");
    p->st.start = json_is_true(json_object_get(o, "start"));
    const char *ch = json_string_value(json_object_get(o, "channel"));
    snprintf(p->st.channel, sizeof p->st.channel, "%s", ch ? ch : "");
    p->st.etag = jstr(o, "etag");
    p->st.lm = jstr(o, "last_modified");
    json_decref(o);
    return CXS_OK;
}

static char *state_json(pass *p) {
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "url",
                  p->base, "kind", p->st.kind, "low", (json_int_t)p->st.low,
                  "high", (json_int_t)p->st.high, "pend_low",
                  (json_int_t)p->st.pend_low, "pend_high",
                  (json_int_t)p->st.pend_high, "read", (json_int_t)p->st.read,
                  "backfill", (json_int_t)p->st.backfill, "start", p->st.start);
    if (o && p->rep->channel[0])
        json_object_set_new(o, "channel", json_string(p->rep->channel));
    if (o && p->st.etag)
        json_object_set_new(o, "etag", json_string(p->st.etag));
    if (o && p->st.lm)
        json_object_set_new(o, "last_modified", json_string(p->st.lm));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static void state_free(fstate *st) {
    free(st->etag);
    free(st->lm);
}

/* ------------------------------------------------------------- pages */

static cxs_status collect(void *ud, cxs_post *post, cxs_err *err) {
    post_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        cxs_post *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    /* The post is the importer's to release: take its contents over and
     * leave it empty (releasing an empty post frees nothing). */
    l->v[l->n++] = *post;
    memset(post, 0, sizeof *post);
    return CXS_OK;
}

static void list_free(post_list *l) {
    for (size_t i = 0; i < l->n; i++)
        cxs_post_release(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Writes a page's posts and the state, and commits, under the lock. */
static cxs_status write_page(pass *p, post_list *l, cxs_err *err) {
    char *js = state_json(p);
    if (!js)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    cxs_status rc = lock(p, err);
    if (rc != CXS_OK) {
        free(js);
        return rc;
    }
    for (size_t i = 0; i < l->n && rc == CXS_OK; i++) {
        cxs_put_result r;
        rc = cxs_index_put(p->ix, &l->v[i], &r, err);
        if (rc == CXS_OK)
            *(r == CXS_PUT_ADDED     ? &p->rep->added
              : r == CXS_PUT_UPDATED ? &p->rep->updated
                                     : &p->rep->unchanged) += 1;
    }
    if (rc == CXS_OK)
        rc = cxs_index_meta_set(p->ix, p->key, js, err);
    if (rc == CXS_OK)
        rc = cxs_index_commit(p->ix, err);
    unlock(p, rc == CXS_OK, rc != CXS_OK);
    free(js);
    return rc;
}

/* Fetches and parses one page into l and pg. *gone: a 404 (the caller
 * decides whether that is an error). */
static cxs_status fetch_page(pass *p, const char *url, post_list *l,
                             cxs_live_page *pg, cxs_fetch_res *res, int *gone,
                             cxs_err *err) {
    *gone = 0;
    memset(pg, 0, sizeof *pg);
    const char *etag = strcmp(p->st.kind, "feed") == 0 ? p->st.etag : NULL;
    const char *lm = strcmp(p->st.kind, "feed") == 0 ? p->st.lm : NULL;
    cxs_status rc = cxs_fetch_get(p->f, url, etag, lm, res, err);
    if (res->retry_after > 0)
        p->rep->retry_after = res->retry_after;
    if (rc != CXS_OK) {
        *gone = res->status == 404 || res->status == 410;
        return rc;
    }
    if (res->not_modified)
        return CXS_OK;
    p->rep->pages++;
    rc = cxs_live_parse(res->body.data ? res->body.data : "", res->body.len,
                        res->content_type, url, collect, l, p->o->warn,
                        p->o->warn_ud, pg, err);
    p->rep->no_text += pg->no_text;
    if (pg->channel)
        snprintf(p->rep->channel, sizeof p->rep->channel, "%s", pg->channel);
    return rc;
}

/* ---------------------------------------------------------- Telegram */

/* Reads base?before=id into l and pg. *gone: 404 at the history's start. */
static cxs_status older_page(pass *p, long long before, post_list *l,
                             cxs_live_page *pg, int *gone, cxs_err *err) {
    char url[2200];
    snprintf(url, sizeof url, "%s?before=%lld", p->base, before);
    cxs_fetch_res res;
    cxs_status rc = fetch_page(p, url, l, pg, &res, gone, err);
    cxs_fetch_res_release(&res);
    if (rc == CXS_OK && pg->kind != CXS_LIVE_TGWEB)
        rc = cxs_err_set(err, CXS_ERR_PARSE, "%s: not a Telegram channel page",
                         url);
    return rc;
}

/* Fills the gap between the newest page and what was stored before it,
 * page by page, newest first. */
static cxs_status fill_gap(pass *p, size_t *pages, cxs_err *err) {
    cxs_status rc = CXS_OK;
    while (rc == CXS_OK && p->st.pend_high) {
        if (*pages >= p->max_pages) {
            p->rep->gap_open = 1;
            return CXS_OK;
        }
        post_list l = {0};
        cxs_live_page pg;
        int gone = 0;
        rc = older_page(p, p->st.pend_low, &l, &pg, &gone, err);
        (*pages)++;
        bool joined =
            rc == CXS_OK &&
            (pg.items == 0 || pg.min_id <= p->st.high + 1 || pg.before == 0);
        if (gone) { /* the stored range was deleted upstream: join anyway */
            cxs_err_clear(err);
            rc = CXS_OK;
            joined = true;
        }
        if (rc == CXS_OK && pg.min_id && pg.min_id < p->st.pend_low)
            p->st.pend_low = pg.min_id;
        if (rc == CXS_OK && joined) {
            p->st.high = p->st.pend_high;
            p->st.pend_low = p->st.pend_high = 0;
        }
        if (rc == CXS_OK)
            rc = write_page(p, &l, err);
        list_free(&l);
        cxs_live_page_release(&pg);
    }
    return rc;
}

/* Pages back from low until the budget or the channel's start. */
static cxs_status backfill(pass *p, size_t *pages, cxs_err *err) {
    cxs_status rc = CXS_OK;
    while (rc == CXS_OK && !p->st.start && p->st.read < p->st.backfill &&
           p->st.low > 1) {
        if (*pages >= p->max_pages)
            return CXS_OK;
        post_list l = {0};
        cxs_live_page pg;
        int gone = 0;
        rc = older_page(p, p->st.low, &l, &pg, &gone, err);
        (*pages)++;
        if (gone) {
            cxs_err_clear(err);
            rc = CXS_OK;
        }
        if (rc == CXS_OK) {
            if (gone || pg.items == 0 || pg.min_id >= p->st.low)
                p->st.start = 1; /* nothing older: the channel's start */
            else
                p->st.low = pg.min_id;
            if (pg.before == 0 && !gone && pg.items)
                p->st.start = 1;
            p->st.read += pg.items;
            rc = write_page(p, &l, err);
        }
        list_free(&l);
        cxs_live_page_release(&pg);
    }
    return rc;
}

/* Places the newest page [a, b] against the stored range. */
static void place_newest(pass *p, const cxs_live_page *pg) {
    fstate *st = &p->st;
    long long a = pg->min_id, b = pg->max_id;
    if (pg->items == 0)
        return;
    if (st->high == 0) { /* first pass */
        st->low = a;
        st->high = b;
        st->read = pg->items;
        st->start = pg->before == 0;
    } else if (a <= st->high + 1) {
        if (b > st->high)
            st->high = b;
    } else if (st->pend_high && a <= st->pend_high + 1) {
        if (b > st->pend_high)
            st->pend_high = b;
    } else {
        st->pend_low = a;
        st->pend_high = b;
    }
}

static cxs_status telegram_pass(pass *p, post_list *l, cxs_live_page *pg,
                                cxs_err *err) {
    snprintf(p->st.kind, sizeof p->st.kind, "telegram");
    if (p->o->backfill > p->st.backfill)
        p->st.backfill = p->o->backfill;
    place_newest(p, pg);
    cxs_status rc = write_page(p, l, err);
    size_t pages = 1;
    if (rc == CXS_OK)
        rc = fill_gap(p, &pages, err);
    if (rc == CXS_OK && !p->st.pend_high)
        rc = backfill(p, &pages, err);
    return rc;
}

/* -------------------------------------------------------------- feed */

static void take(char **dst, char **src) {
    if (!*src)
        return;
    free(*dst);
    *dst = *src;
    *src = NULL;
}

static cxs_status feed_pass(pass *p, post_list *l, cxs_fetch_res *res,
                            cxs_err *err) {
    snprintf(p->st.kind, sizeof p->st.kind, "feed");
    take(&p->st.etag, &res->etag);
    take(&p->st.lm, &res->last_modified);
    return write_page(p, l, err);
}

/* ------------------------------------------------------------- entry */

/* The address without its query or fragment. */
static cxs_status set_base(pass *p, const char *url, cxs_err *err) {
    size_t n = strcspn(url, "?#");
    if (n == 0 || n >= sizeof p->base || !strstr(url, "://"))
        return cxs_err_set(err, CXS_ERR_INVALID, "%s: not an http(s) address",
                           url);
    memcpy(p->base, url, n);
    p->base[n] = '\0';
    state_key(url, p->key, sizeof p->key);
    return CXS_OK;
}

static void report_state(pass *p) {
    p->rep->low = p->st.low;
    p->rep->high = p->st.high;
    p->rep->read = p->st.read;
    p->rep->backfill = p->st.backfill;
    p->rep->history_start = p->st.start;
}

/* The newest page: Telegram's base address, or a feed's own address
 * (whose query may matter: ?format=rss). */
static cxs_status newest(pass *p, cxs_err *err) {
    const bool tg = strcmp(p->st.kind, "telegram") == 0;
    const char *url = tg ? p->base : p->url;
    post_list l = {0};
    cxs_live_page pg;
    memset(&pg, 0, sizeof pg);
    cxs_fetch_res res;
    int gone = 0;
    cxs_status rc = fetch_page(p, url, &l, &pg, &res, &gone, err);
    if (rc == CXS_OK && res.not_modified)
        p->rep->not_modified = 1;
    else if (rc == CXS_OK && pg.kind == CXS_LIVE_TGWEB)
        rc = (p->rep->kind = CXS_LIVE_TGWEB, telegram_pass(p, &l, &pg, err));
    else if (rc == CXS_OK)
        rc = (p->rep->kind = CXS_LIVE_FEED, feed_pass(p, &l, &res, err));
    if (res.not_modified)
        p->rep->kind = CXS_LIVE_FEED;
    list_free(&l);
    cxs_live_page_release(&pg);
    cxs_fetch_res_release(&res);
    return rc;
}

cxs_status cxs_follow_source(cxs_index *ix, cxs_fetcher *f, const char *url,
                             const cxs_follow_opts *opts,
                             cxs_follow_report *rep, cxs_err *err) {
    memset(rep, 0, sizeof *rep);
    static const cxs_follow_opts none = {0};
    pass p = {
        .ix = ix, .f = f, .url = url, .o = opts ? opts : &none, .rep = rep};
    p.max_pages = p.o->max_pages ? p.o->max_pages : DEFAULT_MAX_PAGES;
    cxs_status rc = set_base(&p, url, err);
    if (rc == CXS_OK)
        rc = load_state(&p, err);
    snprintf(rep->channel, sizeof rep->channel, "%s", p.st.channel);
    if (rc == CXS_OK)
        rc = newest(&p, err);
    if (rc == CXS_ERR_PARSE && err && strstr(url, "t.me/") &&
        !strstr(url, "t.me/s/")) {
        /* t.me/NAME is the channel's card, without its posts */
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n,
                 " (a channel's posts are at https://t.me/s/NAME)");
    }
    report_state(&p);
    state_free(&p.st);
    return rc;
}

void cxs_follow_report_line(const cxs_follow_report *r, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s%s%s: ", cxs_live_kind_name(r->kind),
                     r->channel[0] ? " " : "", r->channel);
    if (n < 0 || (size_t)n >= cap)
        return;
    if (r->not_modified) {
        snprintf(buf + n, cap - (size_t)n, "not modified (304)");
        return;
    }
    int k = snprintf(buf + n, cap - (size_t)n,
                     "%zu new, %zu updated, %zu unchanged, %zu without text, "
                     "%zu page%s",
                     r->added, r->updated, r->unchanged, r->no_text, r->pages,
                     r->pages == 1 ? "" : "s");
    if (k < 0 || (size_t)(n + k) >= cap || r->kind != CXS_LIVE_TGWEB)
        return;
    n += k;
    snprintf(buf + n, cap - (size_t)n, "; ids %lld..%lld, backfill %zu/%zu%s%s",
             r->low, r->high, r->read, r->backfill,
             r->history_start ? " (channel start reached)" : "",
             r->gap_open ? "; gap still being filled" : "");
}
