/*
 * import_tgjson.c - Telegram Desktop JSON export (result.json): one chat,
 * or the full-account export whose chats sit in "chats"."list" (and
 * "left_chats"."list").
 *
 * Facts that shaped it (Telegram Desktop's export format):
 * - A message's "text" is a string, or an array mixing strings and entity
 *   objects {"type": "link"|"text_link"|"hashtag"|..., "text": ...,
 *   "href": ...}; "text_entities" (newer exports) is always an array of
 *   such objects and is preferred when present. Hashtags stay in the text
 *   as "#tag" (cxs_post_finish turns them into tags); hrefs of text links
 *   are kept in extra "links".
 * - "type" is "message" or "service" (pins, joins, channel created):
 *   service messages are not posts. A media message keeps its caption in
 *   "text"; media without a caption has no text and is no post. A poll
 *   without text becomes a post of its question and options.
 * - "date" is local time without an offset and "date_unixtime" the same
 *   instant in epoch seconds: their difference is the exporter's UTC
 *   offset, so the date is written with its offset, the same instant the
 *   HTML export states in its title attribute.
 * - The export names the chat but not its username: ids are
 *   "<username>/<message id>" when the username is known (a "username"
 *   field, or opts->channel), else "<chat name>/<message id>", the same key
 *   the HTML export of the chat yields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "import_internal.h"

typedef struct chat_ctx {
    cxs_import_ctx *cx;
    const char *path;
    const char *name;     /* chat title, may be NULL */
    const char *username; /* may be NULL */
    const char *key;      /* channel key for ids */
} chat_ctx;

