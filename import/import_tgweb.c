/*
 * import_tgweb.c - Telegram's public web preview of a channel
 * (https://t.me/s/NAME): one page of up to ~20 messages, newest last, with
 * a link to older ones (?before=ID). Parsed with libxml2's HTML parser.
 *
 * Facts that shaped it (the markup t.me serves):
 * - section.tgme_channel_history holds div.tgme_widget_message elements
 *   with data-post="NAME/ID"; "service_message" ones (channel created,
 *   photo changed) are not posts but their ids still count as seen.
 * - The text is div.tgme_widget_message_text.js-message_text; a reply
 *   quotes the other message's text in an a.tgme_widget_message_reply with
 *   the same text class, which must not be read as this post's text.
 * - Custom emoji are <tg-emoji><i class="emoji"><b>🌏</b></i></tg-emoji>
 *   and plain emoji <i class="emoji"><b>❤️</b></i>: their text is the
 *   character. Hashtags and mentions are links whose text is the tag.
 * - An album is one message (div.tgme_widget_message_grouped_wrap) whose
 *   photos link to ID?single, IDs of the album's other parts: one post.
 * - Footer: span.tgme_widget_message_views ("32.9K"), a
 *   span.tgme_widget_message_from_author (the author's signature),
 *   "edited" before the date link, time[datetime] (UTC, ISO 8601).
 *   Reactions: span.tgme_reaction with the emoji and a count ("1.2K").
 * - Forwards: a.tgme_widget_message_forwarded_from_name (the origin and
 *   its post); link previews: a.tgme_widget_message_link_preview with
 *   site name, title and description, which are kept as fields and added
 *   to the text so that a search finds them; polls: question, type and
 *   options with their percentages, the text of a post without a caption.
 * - The "older" link is a.tme_messages_more[data-before]; the page at the
 *   start of a channel has none.
 */
#include <libxml/HTMLparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "live_internal.h"

typedef struct tg_msg {
    cxs_buf text;
    json_t *extra;
    char *author;
    char date[40];
    bool has_poll;
} tg_msg;

static bool is_nested_message(xmlNode *n) {
    return cxs_html_has_class(n, "tgme_widget_message_reply") ||
           cxs_html_has_class(n, "tgme_widget_message_link_preview") ||
           cxs_html_has_class(n, "tgme_widget_message_poll");
}

