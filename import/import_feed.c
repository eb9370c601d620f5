/*
 * import_feed.c - RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 feeds into posts,
 * parsed with libxml2's XML parser (never fetching: XML_PARSE_NONET, and
 * entities are not substituted, so a feed cannot make us read files).
 *
 * Facts that shaped it (live.h says the id rule):
 * - Where the text is: RSS content:encoded (full HTML, Substack and
 *   WordPress), else description (HTML, often a summary); Atom content
 *   (type "html": escaped HTML; "xhtml": inline elements; "text"), else
 *   summary. The item's title is the post's title; an item with a title
 *   but no body is its title.
 * - Dates: RSS pubDate is RFC 822 ("Sun, 02 Aug 2026 13:01:40 GMT", zones
 *   by name or +hhmm, two-digit years in old feeds), dc:date and Atom
 *   published/updated are ISO 8601. Atom updated is kept in extra
 *   "updated": an edit changes the stored post on the next pass.
 * - Feeds lie about themselves: <language> is ignored (the index detects
 *   the language from the text); an encoding declared but not matching
 *   the bytes (or none declared over non-UTF-8 bytes) is replaced by a
 *   guess, windows-1251 when high bytes come in runs (Cyrillic words),
 *   windows-1252 otherwise.
 * - A malformed feed (an unescaped '&' is common) is parsed again in
 *   recovery mode and read as far as it goes, with a warning; something
 *   that is not a feed at all (an HTML error page, JSON) is refused with a
 *   message saying what it is.
 */
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dates.h"
#include "live_internal.h"

#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_ATOM "http://www.w3.org/2005/Atom"

typedef struct feed_ctx {
    cxs_import_ctx *cx;
    const char *url;
    cxs_live_page *page;
    char host[256];
    char *feed_author;
    bool atom;
} feed_ctx;

/* ------------------------------------------------------------ tree util */

static bool named(xmlNode *n, const char *local, const char *ns) {
    if (!n || n->type != XML_ELEMENT_NODE ||
        strcmp((const char *)n->name, local) != 0)
        return false;
    if (!ns)
        return true;
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

/* An element's own (non-namespaced or Atom) child by local name. */
static xmlNode *child(xmlNode *n, const char *local, const char *ns) {
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (named(c, local, ns))
            return c;
    return NULL;
}

/* The trimmed text content of n as a new string, NULL when empty. */
static char *content_of(xmlNode *n) {
    xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
    if (!v)
        return NULL;
    size_t len = strlen((const char *)v);
    const char *t = cxs_utf8_trim((const char *)v, &len);
    char *out = len ? cxs_strndup(t, len) : NULL;
    xmlFree(v);
    return out;
}

static void host_of(const char *url, char *out, size_t cap) {
    out[0] = '\0';
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p)
        return;
    p += 3;
    size_t n = strcspn(p, "/?#:");
    if (n < cap) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

/* --------------------------------------------------------------- dates */

static int month_of(const char *s) {
    static const char *const m[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, m[i], 3) == 0)
            return i + 1;
    return 0;
}

