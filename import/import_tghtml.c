/*
 * import_tghtml.c - Telegram Desktop HTML export: a folder of pages
 * (messages.html or index.html, messages2.html, ...) read in page order as
 * one channel, parsed with libxml2's HTML parser and a walk of the tree.
 *
 * Facts that shaped it (the markup Telegram Desktop writes):
 * - div.history holds div.message elements; "message service" ones are
 *   date separators, pins and joins: not posts. "message default" ones
 *   carry id="message<N>", a div.body with div.date.details whose title is
 *   "13.05.2017 15:28:10 UTC-08:00" (the local time and its offset),
 *   div.from_name, div.text, div.signature.details, div.reply_to.details
 *   (GoToMessage(N)), div.media_wrap (photos, files, div.media_poll) and,
 *   in newer exports, span.reactions > span.reaction[.paid] with
 *   span.emoji and span.count (or span.userpics when few reacted).
 * - A forwarded message nests its content in div.forwarded.body, whose
 *   from_name names the origin, with the original date in a span.
 * - "joined" messages (same sender within minutes) omit from_name and,
 *   for forwards, the origin: both are carried over from the previous
 *   message, across pages too, since pages split one history.
 * - In div.text, <br> is a line break and every other tag (links,
 *   hashtags, bold, spoilers) contributes its text; link targets that are
 *   not their own text are kept in extra "links".
 * - A page without div.history is not an export page: it is warned about
 *   and skipped, the other pages are read (a folder may hold only some).
 */
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_internal.h"
#include "live_internal.h"

typedef struct html_state {
    cxs_import_ctx *cx;
    const char *path;
    char *title;     /* channel title from the page header */
    char *last_from; /* from_name carried to joined messages */
    char *last_fwd;  /* forwarded origin carried to joined forwards */
} html_state;

/* Collected from one message's markup. */
typedef struct msg_parts {
    cxs_buf text;
    char date[40];
    char fwd_date[40];
    char *from;
    char *fwd;
    char *signature;
    char *via;
    long reply_to;
    bool forwarded;
    json_t *links, *reactions, *poll;
    const char *media;
} msg_parts;

/* ------------------------------------------------------------ tree util */

static bool is_tag(xmlNode *n, const char *name) {
    return n && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

/* First descendant (depth-first, n itself excluded) with class cls. */
static xmlNode *find_class(xmlNode *n, const char *cls) {
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (cxs_html_has_class(c, cls))
            return c;
        xmlNode *d = find_class(c, cls);
        if (d)
            return d;
    }
    return NULL;
}

/* Appends the text of n: text nodes, <br> as newlines, links' hrefs kept
 * in links when they differ from the text. skip_cls: children with this
 * class are left out (e.g. the date span inside a from_name). */
static void node_text(xmlNode *n, cxs_buf *b, json_t *links,
                      const char *skip_cls) {
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                cxs_buf_appends(b, (const char *)c->content);
        } else if (c->type == XML_ELEMENT_NODE) {
            if (is_tag(c, "br")) {
                cxs_buf_appendc(b, '\n');
                continue;
            }
            if (skip_cls && cxs_html_has_class(c, skip_cls))
                continue;
            size_t before = b->len;
            node_text(c, b, links, skip_cls);
            if (links && is_tag(c, "a")) {
                xmlChar *h = xmlGetProp(c, (const xmlChar *)"href");
                if (h && (strncmp((char *)h, "http", 4) == 0) &&
                    (b->len - before != strlen((char *)h) ||
                     strncmp(b->data + before, (char *)h, b->len - before)))
                    json_array_append_new(links, json_string((char *)h));
                xmlFree(h);
            }
        }
    }
}

/* The trimmed text of n as a new string (NULL when empty, or when it
 * could not be read whole: a name or a count, never cut). */
static char *trimmed_text(xmlNode *n, const char *skip_cls) {
    cxs_buf b;
    cxs_buf_init(&b, CXS_IMPORT_MAX_TEXT);
    node_text(n, &b, NULL, skip_cls);
    size_t len = cxs_buf_status(&b) == CXS_OK ? b.len : 0;
    const char *t = cxs_utf8_trim(b.data ? b.data : "", &len);
    char *out = len ? cxs_strndup(t, len) : NULL;
    cxs_buf_release(&b);
    return out;
}