static const char *str_of(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

/* Appends one part of a text: a string or an entity object. */
static cxs_status add_part(cxs_buf *b, const json_t *part, json_t *links) {
    if (json_is_string(part))
        return cxs_buf_append(b, json_string_value(part),
                              json_string_length(part));
    if (!json_is_object(part))
        return CXS_OK;
    const char *type = str_of(part, "type");
    const json_t *t = json_object_get(part, "text");
    const char *href = str_of(part, "href");
    if (type && strcmp(type, "text_link") == 0 && href)
        json_array_append_new(links, json_string(href));
    if (!json_is_string(t))
        return CXS_OK;
    return cxs_buf_append(b, json_string_value(t), json_string_length(t));
}

/* The message's text from text_entities, or text. */
static cxs_status message_text(const json_t *m, cxs_buf *b, json_t *links) {
    const json_t *t = json_object_get(m, "text_entities");
    if (!json_is_array(t) || json_array_size(t) == 0)
        t = json_object_get(m, "text");
    if (json_is_string(t))
        return cxs_buf_append(b, json_string_value(t), json_string_length(t));
    size_t i;
    const json_t *part;
    cxs_status rc = cxs_buf_append(b, "", 0);
    json_array_foreach(t, i, part) {
        if ((rc = add_part(b, part, links)) != CXS_OK)
            break;
    }
    return rc;
}

/* A poll as text (question, then "- option" lines) and as extra.poll. */
static cxs_status poll_text(const json_t *poll, cxs_buf *b, cxs_post *p) {
    const char *q = str_of(poll, "question");
    if (!q)
        return CXS_OK;
    cxs_status rc = cxs_buf_appends(b, q);
    json_t *answers = json_object_get(poll, "answers");
    json_t *opts = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(answers, i, a) {
        const char *t = str_of(a, "text");
        if (!t || rc != CXS_OK)
            continue;
        rc = cxs_buf_appendf(b, "\n- %s", t);
        json_t *o = json_pack("{s:s, s:I}", "text", t, "votes",
                              json_integer_value(json_object_get(a, "voters")));
        json_array_append_new(opts, o);
    }
    json_t *x = json_pack(
        "{s:s, s:o, s:I}", "question", q, "options", opts, "total_votes",
        json_integer_value(json_object_get(poll, "total_voters")));
    if (x)
        json_object_set_new(p->extra, "poll", x);
    return rc;
}

/* "2019-07-17T11:13:53" + epoch seconds -> "2019-07-17T11:13:53-08:00". */
static void date_with_offset(const char *local, const char *unix_s, char *out,
                             size_t cap) {
    struct tm tm = {0};
    snprintf(out, cap, "%s", local);
    if (!unix_s ||
        sscanf(local, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    long long off = (long long)timegm(&tm) - strtoll(unix_s, NULL, 10);
    if (off < -14 * 3600 || off > 14 * 3600 || off % 900 != 0)
        return;
    long long a = off < 0 ? -off : off;
    snprintf(out, cap, "%.19s%c%02lld:%02lld", local, off < 0 ? '-' : '+',
             a / 3600, (a % 3600) / 60);
}

/* Reactions as {"👍": 5, "paid": 3, "custom_emoji": 2}. */
static json_t *reactions_of(const json_t *arr) {
    json_t *r = json_object();
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        const char *type = str_of(x, "type");
        const char *emoji = str_of(x, "emoji");
        json_int_t n = json_integer_value(json_object_get(x, "count"));
        const char *key = emoji && (!type || strcmp(type, "emoji") == 0) ? emoji
                          : type                                         ? type
                                 : "unknown";
        json_int_t old = json_integer_value(json_object_get(r, key));
        json_object_set_new(r, key, json_integer(old + n));
    }
    return r;
}

static cxs_status set_str(char **f, const char *s) {
    return s ? cxs_post_set(f, s, strlen(s)) : CXS_OK;
}

/* Fills the fields other than text: id, url, dates, author, extra. */
static cxs_status message_meta(chat_ctx *c, const json_t *m, long ordinal,
                               json_int_t id, cxs_post *p) {
    char buf[600];
    snprintf(buf, sizeof buf, "%s/%lld", c->key, (long long)id);
    cxs_status rc = set_str(&p->id, buf);
    if (rc == CXS_OK && c->username) {
        snprintf(buf, sizeof buf, "https://t.me/%s/%lld", c->username,
                 (long long)id);
        rc = set_str(&p->url, buf);
    }
    const char *date = str_of(m, "date");
    if (rc == CXS_OK && date) {
        date_with_offset(date, str_of(m, "date_unixtime"), buf, sizeof buf);
        rc = set_str(&p->date, buf);
    }
    const char *author = str_of(m, "author");
    const char *from = str_of(m, "from");
    if (!author && from && (!c->name || strcmp(from, c->name) != 0))
        author = from;
    if (rc == CXS_OK)
        rc = set_str(&p->channel, c->username ? c->username : c->name);
    if (rc == CXS_OK)
        rc = set_str(&p->author, author);
    if (rc == CXS_OK)
        rc = set_str(&p->source_file, c->path);
    p->source_line = ordinal;
    return rc;
}

static void message_extra(chat_ctx *c, const json_t *m, cxs_post *p) {
    char buf[64];
    const char *edited = str_of(m, "edited");
    if (edited) {
        date_with_offset(edited, str_of(m, "edited_unixtime"), buf, sizeof buf);
        json_object_set_new(p->extra, "edited", json_string(buf));
    }
    const char *fwd = str_of(m, "forwarded_from");
    if (fwd)
        json_object_set_new(p->extra, "forwarded_from", json_string(fwd));
    const json_t *re = json_object_get(m, "reactions");
    if (json_is_array(re) && json_array_size(re) > 0)
        json_object_set_new(p->extra, "reactions", reactions_of(re));
    const json_t *reply = json_object_get(m, "reply_to_message_id");
    if (json_is_integer(reply))
        json_object_set(p->extra, "reply_to", (json_t *)reply);
    const char *via = str_of(m, "via_bot");
    if (via)
        json_object_set_new(p->extra, "via_bot", json_string(via));
    const char *media = str_of(m, "media_type");
    if (!media && json_object_get(m, "photo"))
        media = "photo";
    if (media)
        json_object_set_new(p->extra, "media", json_string(media));
    if (c->name && c->username)
        json_object_set_new(p->extra, "channel_title", json_string(c->name));
}

static cxs_status one_message(chat_ctx *c, const json_t *m, long ordinal,
                              cxs_err *err) {
    const char *type = str_of(m, "type");
    json_t *idv = json_object_get(m, "id");
    if (!json_is_object(m) || !type || strcmp(type, "message") != 0 ||
        !json_is_integer(idv))
        return CXS_OK; /* service messages and odd records are no posts */
    cxs_post p = CXS_POST_INIT;
    cxs_buf b;
    cxs_buf_init(&b, 0); /* cut by cxs_import_emit */
    json_t *links = json_array();
    p.extra = json_object();
    cxs_status rc =
        links && p.extra ? message_text(m, &b, links) : CXS_ERR_NOMEM;
    const json_t *poll = json_object_get(m, "poll");
    if (rc == CXS_OK && json_is_object(poll)) {
        if (cxs_utf8_blank(b.data ? b.data : "", b.len))
            cxs_buf_reset(&b);
        rc = poll_text(poll, &b, &p);
    }
    if (rc == CXS_OK && b.len && !cxs_utf8_blank(b.data, b.len)) {
        p.text = cxs_buf_detach(&b);
        rc = message_meta(c, m, ordinal, json_integer_value(idv), &p);
        message_extra(c, m, &p);
        if (json_array_size(links))
            json_object_set(p.extra, "links", links);
        if (rc == CXS_OK)
            rc = cxs_import_emit(c->cx, &p, err);
        else
            cxs_err_set(err, rc, "out of memory");
    } else if (rc != CXS_OK) {
        cxs_err_set(err, rc, "out of memory");
    }
    json_decref(links);
    cxs_buf_release(&b);
    cxs_post_release(&p);
    return rc;
}

static cxs_status one_chat(cxs_import_ctx *cx, const char *path,
                           const json_t *chat, cxs_err *err) {
    const json_t *msgs = json_object_get(chat, "messages");
    if (!json_is_array(msgs))
        return CXS_OK; /* a chat listed without its messages */
    char idkey[32];
    chat_ctx c = {cx, path, str_of(chat, "name"), str_of(chat, "username"),
                  NULL};
    if (cx->opts && cx->opts->channel && *cx->opts->channel)
        c.username = cx->opts->channel;
    if (c.username && c.username[0] == '@')
        c.username++;
    c.key = c.username ? c.username : c.name;
    if (!c.key || !*c.key) {
        snprintf(idkey, sizeof idkey, "tg%lld",
                 (long long)json_integer_value(json_object_get(chat, "id")));
        c.key = idkey;
    }
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m) {
        cxs_status rc = one_message(&c, m, (long)i + 1, err);
        if (rc != CXS_OK)
            return rc;
    }
    return CXS_OK;
}

static cxs_status chat_list(cxs_import_ctx *cx, const char *path,
                            const json_t *holder, cxs_err *err) {
    const json_t *list = json_object_get(holder, "list");
    size_t i;
    const json_t *chat;
    json_array_foreach(list, i, chat) {
        cxs_status rc = one_chat(cx, path, chat, err);
        if (rc != CXS_OK)
            return rc;
    }
    return CXS_OK;
}

cxs_status cxs_import_tgjson_file(cxs_import_ctx *cx, const char *path,
                                  cxs_err *err) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        cx->err_line = jerr.line > 0 ? jerr.line : 0;
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "bad JSON (line %d, column %d): %s", jerr.line,
                           jerr.column, jerr.text);
    }
    cxs_status rc;
    const json_t *chats = json_object_get(root, "chats");
    if (json_is_array(json_object_get(root, "messages"))) {
        rc = one_chat(cx, path, root, err);
    } else if (json_is_array(json_object_get(chats, "list"))) {
        rc = chat_list(cx, path, chats, err);
        const json_t *left = json_object_get(root, "left_chats");
        if (rc == CXS_OK && json_is_object(left))
            rc = chat_list(cx, path, left, err);
    } else {
        rc = cxs_err_set(err, CXS_ERR_PARSE,
                         "unknown layout: a Telegram export has "
                         "\"messages\" or \"chats\".\"list\"");
    }
    json_decref(root);
    return rc;
}