/* Minutes east of UTC for an RFC 822 zone; false when unknown. */
static bool zone_of(const char *z, int *mins) {
    static const struct {
        const char *name;
        int off;
    } zones[] = {{"GMT", 0},    {"UT", 0},     {"UTC", 0},    {"Z", 0},
                 {"EST", -300}, {"EDT", -240}, {"CST", -360}, {"CDT", -300},
                 {"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420},
                 {"MSK", 180},  {"CET", 60},   {"CEST", 120}};
    if ((z[0] == '+' || z[0] == '-') && strlen(z) >= 5) {
        int hh = (z[1] - '0') * 10 + (z[2] - '0');
        int mm = (z[3] - '0') * 10 + (z[4] - '0');
        *mins = (z[0] == '-' ? -1 : 1) * (hh * 60 + mm);
        return true;
    }
    for (size_t i = 0; i < sizeof zones / sizeof *zones; i++)
        if (strcasecmp(z, zones[i].name) == 0) {
            *mins = zones[i].off;
            return true;
        }
    return z[0] == '\0' ? (*mins = 0, true) : false;
}

/* "Sun, 02 Aug 2026 13:01:40 GMT" -> "2026-08-02T13:01:40+00:00". */
static bool rfc822_date(const char *s, char *out, size_t cap) {
    const char *comma = strchr(s, ',');
    if (comma)
        s = comma + 1;
    int d, y, h = 0, mi = 0, se = 0, tz = 0;
    char mon[16] = "", zone[16] = "";
    int k =
        sscanf(s, " %d %15s %d %d:%d:%d %15s", &d, mon, &y, &h, &mi, &se, zone);
    if (k < 3)
        return false;
    if (k == 6 || k == 7) {
        /* fine: seconds given */
    } else if (k >= 5) {
        /* "13:01 GMT": no seconds, the zone was read as nothing */
        se = 0;
        sscanf(s, " %*d %*s %*d %*d:%*d %15s", zone);
    }
    int mo = month_of(mon);
    if (y < 100)
        y += y < 70 ? 2000 : 1900;
    if (!mo || d < 1 || d > 31 || !zone_of(zone, &tz))
        return false;
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mo, d, h,
             mi, se, tz < 0 ? '-' : '+', abs(tz) / 60, abs(tz) % 60);
    char utc[15];
    return cxs_date_parse(out, utc, NULL);
}

/* A feed date in either form as ISO 8601 into out; false when neither. */
static bool feed_date(const char *s, char *out, size_t cap) {
    char utc[15];
    if (!s)
        return false;
    if (cxs_date_parse(s, utc, NULL)) {
        snprintf(out, cap, "%s", s);
        return true;
    }
    return rfc822_date(s, out, cap);
}

/* ---------------------------------------------------------------- items */

typedef struct item {
    cxs_buf text;
    json_t *links;
    char *title, *link, *guid, *author;
    char date[64], updated[64];
} item;

static void item_free(item *it) {
    cxs_buf_release(&it->text);
    json_decref(it->links);
    free(it->title);
    free(it->link);
    free(it->guid);
    free(it->author);
}

/* Appends an element's body: escaped HTML (RSS, Atom type="html"), inline
 * XHTML (Atom type="xhtml") or plain text (Atom type="text"). */
static void body_of(item *it, xmlNode *n, bool atom) {
    char *type = atom ? cxs_html_attr(n, "type") : NULL;
    cxs_html_text h = {&it->text, it->links, 0, 0, NULL};
    if (type && strcmp(type, "xhtml") == 0) {
        cxs_html_walk(&h, n);
    } else if (atom && (!type || strcmp(type, "text") == 0)) {
        char *t = content_of(n);
        if (t)
            cxs_buf_appends(&it->text, t);
        free(t);
    } else {
        xmlChar *v = xmlNodeGetContent(n);
        if (v)
            cxs_html_fragment(&h, (const char *)v, strlen((const char *)v));
        xmlFree(v);
    }
    free(type);
}

/* "mail@example.org (Name)" -> "Name"; other forms as they are. */
static char *author_name(char *a) {
    char *open = a ? strchr(a, '(') : NULL;
    char *close = open ? strrchr(open, ')') : NULL;
    if (!open || !close || close == open + 1)
        return a;
    char *name = cxs_strndup(open + 1, (size_t)(close - open - 1));
    free(a);
    return name;
}

static void read_link(item *it, xmlNode *c, bool atom) {
    if (!atom) {
        if (!it->link)
            it->link = content_of(c);
        return;
    }
    char *rel = cxs_html_attr(c, "rel");
    if (!rel || strcmp(rel, "alternate") == 0) {
        free(it->link);
        it->link = cxs_html_attr(c, "href");
    }
    free(rel);
}