/* "13.05.2017 15:28:10 UTC-08:00" -> "2017-05-13T15:28:10-08:00". */
static void parse_title_date(xmlNode *n, char *out, size_t cap) {
    out[0] = '\0';
    xmlChar *t = xmlGetProp(n, (const xmlChar *)"title");
    if (!t)
        return;
    int d, mo, y, h, mi, s, oh = 0, om = 0;
    char sign = 0;
    int k = sscanf((char *)t, "%2d.%2d.%4d %2d:%2d:%2d UTC%c%2d:%2d", &d, &mo,
                   &y, &h, &mi, &s, &sign, &oh, &om);
    if (k >= 6 && (k < 9 || sign == '+' || sign == '-'))
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s);
    if (k == 9 && (sign == '+' || sign == '-')) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%c%02d:%02d", sign, oh, om);
    }
    xmlFree(t);
}

/* ------------------------------------------------------- message parts */

static void parse_reply(xmlNode *n, msg_parts *m) {
    for (xmlNode *c = n->children; c; c = c->next) {
        if (!is_tag(c, "a"))
            continue;
        xmlChar *h = xmlGetProp(c, (const xmlChar *)"href");
        const char *p = h ? strstr((char *)h, "go_to_message") : NULL;
        if (p)
            m->reply_to = strtol(p + 13, NULL, 10);
        xmlFree(h);
    }
}

/* "- И я бохат <span class=details>327 votes, chosen vote</span>". */
static void parse_poll(xmlNode *poll, msg_parts *m) {
    json_t *opts = json_array();
    char *q = NULL, *kind = NULL, *total = NULL;
    for (xmlNode *c = poll->children; c; c = c->next) {
        if (cxs_html_has_class(c, "question"))
            free(q), q = trimmed_text(c, NULL);
        else if (cxs_html_has_class(c, "total"))
            free(total), total = trimmed_text(c, NULL);
        else if (cxs_html_has_class(c, "answer")) {
            char *t = trimmed_text(c, "details");
            xmlNode *v = find_class(c, "details");
            char *votes = v ? trimmed_text(v, NULL) : NULL;
            const char *tx = t ? t : "";
            if (strncmp(tx, "- ", 2) == 0)
                tx += 2;
            json_array_append_new(
                opts, json_pack("{s:s, s:I}", "text", tx, "votes",
                                (json_int_t)(votes ? atol(votes) : 0)));
            free(t);
            free(votes);
        } else if (cxs_html_has_class(c, "details"))
            free(kind), kind = trimmed_text(c, NULL);
    }
    if (q) {
        m->poll =
            json_pack("{s:s, s:s, s:o, s:I}", "question", q, "kind",
                      kind ? kind : "poll", "options", opts, "total_votes",
                      (json_int_t)(total ? atol(total) : 0));
        opts = NULL;
    }
    json_decref(opts);
    free(q);
    free(kind);
    free(total);
}

static void parse_media(xmlNode *n, msg_parts *m) {
    xmlNode *poll = find_class(n, "media_poll");
    if (poll) {
        parse_poll(poll, m);
        m->media = "poll";
    } else if (find_class(n, "photo_wrap") || find_class(n, "media_photo")) {
        m->media = "photo";
    } else if (find_class(n, "video_file_wrap") ||
               find_class(n, "media_video")) {
        m->media = "video";
    } else if (find_class(n, "sticker_wrap")) {
        m->media = "sticker";
    } else {
        m->media = "file";
    }
}

static void parse_reactions(xmlNode *n, msg_parts *m) {
    if (!m->reactions)
        m->reactions = json_object();
    for (xmlNode *r = n->children; r; r = r->next) {
        if (!cxs_html_has_class(r, "reaction"))
            continue;
        xmlNode *e = find_class(r, "emoji"), *cnt = find_class(r, "count");
        xmlNode *pics = find_class(r, "userpics");
        char *emoji = e ? trimmed_text(e, NULL) : NULL;
        char *count = cnt ? trimmed_text(cnt, NULL) : NULL;
        long v = count ? atol(count) : 0;
        if (!count && pics)
            for (xmlNode *u = pics->children; u; u = u->next)
                v += u->type == XML_ELEMENT_NODE;
        const char *key = cxs_html_has_class(r, "paid") ? "paid" : emoji ? emoji : "?";
        json_int_t old = json_integer_value(json_object_get(m->reactions, key));
        json_object_set_new(m->reactions, key, json_integer(old + v));
        free(emoji);
        free(count);
    }
}

/* from_name of a forwarded body: "Origin<span class=date ...>". */
static void parse_fwd_from(xmlNode *n, msg_parts *m) {
    free(m->fwd);
    m->fwd = trimmed_text(n, "date");
    xmlNode *d = find_class(n, "date");
    if (d)
        parse_title_date(d, m->fwd_date, sizeof m->fwd_date);
}