/* "32.9K" -> 32900, "1.2M" -> 1200000, "148" -> 148; -1 when not a count. */
static long long parse_count(const char *s) {
    if (!s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (*end == 'K' || *end == 'k')
        v *= 1e3;
    else if (*end == 'M' || *end == 'm')
        v *= 1e6;
    /* strtod also reads "inf", "nan" and 1e999: no count of views. */
    if (!(v >= 0 && v < 9e15))
        return -1;
    return (long long)(v + 0.5);
}

bool cxs_live_tme_post(const char *url, char *name, size_t cap, long long *id) {
    const char *p = strstr(url ? url : "", "://");
    if (!p)
        return false;
    p += 3;
    size_t host = strcspn(p, "/?#");
    if (host < 4 || strncmp(p + host - 4, "t.me", 4) != 0 ||
        (host > 4 && p[host - 5] != '.'))
        return false;
    p += host;
    if (strncmp(p, "/s/", 3) == 0)
        p += 2;
    if (*p++ != '/')
        return false;
    size_t n = strcspn(p, "/?#");
    if (n == 0 || n >= cap || p[n] != '/')
        return false;
    char *end;
    long long v = strtoll(p + n + 1, &end, 10);
    if (v <= 0 || (*end && *end != '?' && *end != '#' && *end != '/'))
        return false;
    memcpy(name, p, n);
    name[n] = '\0';
    *id = v;
    return true;
}

/* ------------------------------------------------------------- pieces */

static void set_str(json_t *x, const char *key, char *v) {
    if (v)
        json_object_set_new(x, key, json_string(v));
    free(v);
}

static void read_reactions(xmlNode *msg, tg_msg *m) {
    xmlNode *box = cxs_html_find(msg, "tgme_widget_message_reactions", NULL);
    json_t *r = json_object();
    for (xmlNode *c = box ? box->children : NULL; c; c = c->next) {
        if (!cxs_html_has_class(c, "tgme_reaction"))
            continue;
        xmlNode *e = cxs_html_find(c, "emoji", NULL);
        char *emoji = e ? cxs_html_text_of(e, NULL) : NULL;
        /* The count is the reaction's own text after the emoji. */
        cxs_buf b;
        cxs_buf_init(&b, 64);
        for (xmlNode *t = c->children; t; t = t->next)
            if (t->type == XML_TEXT_NODE && t->content)
                cxs_buf_appends(&b, (const char *)t->content);
        long long n = parse_count(b.data);
        const char *key = cxs_html_has_class(c, "tgme_reaction_paid") ? "paid"
                          : emoji                                     ? emoji
                                                                      : "?";
        if (n > 0)
            json_object_set_new(
                r, key,
                json_integer(json_integer_value(json_object_get(r, key)) + n));
        cxs_buf_release(&b);
        free(emoji);
    }
    if (json_object_size(r))
        json_object_set_new(m->extra, "reactions", r);
    else
        json_decref(r);
}

static void read_footer(xmlNode *msg, tg_msg *m) {
    xmlNode *v = cxs_html_find(msg, "tgme_widget_message_views", NULL);
    char *views = v ? cxs_html_text_of(v, NULL) : NULL;
    long long n = parse_count(views);
    if (n >= 0)
        json_object_set_new(m->extra, "views", json_integer(n));
    free(views);
    xmlNode *a = cxs_html_find(msg, "tgme_widget_message_from_author", NULL);
    m->author = a ? cxs_html_text_of(a, NULL) : NULL;
    xmlNode *meta = cxs_html_find(msg, "tgme_widget_message_meta", NULL);
    char *mt = meta ? cxs_html_text_of(meta, NULL) : NULL;
    if (mt && strstr(mt, "edited"))
        json_object_set_new(m->extra, "edited", json_true());
    free(mt);
    xmlNode *d = cxs_html_find(msg, "tgme_widget_message_date", NULL);
    for (xmlNode *t = d ? d->children : NULL; t; t = t->next) {
        char *dt = cxs_html_is(t, "time") ? cxs_html_attr(t, "datetime") : NULL;
        if (dt)
            snprintf(m->date, sizeof m->date, "%s", dt);
        free(dt);
    }
}

static void read_forward_reply(xmlNode *msg, tg_msg *m) {
    xmlNode *f =
        cxs_html_find(msg, "tgme_widget_message_forwarded_from_name", NULL);
    if (!f)
        f = cxs_html_find(msg, "tgme_widget_message_forwarded_from", NULL);
    if (f) {
        char *who = cxs_html_text_of(f, NULL);
        const char *w = who ? who : "Unknown";
        if (strncmp(w, "Forwarded from", 14) == 0)
            w += 14;
        size_t wn = strlen(w);
        w = cxs_utf8_trim(w, &wn);
        json_object_set_new(m->extra, "forwarded_from",
                            json_stringn(wn ? w : "Unknown", wn ? wn : 7));
        free(who);
        set_str(m->extra, "forwarded_url", cxs_html_attr(f, "href"));
    }
    xmlNode *r = cxs_html_find(msg, "tgme_widget_message_reply", NULL);
    char *href = r ? cxs_html_attr(r, "href") : NULL;
    char name[128];
    long long id;
    if (href && cxs_live_tme_post(href, name, sizeof name, &id))
        json_object_set_new(m->extra, "reply_to", json_integer(id));
    free(href);
}

static void read_preview(xmlNode *msg, tg_msg *m) {
    xmlNode *lp = cxs_html_find(msg, "tgme_widget_message_link_preview", NULL);
    if (!lp)
        return;
    json_t *x = json_object();
    set_str(x, "url", cxs_html_attr(lp, "href"));
    static const char *const part[][2] = {
        {"link_preview_site_name", "site"},
        {"link_preview_title", "title"},
        {"link_preview_description", "description"}};
    for (size_t i = 0; i < 3; i++) {
        xmlNode *n = cxs_html_find(lp, part[i][0], NULL);
        set_str(x, part[i][1], n ? cxs_html_text_of(n, NULL) : NULL);
    }
    /* Findable: the preview's title and description join the text. */
    const char *t = json_string_value(json_object_get(x, "title"));
    const char *d = json_string_value(json_object_get(x, "description"));
    if (t || d)
        cxs_buf_appendf(&m->text, "\n\n%s%s%s", t ? t : "", t && d ? "\n" : "",
                        d ? d : "");
    json_object_set_new(m->extra, "link_preview", x);
}

static void read_poll(xmlNode *msg, tg_msg *m) {
    xmlNode *poll = cxs_html_find(msg, "tgme_widget_message_poll", NULL);
    if (!poll)
        return;
    xmlNode *q = cxs_html_find(poll, "tgme_widget_message_poll_question", NULL);
    xmlNode *ty = cxs_html_find(poll, "tgme_widget_message_poll_type", NULL);
    char *question = q ? cxs_html_text_of(q, NULL) : NULL;
    char *kind = ty ? cxs_html_text_of(ty, NULL) : NULL;
    json_t *opts = json_array();
    xmlNode *box =
        cxs_html_find(poll, "tgme_widget_message_poll_options", NULL);
    for (xmlNode *o = box ? box->children : NULL; o; o = o->next) {
        if (!cxs_html_has_class(o, "tgme_widget_message_poll_option"))
            continue;
        xmlNode *t =
            cxs_html_find(o, "tgme_widget_message_poll_option_text", NULL);
        xmlNode *p =
            cxs_html_find(o, "tgme_widget_message_poll_option_percent", NULL);
        char *tx = t ? cxs_html_text_of(t, NULL) : NULL;
        char *pc = p ? cxs_html_text_of(p, NULL) : NULL;
        json_array_append_new(opts, json_pack("{s:s, s:I}", "text",
                                              tx ? tx : "", "percent",
                                              (json_int_t)(pc ? atol(pc) : 0)));
        free(tx);
        free(pc);
    }
    if (question) {
        json_object_set_new(m->extra, "poll",
                            json_pack("{s:s, s:s, s:O}", "question", question,
                                      "kind", kind ? kind : "Poll", "options",
                                      opts));
        m->has_poll = true;
    }
    free(question);
    free(kind);
    json_decref(opts);
}

static const char *media_of(xmlNode *msg) {
    if (cxs_html_find(msg, "tgme_widget_message_grouped_wrap", NULL))
        return "album";
    if (cxs_html_find(msg, "tgme_widget_message_poll", NULL))
        return "poll";
    if (cxs_html_find(msg, "tgme_widget_message_video_player", NULL))
        return "video";
    if (cxs_html_find(msg, "tgme_widget_message_photo_wrap", NULL))
        return "photo";
    if (cxs_html_find(msg, "tgme_widget_message_document", NULL))
        return "file";
    if (cxs_html_find(msg, "tgme_widget_message_sticker", NULL))
        return "sticker";
    return NULL;
}

/* The message's own text (not a reply's quote, a preview or a poll). */
static void read_text(xmlNode *msg, tg_msg *m) {
    xmlNode *t = cxs_html_find(msg, "js-message_text", is_nested_message);
    json_t *links = json_array();
    if (t) {
        cxs_html_text h = {&m->text, links, 0, 0, NULL};
        cxs_html_walk(&h, t);
    }
    if (json_array_size(links))
        json_object_set(m->extra, "links", links);
    json_decref(links);
}

/* A post's text: the message's, else a poll's question and options. The
 * poll is added to a caption too, so that a search for it finds it. */
static void poll_text(tg_msg *m) {
    json_t *poll = json_object_get(m->extra, "poll");
    if (!poll)
        return;
    cxs_buf_appendf(&m->text, "%s%s", m->text.len ? "\n\n" : "",
                    json_string_value(json_object_get(poll, "question")));
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(poll, "options"), i, o) cxs_buf_appendf(
        &m->text, "\n- %s", json_string_value(json_object_get(o, "text")));
}