static void read_category(feed_ctx *fc, cxs_post *p, xmlNode *c) {
    char *t = fc->atom ? cxs_html_attr(c, "term") : content_of(c);
    if (t && cxs_post_add_tag(p, t, strlen(t)) != CXS_OK)
        cxs_import_warn(fc->cx, fc->url, 0, "tag dropped (out of memory)");
    free(t);
}

static void set_date(char *dst, size_t cap, xmlNode *c) {
    char *v = content_of(c);
    if (!dst[0])
        feed_date(v, dst, cap);
    free(v);
}

/* Reads one item's elements; the body from the fullest source. */
static void read_item(feed_ctx *fc, xmlNode *n, item *it, cxs_post *p) {
    xmlNode *full = NULL, *brief = NULL;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *nm = (const char *)c->name;
        if (named(c, "encoded", NS_CONTENT) ||
            (fc->atom && !strcmp(nm, "content")))
            full = c;
        else if (!strcmp(nm, "description") || !strcmp(nm, "summary"))
            brief = c;
        else if (!strcmp(nm, "title") && !it->title)
            it->title = content_of(c);
        else if (!strcmp(nm, "link"))
            read_link(it, c, fc->atom);
        else if (!strcmp(nm, "guid") || (fc->atom && !strcmp(nm, "id")))
            free(it->guid), it->guid = content_of(c);
        else if (!strcmp(nm, "author") && fc->atom)
            free(it->author), it->author = content_of(child(c, "name", NULL));
        else if (!strcmp(nm, "author") || named(c, "creator", NS_DC))
            free(it->author), it->author = author_name(content_of(c));
        else if (!strcmp(nm, "pubDate") || !strcmp(nm, "published") ||
                 named(c, "date", NS_DC))
            set_date(it->date, sizeof it->date, c);
        else if (!strcmp(nm, "updated"))
            set_date(it->updated, sizeof it->updated, c);
        else if (!strcmp(nm, "category"))
            read_category(fc, p, c);
    }
    if (full || brief)
        body_of(it, full ? full : brief, fc->atom);
}

/* The id rule of live.h; name (cap bytes) gets a Telegram channel. */
static void item_id(feed_ctx *fc, const item *it, char *id, size_t cap,
                    char *name, size_t ncap) {
    long long tid;
    name[0] = '\0';
    const char *g = it->guid && *it->guid ? it->guid : it->link;
    if ((it->link && cxs_live_tme_post(it->link, name, ncap, &tid)) ||
        (g && cxs_live_tme_post(g, name, ncap, &tid))) {
        snprintf(id, cap, "%s/%lld", name, tid);
        return;
    }
    name[0] = '\0';
    if (g && strstr(g, "://") && strlen(g) <= 400) {
        snprintf(id, cap, "%s", g);
    } else if (g && strlen(g) <= 300) {
        snprintf(id, cap, "%s/%s", fc->host[0] ? fc->host : "feed", g);
    } else {
        const char *src = g ? g : it->title ? it->title : it->text.data;
        unsigned long long h =
            cxs_post_text_hash(src ? src : "", src ? strlen(src) : 0);
        snprintf(id, cap, "%s/h%016llx", fc->host[0] ? fc->host : "feed", h);
    }
}

static cxs_status fill_post(feed_ctx *fc, item *it, cxs_post *p) {
    char id[600], name[128];
    item_id(fc, it, id, sizeof id, name, sizeof name);
    const char *chan = name[0] ? name : fc->page->channel;
    size_t n = it->text.len;
    const char *t = cxs_utf8_trim(it->text.data ? it->text.data : "", &n);
    if (n == 0 && it->title)
        t = it->title, n = strlen(it->title);
    cxs_status rc = cxs_post_set(&p->id, id, strlen(id));
    if (rc == CXS_OK)
        rc = cxs_post_set(&p->text, t, n);
    if (rc == CXS_OK && chan)
        rc = cxs_post_set(&p->channel, chan, strlen(chan));
    if (rc == CXS_OK && it->title)
        rc = cxs_post_set(&p->title, it->title, strlen(it->title));
    if (rc == CXS_OK && it->link)
        rc = cxs_post_set(&p->url, it->link, strlen(it->link));
    const char *who = it->author ? it->author : fc->feed_author;
    if (rc == CXS_OK && who)
        rc = cxs_post_set(&p->author, who, strlen(who));
    const char *date = it->date[0] ? it->date : it->updated;
    if (rc == CXS_OK && date[0])
        rc = cxs_post_set(&p->date, date, strlen(date));
    if (rc == CXS_OK && fc->url)
        rc = cxs_post_set(&p->source_file, fc->url, strlen(fc->url));
    if (rc == CXS_OK && !(p->extra = json_object()))
        rc = CXS_ERR_NOMEM;
    return rc;
}