/* Walks the children of a body (or forwarded body) div. */
static void parse_body(xmlNode *body, msg_parts *m, bool in_fwd) {
    for (xmlNode *c = body->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (cxs_html_has_class(c, "forwarded") && cxs_html_has_class(c, "body")) {
            m->forwarded = true;
            parse_body(c, m, true);
        } else if (cxs_html_has_class(c, "from_name")) {
            if (in_fwd) {
                parse_fwd_from(c, m);
            } else {
                free(m->from);
                m->from = trimmed_text(c, NULL);
            }
        } else if (cxs_html_has_class(c, "date") && !in_fwd) {
            parse_title_date(c, m->date, sizeof m->date);
        } else if (cxs_html_has_class(c, "text")) {
            node_text(c, &m->text, m->links, NULL);
        } else if (cxs_html_has_class(c, "signature")) {
            free(m->signature);
            m->signature = trimmed_text(c, NULL);
        } else if (cxs_html_has_class(c, "reply_to")) {
            parse_reply(c, m);
        } else if (cxs_html_has_class(c, "media_wrap")) {
            parse_media(c, m);
        } else if (cxs_html_has_class(c, "reactions")) {
            parse_reactions(c, m);
        }
    }
}

/* ------------------------------------------------------------- posts */

static char *take_via(char *from) {
    char *v = from ? strstr(from, " via @") : NULL;
    if (!v)
        return NULL;
    char *bot = cxs_strndup(v + 5, strlen(v + 5));
    *v = '\0';
    size_t n = strlen(from);
    cxs_utf8_trim(from, &n);
    from[n] = '\0';
    return bot;
}

/* Carries from_name and the forward origin over joined messages. */
static void carry(html_state *st, msg_parts *m) {
    m->via = take_via(m->from);
    if (m->from) {
        free(st->last_from);
        st->last_from = cxs_strndup(m->from, strlen(m->from));
    } else if (st->last_from) {
        m->from = cxs_strndup(st->last_from, strlen(st->last_from));
    }
    if (!m->forwarded)
        return;
    if (m->fwd) {
        free(st->last_fwd);
        st->last_fwd = cxs_strndup(m->fwd, strlen(m->fwd));
    } else if (st->last_fwd) {
        m->fwd = cxs_strndup(st->last_fwd, strlen(st->last_fwd));
    }
}

/* The post's text (p->text stays NULL when there is none): the message
 * text, or a poll's question and options. Built whole: the cap is
 * cxs_import_emit's. */
static cxs_status post_text(msg_parts *m, cxs_post *p) {
    if (cxs_buf_status(&m->text) != CXS_OK)
        return cxs_buf_status(&m->text);
    size_t n = m->text.len;
    const char *t = cxs_utf8_trim(m->text.data ? m->text.data : "", &n);
    if (n == 0 && m->poll) {
        cxs_buf b;
        cxs_buf_init(&b, 0);
        cxs_buf_appends(
            &b, json_string_value(json_object_get(m->poll, "question")));
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(m->poll, "options"), i, o)
            cxs_buf_appendf(&b, "\n- %s",
                            json_string_value(json_object_get(o, "text")));
        cxs_status rc = cxs_buf_status(&b);
        p->text = cxs_buf_detach(&b);
        return rc != CXS_OK ? rc : p->text ? CXS_OK : CXS_ERR_NOMEM;
    }
    return n ? cxs_post_set(&p->text, t, n) : CXS_OK;
}

static void set_extra(msg_parts *m, cxs_post *p, const char *title) {
    json_t *x = p->extra;
    if (m->forwarded)
        json_object_set_new(x, "forwarded_from",
                            json_string(m->fwd ? m->fwd : "Unknown"));
    if (m->forwarded && m->fwd_date[0])
        json_object_set_new(x, "forwarded_date", json_string(m->fwd_date));
    if (m->reply_to > 0)
        json_object_set_new(x, "reply_to", json_integer(m->reply_to));
    if (m->reactions && json_object_size(m->reactions))
        json_object_set(x, "reactions", m->reactions);
    if (m->poll)
        json_object_set(x, "poll", m->poll);
    if (m->via)
        json_object_set_new(x, "via_bot", json_string(m->via));
    if (m->media)
        json_object_set_new(x, "media", json_string(m->media));
    if (json_array_size(m->links))
        json_object_set(x, "links", m->links);
    if (title)
        json_object_set_new(x, "channel_title", json_string(title));
}