/* ------------------------------------------------------------ messages */

typedef struct tg_page {
    cxs_import_ctx *cx;
    const char *url;
    cxs_live_page *page;
} tg_page;

static void msg_free(tg_msg *m) {
    cxs_buf_release(&m->text);
    json_decref(m->extra);
    free(m->author);
}

static cxs_status emit(tg_page *tp, const char *name, long long id, tg_msg *m,
                       cxs_err *err) {
    size_t n = m->text.len;
    const char *t = cxs_utf8_trim(m->text.data ? m->text.data : "", &n);
    if (n == 0) {
        tp->page->no_text++;
        return CXS_OK; /* a photo without caption: no post */
    }
    cxs_post p = CXS_POST_INIT;
    char buf[600];
    snprintf(buf, sizeof buf, "%s/%lld", name, id);
    cxs_status rc = cxs_post_set(&p.id, buf, strlen(buf));
    snprintf(buf, sizeof buf, "https://t.me/%s/%lld", name, id);
    if (rc == CXS_OK)
        rc = cxs_post_set(&p.url, buf, strlen(buf));
    if (rc == CXS_OK)
        rc = cxs_post_set(&p.channel, name, strlen(name));
    if (rc == CXS_OK)
        rc = cxs_post_set(&p.text, t, n);
    if (rc == CXS_OK && m->date[0])
        rc = cxs_post_set(&p.date, m->date, strlen(m->date));
    if (rc == CXS_OK && m->author)
        rc = cxs_post_set(&p.author, m->author, strlen(m->author));
    if (rc == CXS_OK && tp->url)
        rc = cxs_post_set(&p.source_file, tp->url, strlen(tp->url));
    if (rc != CXS_OK) {
        cxs_post_release(&p);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    p.source_line = (long)id;
    p.extra = m->extra;
    m->extra = NULL;
    if (tp->page->title)
        json_object_set_new(p.extra, "channel_title",
                            json_string(tp->page->title));
    size_t before = tp->cx->stats->posts;
    rc = cxs_import_emit(tp->cx, &p, err);
    tp->page->posts += tp->cx->stats->posts - before;
    return rc;
}

static void note_id(cxs_live_page *pg, long long id) {
    if (pg->min_id == 0 || id < pg->min_id)
        pg->min_id = id;
    if (id > pg->max_id)
        pg->max_id = id;
    pg->items++;
}

static cxs_status one_message(tg_page *tp, xmlNode *msg, cxs_err *err) {
    char *post = cxs_html_attr(msg, "data-post");
    char name[128];
    long long id = 0;
    const char *slash = post ? strrchr(post, '/') : NULL;
    if (slash && (size_t)(slash - post) < sizeof name && slash > post) {
        memcpy(name, post, (size_t)(slash - post));
        name[slash - post] = '\0';
        id = strtoll(slash + 1, NULL, 10);
    }
    free(post);
    if (id <= 0)
        return CXS_OK;
    note_id(tp->page, id);
    if (!tp->page->channel)
        tp->page->channel = cxs_strndup(name, strlen(name));
    if (cxs_html_has_class(msg, "service_message")) {
        tp->page->no_text++;
        return CXS_OK;
    }
    tg_msg m = {0};
    cxs_buf_init(&m.text, CXS_IMPORT_MAX_TEXT);
    m.extra = json_object();
    read_text(msg, &m);
    read_preview(msg, &m);
    read_poll(msg, &m);
    poll_text(&m);
    read_forward_reply(msg, &m);
    read_reactions(msg, &m);
    read_footer(msg, &m);
    const char *media = media_of(msg);
    if (media)
        json_object_set_new(m.extra, "media", json_string(media));
    cxs_status rc = emit(tp, name, id, &m, err);
    msg_free(&m);
    return rc;
}

/* Every message element below n (they sit in wrappers). */
static cxs_status walk_messages(tg_page *tp, xmlNode *n, cxs_err *err) {
    cxs_status rc = CXS_OK;
    for (xmlNode *c = n->children; c && rc == CXS_OK; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (cxs_html_has_class(c, "tgme_widget_message") &&
            xmlHasProp(c, (const xmlChar *)"data-post"))
            rc = one_message(tp, c, err);
        else
            rc = walk_messages(tp, c, err);
    }
    return rc;
}

static void page_head(xmlNode *root, cxs_live_page *pg) {
    xmlNode *t = cxs_html_find(root, "tgme_channel_info_header_title", NULL);
    if (!t)
        t = cxs_html_find(root, "tgme_header_title", NULL);
    pg->title = t ? cxs_html_text_of(t, NULL) : NULL;
    xmlNode *more = cxs_html_find(root, "tme_messages_more", NULL);
    char *b = more ? cxs_html_attr(more, "data-before") : NULL;
    pg->before = b ? strtoll(b, NULL, 10) : 0;
    free(b);
}

/* The encoding to read a page in: what its <meta> declares (libxml2 reads
 * the declaration when given none), else UTF-8, t.me's own, rather than
 * libxml2's HTML default of ISO-8859-1. */
static const char *page_encoding(const char *data, size_t len) {
    size_t n = len < 4096 ? len : 4096;
    for (size_t i = 0; i + 8 <= n; i++)
        if (strncasecmp(data + i, "charset=", 8) == 0)
            return NULL;
    return "UTF-8";
}

cxs_status cxs_live_tgweb(cxs_import_ctx *cx, const char *data, size_t len,
                          const char *url, cxs_live_page *page, cxs_err *err) {
    if (len > (size_t)0x7fffffff)
        return cxs_err_set(err, CXS_ERR_TOO_LARGE, "page too large");
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
               HTML_PARSE_NONET | HTML_PARSE_COMPACT;
    htmlDocPtr doc =
        htmlReadMemory(data, (int)len, url, page_encoding(data, len), opts);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNode *hist =
        root ? cxs_html_find(root, "tgme_channel_history", NULL) : NULL;
    if (!hist) {
        if (doc)
            xmlFreeDoc(doc);
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "a Telegram page without a channel history (not "
                           "a public channel, or the markup changed)");
    }
    page->kind = CXS_LIVE_TGWEB;
    page_head(root, page);
    tg_page tp = {cx, url, page};
    cxs_status rc = walk_messages(&tp, hist, err);
    xmlFreeDoc(doc);
    return rc;
}