static void item_extra(feed_ctx *fc, item *it, cxs_post *p) {
    if (it->updated[0] && strcmp(it->updated, it->date))
        json_object_set_new(p->extra, "updated", json_string(it->updated));
    if (it->guid)
        json_object_set_new(p->extra, "guid", json_string(it->guid));
    if (json_array_size(it->links))
        json_object_set(p->extra, "links", it->links);
    if (fc->page->title)
        json_object_set_new(p->extra, "feed_title",
                            json_string(fc->page->title));
    if (fc->url)
        json_object_set_new(p->extra, "feed", json_string(fc->url));
}

static cxs_status one_item(feed_ctx *fc, xmlNode *n, cxs_err *err) {
    fc->page->items++;
    item it = {0};
    cxs_buf_init(&it.text, CXS_IMPORT_MAX_TEXT);
    it.links = json_array();
    cxs_post p = CXS_POST_INIT;
    read_item(fc, n, &it, &p);
    cxs_status rc = CXS_OK;
    size_t n_text = it.text.len;
    if (!cxs_utf8_trim(it.text.data ? it.text.data : "", &n_text) ||
        (n_text == 0 && !it.title)) {
        fc->page->no_text++;
    } else if ((rc = fill_post(fc, &it, &p)) != CXS_OK) {
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    } else {
        item_extra(fc, &it, &p);
        p.source_line = (long)fc->page->items;
        size_t before = fc->cx->stats->posts;
        rc = cxs_import_emit(fc->cx, &p, err);
        fc->page->posts += fc->cx->stats->posts - before;
    }
    cxs_post_release(&p);
    item_free(&it);
    return rc;
}

/* ----------------------------------------------------------- the feed */

static void feed_head(feed_ctx *fc, xmlNode *chan) {
    cxs_live_page *pg = fc->page;
    pg->title = content_of(child(chan, "title", NULL));
    if (fc->atom) {
        xmlNode *a = child(chan, "author", NULL);
        fc->feed_author = a ? content_of(child(a, "name", NULL)) : NULL;
    }
    const char *ch = pg->title ? pg->title : fc->host[0] ? fc->host : NULL;
    pg->channel = ch ? cxs_strndup(ch, strlen(ch)) : NULL;
}

static cxs_status read_items(feed_ctx *fc, xmlNode *parent, const char *name,
                             cxs_err *err) {
    cxs_status rc = CXS_OK;
    for (xmlNode *c = parent->children; c && rc == CXS_OK; c = c->next)
        if (named(c, name, NULL))
            rc = one_item(fc, c, err);
    return rc;
}

/* The encoding the bytes are in when they are not what they say: for
 * non-UTF-8 text, runs of high bytes are Cyrillic words in windows-1251;
 * lone high bytes among ASCII letters are Western accents. */
static const char *guess_encoding(const char *s, size_t n) {
    if (cxs_utf8_valid(s, n))
        return "UTF-8";
    size_t high = 0, runs = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x80)
            continue;
        high++;
        runs += (i > 0 && (unsigned char)s[i - 1] >= 0x80) ||
                (i + 1 < n && (unsigned char)s[i + 1] >= 0x80);
    }
    return runs * 2 > high ? "windows-1251" : "windows-1252";
}