static cxs_status emit_message(html_state *st, long id, msg_parts *m,
                               cxs_err *err) {
    cxs_post p = CXS_POST_INIT;
    cxs_status rc = post_text(m, &p);
    if (rc != CXS_OK) {
        cxs_post_release(&p);
        return cxs_err_set(err, rc, "out of memory");
    }
    if (!p.text)
        return CXS_OK; /* media without caption: no post */
    const char *user = st->cx->opts ? st->cx->opts->channel : NULL;
    if (user && *user == '@')
        user++;
    const char *key = user && *user ? user : st->title ? st->title : "tg";
    char buf[700];
    snprintf(buf, sizeof buf, "%s/%ld", key, id);
    rc = cxs_post_set(&p.id, buf, strlen(buf));
    if (rc == CXS_OK)
        rc = cxs_post_set(&p.channel, key, strlen(key));
    if (rc == CXS_OK && user && *user) {
        snprintf(buf, sizeof buf, "https://t.me/%s/%ld", user, id);
        rc = cxs_post_set(&p.url, buf, strlen(buf));
    }
    if (rc == CXS_OK && m->date[0])
        rc = cxs_post_set(&p.date, m->date, strlen(m->date));
    const char *author = m->signature;
    if (!author && m->from && (!st->title || strcmp(m->from, st->title)))
        author = m->from;
    if (rc == CXS_OK && author)
        rc = cxs_post_set(&p.author, author, strlen(author));
    if (rc == CXS_OK)
        rc = cxs_post_set(&p.source_file, st->path, strlen(st->path));
    p.source_line = id;
    p.extra = json_object();
    if (rc != CXS_OK || !p.extra) {
        cxs_post_release(&p);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    set_extra(m, &p, user && *user ? st->title : NULL);
    return cxs_import_emit(st->cx, &p, err);
}

static void parts_free(msg_parts *m) {
    cxs_buf_release(&m->text);
    free(m->from);
    free(m->fwd);
    free(m->signature);
    free(m->via);
    json_decref(m->links);
    json_decref(m->reactions);
    json_decref(m->poll);
}

static cxs_status one_message(html_state *st, xmlNode *msg, cxs_err *err) {
    if (cxs_html_has_class(msg, "service"))
        return CXS_OK; /* dates, pins, joins */
    xmlChar *idattr = xmlGetProp(msg, (const xmlChar *)"id");
    long id = 0;
    if (idattr && strncmp((char *)idattr, "message", 7) == 0)
        id = strtol((char *)idattr + 7, NULL, 10);
    xmlFree(idattr);
    if (id <= 0)
        return CXS_OK;
    msg_parts m = {0};
    cxs_buf_init(&m.text, 0); /* built whole, cut by cxs_import_emit */
    m.links = json_array();
    for (xmlNode *c = msg->children; c; c = c->next)
        if (cxs_html_has_class(c, "body"))
            parse_body(c, &m, false);
    carry(st, &m);
    cxs_status rc = emit_message(st, id, &m, err);
    parts_free(&m);
    return rc;
}

static void page_title(html_state *st, xmlNode *root) {
    xmlNode *h = find_class(root, "page_header");
    xmlNode *t = h ? find_class(h, "text") : NULL;
    char *title = t ? trimmed_text(t, NULL) : NULL;
    if (title) {
        free(st->title);
        st->title = title;
    }
}

static cxs_status one_page(html_state *st, const char *path, cxs_err *err) {
    struct stat sb;
    if (stat(path, &sb) != 0 ||
        (unsigned long long)sb.st_size > st->cx->max_bytes) {
        cxs_import_warn(st->cx, path, 0,
                        "file skipped: missing or over the %llu-byte limit",
                        st->cx->max_bytes);
        st->cx->stats->files_skipped++;
        return CXS_OK;
    }
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
               HTML_PARSE_NONET | HTML_PARSE_COMPACT;
    htmlDocPtr doc = htmlReadFile(path, "UTF-8", opts);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNode *hist = root ? find_class(root, "history") : NULL;
    if (!hist) {
        if (doc)
            xmlFreeDoc(doc);
        cxs_import_warn(st->cx, path, 0,
                        "file skipped: not a Telegram export page (no "
                        "message history)");
        st->cx->stats->files_skipped++;
        return CXS_OK;
    }
    st->path = path;
    page_title(st, root);
    cxs_status rc = CXS_OK;
    for (xmlNode *c = hist->children; c && rc == CXS_OK; c = c->next)
        if (cxs_html_has_class(c, "message"))
            rc = one_message(st, c, err);
    xmlFreeDoc(doc);
    if (rc == CXS_OK)
        st->cx->stats->files_read++;
    return rc;
}

cxs_status cxs_import_tghtml_pages(cxs_import_ctx *cx, char **paths,
                                   size_t npaths, cxs_err *err) {
    html_state st = {cx, NULL, NULL, NULL, NULL};
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < npaths && rc == CXS_OK; i++)
        rc = one_page(&st, paths[i], err);
    free(st.title);
    free(st.last_from);
    free(st.last_fwd);
    return rc;
}