/* Parses the XML; *msg gets the parser's complaint when it fails. */
static xmlDocPtr parse_xml(const char *data, size_t len, const char *url,
                           const char *enc, int extra, char *msg, size_t cap) {
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (!ctx) {
        snprintf(msg, cap, "out of memory");
        return NULL;
    }
    int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
               XML_PARSE_NOWARNING | extra;
    xmlDocPtr doc = xmlCtxtReadMemory(ctx, data, (int)len, url, enc, opts);
    const xmlError *e = xmlCtxtGetLastError(ctx);
    if (e && e->message && (!doc || !(extra & XML_PARSE_RECOVER))) {
        snprintf(msg, cap, "line %d: %s", e->line, e->message);
        size_t l = strlen(msg);
        while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
            msg[--l] = '\0';
    }
    if (doc && !(extra & XML_PARSE_RECOVER) && !ctx->wellFormed) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctx);
    return doc;
}

/* Strict first; then with the encoding the bytes are in; then in recovery
 * mode (warned about). */
static xmlDocPtr read_doc(feed_ctx *fc, const char *data, size_t len,
                          cxs_err *err) {
    char msg[256] = "not well-formed";
    xmlDocPtr doc = parse_xml(data, len, fc->url, NULL, 0, msg, sizeof msg);
    const char *enc = guess_encoding(data, len);
    if (!doc && strcmp(enc, "UTF-8") != 0) {
        char m2[256] = "";
        doc = parse_xml(data, len, fc->url, enc, 0, m2, sizeof m2);
        if (doc)
            cxs_import_warn(fc->cx, fc->url, 0,
                            "feed is not in the encoding it declares: read as "
                            "%s",
                            enc);
    }
    if (!doc) {
        char m3[256] = "";
        doc = parse_xml(data, len, fc->url, strcmp(enc, "UTF-8") ? enc : NULL,
                        XML_PARSE_RECOVER, m3, sizeof m3);
        xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (root && (named(root, "rss", NULL) || named(root, "feed", NULL) ||
                     named(root, "RDF", NULL))) {
            cxs_import_warn(fc->cx, fc->url, 0,
                            "feed is not well-formed XML (%s): read as far as "
                            "it goes",
                            msg);
            return doc;
        }
        if (doc)
            xmlFreeDoc(doc);
        cxs_err_set(err, CXS_ERR_PARSE, "feed is not well-formed XML: %s", msg);
        return NULL;
    }
    return doc;
}

cxs_status cxs_live_feed(cxs_import_ctx *cx, const char *data, size_t len,
                         const char *url, cxs_live_page *page, cxs_err *err) {
    if (len > (size_t)0x7fffffff)
        return cxs_err_set(err, CXS_ERR_TOO_LARGE, "feed too large");
    feed_ctx fc = {cx, url, page, "", NULL, false};
    host_of(url, fc.host, sizeof fc.host);
    xmlDocPtr doc = read_doc(&fc, data, len, err);
    if (!doc)
        return CXS_ERR_PARSE;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *chan = NULL;
    cxs_status rc = CXS_OK;
    page->kind = CXS_LIVE_FEED;
    if (named(root, "feed", NULL)) {
        fc.atom = true;
        feed_head(&fc, root);
        rc = read_items(&fc, root, "entry", err);
    } else if (named(root, "rss", NULL) &&
               (chan = child(root, "channel", NULL))) {
        feed_head(&fc, chan);
        rc = read_items(&fc, chan, "item", err);
    } else if (named(root, "RDF", NULL)) {
        chan = child(root, "channel", NULL);
        if (chan)
            feed_head(&fc, chan);
        rc = read_items(&fc, root, "item", err);
    } else {
        rc = cxs_err_set(err, CXS_ERR_PARSE,
                         "XML but not a feed (root element <%s>)",
                         root ? (const char *)root->name : "none");
    }
    free(fc.feed_author);
    xmlFreeDoc(doc);
    return rc;
}
