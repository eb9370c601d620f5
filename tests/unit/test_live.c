/*
 * test_live.c - the live readers (import/live.h): Telegram's web preview
 * pages and RSS/Atom feeds, from fixtures of our own writing
 * (tests/fixtures/live/) and, when ../shared is present, from the real
 * saved pages in ../shared/live (skipped with a message otherwise).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cxs_test.h"
#include "live.h"

typedef struct got {
    json_t *posts; /* array of post JSON, in order */
    char warnings[4096];
} got;

static cxs_status sink(void *ud, cxs_post *p, cxs_err *err) {
    (void)err;
    got *g = ud;
    json_array_append_new(g->posts, cxs_post_to_json(p));
    return CXS_OK;
}

static void warn(void *ud, const char *file, long line, const char *msg) {
    (void)file;
    (void)line;
    got *g = ud;
    size_t n = strlen(g->warnings);
    snprintf(g->warnings + n, sizeof g->warnings - n, "%s\n", msg);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    size_t r = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[r] = '\0';
    *len = r;
    return b;
}

static char src_dir[4096], shared_dir[4096];

/* Parses a file; returns the status, fills g and pg. */
static cxs_status parse_file(const char *path, const char *url, got *g,
                             cxs_live_page *pg, cxs_err *err) {
    size_t len = 0;
    char *data = slurp(path, &len);
    memset(g, 0, sizeof *g);
    g->posts = json_array();
    if (!data) {
        fprintf(stderr, "cannot read %s\n", path);
        memset(pg, 0, sizeof *pg);
        return CXS_ERR_IO;
    }
    cxs_status rc =
        cxs_live_parse(data, len, NULL, url, sink, g, warn, g, pg, err);
    free(data);
    return rc;
}

static cxs_status parse_fixture(const char *name, got *g, cxs_live_page *pg,
                                cxs_err *err) {
    char p[4300];
    snprintf(p, sizeof p, "%s/tests/fixtures/live/%s", src_dir, name);
    return parse_file(p, "http://127.0.0.1:9/feed", g, pg, err);
}

static cxs_status parse_str(const char *s, got *g, cxs_live_page *pg,
                            cxs_err *err) {
    memset(g, 0, sizeof *g);
    g->posts = json_array();
    return cxs_live_parse(s, strlen(s), NULL, "http://127.0.0.1:9/x", sink, g,
                          warn, g, pg, err);
}

static json_t *post_by_id(got *g, const char *id) {
    size_t i;
    json_t *p;
    json_array_foreach(g->posts, i, p) {
        if (strcmp(json_string_value(json_object_get(p, "id")), id) == 0)
            return p;
    }
    return NULL;
}

static const char *str(json_t *p, const char *key) {
    return json_string_value(json_object_get(p, key));
}

static void done(got *g, cxs_live_page *pg) {
    json_decref(g->posts);
    cxs_live_page_release(pg);
}

/* ------------------------------------------------------- Telegram, ours */

static void test_tgweb_fixture(void) {
    got g;
    cxs_live_page pg;
    cxs_err err = {0};
    CHECK_INT(parse_fixture("tgweb-cxnotes.html", &g, &pg, &err), CXS_OK);
    CHECK_INT(pg.kind, CXS_LIVE_TGWEB);
    CHECK_STR(pg.channel, "cxnotes");
    CHECK_STR(pg.title, "CX заметки");
    CHECK_INT(pg.min_id, 40);
    CHECK_INT(pg.max_id, 45);
    CHECK_INT(pg.before, 40);
    CHECK_INT(pg.items, 5);
    /* service message and the photo without caption are not posts */
    CHECK_INT(pg.no_text, 2);
    CHECK_INT(json_array_size(g.posts), 3);

    json_t *p = post_by_id(&g, "cxnotes/41");
    CHECK(p != NULL);
    CHECK_STR(str(p, "text"),
              "📊 Индекс NPS за квартал вырос\n\nПодробности в отчёте #nps");
    CHECK_STR(str(p, "channel"), "cxnotes");
    CHECK_STR(str(p, "url"), "https://t.me/cxnotes/41");
    CHECK_STR(str(p, "author"), "Мария Петрова");
    CHECK_STR(str(p, "date"), "2025-03-04T09:15:00+00:00");
    CHECK(str(p, "lang") == NULL); /* the index detects it */
    CHECK(json_is_true(json_object_get(p, "edited")));
    CHECK_INT(json_integer_value(json_object_get(p, "views")), 1500);
    json_t *r = json_object_get(p, "reactions");
    CHECK_INT(json_integer_value(json_object_get(r, "👍")), 1200);
    CHECK_INT(json_integer_value(json_object_get(r, "🔥")), 7);
    CHECK_INT(json_integer_value(json_object_get(r, "paid")), 3);
    CHECK_STR(json_string_value(json_array_get(json_object_get(p, "tags"), 0)),
              "nps");
    CHECK_STR(json_string_value(json_array_get(json_object_get(p, "links"), 0)),
              "https://example.org/nps-report");

    p = post_by_id(&g, "cxnotes/42");
    CHECK(p != NULL);
    const char *t = str(p, "text");
    /* the reply's quote is not this post's text; the preview is */
    CHECK(t && !strstr(t, "цитата"));
    CHECK(t && strstr(t, "Customer journey map della banca"));
    CHECK(t && strstr(t, "Mappa del percorso cliente"));
    CHECK(t && strstr(t, "Come disegnare una mappa"));
    CHECK_STR(str(p, "forwarded_from"), "Service Design Club");
    CHECK_STR(str(p, "forwarded_url"), "https://t.me/servicedesign/77");
    CHECK_INT(json_integer_value(json_object_get(p, "reply_to")), 41);
    CHECK_STR(str(p, "media"), "album");
    json_t *lp = json_object_get(p, "link_preview");
    CHECK_STR(str(lp, "title"), "Mappa del percorso cliente");
    CHECK_STR(str(lp, "site"), "Example");
    CHECK_STR(str(lp, "url"), "https://example.org/cjm");
    CHECK(post_by_id(&g, "cxnotes/43") == NULL); /* album: one post */

    p = post_by_id(&g, "cxnotes/44");
    CHECK_STR(str(p, "text"),
              "Какую метрику вы считаете главной?\n- CSAT\n- CES");
    json_t *poll = json_object_get(p, "poll");
    CHECK_STR(str(poll, "kind"), "Anonymous Poll");
    CHECK_INT(
        json_integer_value(json_object_get(
            json_array_get(json_object_get(poll, "options"), 0), "percent")),
        60);
    done(&g, &pg);
}

/* ------------------------------------------------------------- feeds */

static void test_rss_fixture(void) {
    got g;
    cxs_live_page pg;
    cxs_err err = {0};
    CHECK_INT(parse_fixture("rss-cx.xml", &g, &pg, &err), CXS_OK);
    CHECK_INT(pg.kind, CXS_LIVE_FEED);
    CHECK_STR(pg.title, "Note di customer experience");
    CHECK_INT(pg.items, 4);
    CHECK_INT(pg.no_text, 1);
    CHECK_INT(json_array_size(g.posts), 3);
    /* a guid that is not a URL is qualified by the feed's host */
    json_t *p = post_by_id(&g, "127.0.0.1/post-101");
    CHECK(p != NULL);
    CHECK_STR(str(p, "title"), "Il cliente al centro");
    CHECK_STR(str(p, "text"),
              "Perché il percorso del cliente conta più del prodotto.\n\n"
              "Secondo paragrafo con un studio.\n\n🙂");
    CHECK_STR(str(p, "author"), "Giulia Bianchi");
    CHECK_STR(str(p, "date"), "2025-03-04T08:30:00+01:00");
    CHECK_STR(str(p, "channel"), "Note di customer experience");
    CHECK_STR(str(p, "url"), "https://news.example.it/p/cliente-al-centro");
    CHECK(str(p, "lang") == NULL); /* <language>en</language> is ignored */
    json_t *tags = json_object_get(p, "tags");
    CHECK_INT(json_array_size(tags), 2);
    CHECK_STR(json_string_value(json_array_get(tags, 0)), "cx");

    p = post_by_id(&g, "https://news.example.it/p/fedelta");
    CHECK(p != NULL);
    CHECK_STR(str(p, "text"), "Solo un titolo sulla fedeltà dei clienti");
    CHECK_STR(str(p, "author"), "Redazione");
    CHECK_STR(str(p, "date"), "2025-03-05T09:00:00+00:00");

    /* a bridge's item linking a Telegram post gets that post's id */
    p = post_by_id(&g, "cxbridge/777");
    CHECK(p != NULL);
    CHECK_STR(str(p, "channel"), "cxbridge");
    CHECK_STR(str(p, "text"), "Пост из моста: клиентский опыт в банке");
    CHECK_STR(str(p, "date"), "2025-03-06T10:00:00-05:00");
    done(&g, &pg);
}

static void test_atom_fixture(void) {
    got g;
    cxs_live_page pg;
    cxs_err err = {0};
    CHECK_INT(parse_fixture("atom-cx.xml", &g, &pg, &err), CXS_OK);
    CHECK_INT(json_array_size(g.posts), 2);
    json_t *p = post_by_id(&g, "127.0.0.1/urn:uuid:entry-1");
    CHECK(p != NULL);
    CHECK_STR(str(p, "text"),
              "Every touchpoint is a promise.\n\nKeep the promises you make.");
    CHECK_STR(str(p, "url"), "https://journal.example.com/touchpoints");
    CHECK_STR(str(p, "author"), "Anna Rossi");
    CHECK_STR(str(p, "date"), "2025-02-01T10:00:00.123+01:00");
    CHECK_STR(str(p, "updated"), "2025-02-03T12:00:00Z");
    CHECK_STR(json_string_value(json_array_get(json_object_get(p, "tags"), 0)),
              "journey");
    p = post_by_id(&g, "https://journal.example.com/escaped");
    CHECK_STR(str(p, "text"), "Summaries & details\non two lines");
    CHECK_STR(str(p, "date"), "2025-02-04T08:00:00Z");
    done(&g, &pg);
}

static void test_feed_encodings(void) {
    const char *files[] = {"rss-cp1251.xml", "rss-cp1251-mislabeled.xml"};
    for (int i = 0; i < 2; i++) {
        got g;
        cxs_live_page pg;
        cxs_err err = {0};
        CHECK_INT(parse_fixture(files[i], &g, &pg, &err), CXS_OK);
        CHECK_STR(pg.title, "Клиентский опыт");
        json_t *p = json_array_get(g.posts, 0);
        CHECK_STR(str(p, "title"), "Лояльность клиентов");
        CHECK_STR(str(p, "text"),
                  "Удержание клиентов дешевле, чем привлечение новых.");
        if (i == 1)
            CHECK(strstr(g.warnings, "windows-1251") != NULL);
        done(&g, &pg);
    }
}

/* A channel page in windows-1251 that says so in its <meta>. */
static void test_tgweb_declared_charset(void) {
    /* "Отзывы клиентов" in windows-1251 */
    const char *page =
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
        "charset=windows-1251\"></head><body><section class=\"tgme_channel_"
        "history\"><div class=\"tgme_widget_message\" data-post=\"c/9\">"
        "<div class=\"tgme_widget_message_text js-message_text\">"
        "\xce\xf2\xe7\xfb\xe2\xfb \xea\xeb\xe8\xe5\xed\xf2\xee\xe2"
        "</div></div></section></body></html>";
    got g;
    cxs_live_page pg;
    cxs_err err = {0};
    CHECK_INT(parse_str(page, &g, &pg, &err), CXS_OK);
    CHECK_STR(str(json_array_get(g.posts, 0), "text"), "Отзывы клиентов");
    done(&g, &pg);
}

/* --------------------------------------------------------- bad input */

static void test_bad_pages(void) {
    static const struct {
        const char *page, *want;
    } cases[] = {
        {"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
         "<body>nginx</body></html>",
         "HTML page titled \"502 Bad Gateway\""},
        {"{\"error\": \"no such feed\"}", "JSON"},
        {"just some words\nand more", "starts with \"just some words\""},
        {"", "empty page"},
        {"<?xml version=\"1.0\"?><html><body>hi</body></html>",
         "XML but not a feed"},
        {"<?xml version=\"1.0\"?><channel><item><title>a</ti",
         "not well-formed"},
        {"<html><body><div class=\"tgme_widget_message\">x</div></body></html>",
         "without a channel history"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        got g;
        cxs_live_page pg;
        cxs_err err = {0};
        CHECK_INT(parse_str(cases[i].page, &g, &pg, &err), CXS_ERR_PARSE);
        CHECK_MSG(strstr(err.msg, cases[i].want) != NULL, "%zu: %s", i,
                  err.msg);
        CHECK_INT(json_array_size(g.posts), 0);
        done(&g, &pg);
    }
}

static void test_malformed_feed_recovered(void) {
    /* An unescaped '&' is the most common fault of real feeds. */
    const char *rss = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
                      "<title>Q & A</title><item><title>One</title>"
                      "<link>https://a.example/1</link><description>Text one"
                      "</description></item></channel></rss>";
    got g;
    cxs_live_page pg;
    cxs_err err = {0};
    CHECK_INT(parse_str(rss, &g, &pg, &err), CXS_OK);
    CHECK_INT(json_array_size(g.posts), 1);
    CHECK(strstr(g.warnings, "not well-formed") != NULL);
    done(&g, &pg);
    /* A feed cut short keeps the items before the cut. */
    CHECK_INT(parse_str("<?xml version=\"1.0\"?><rss><channel><item><title>"
                        "Whole item</title></item><item><title>cut",
                        &g, &pg, &err),
              CXS_OK);
    CHECK_INT(json_array_size(g.posts), 2);
    CHECK_STR(str(json_array_get(g.posts, 0), "text"), "Whole item");
    done(&g, &pg);
    /* Malformed HTML of a Telegram page: libxml2 recovers what it can. */
    const char *tg =
        "<section class=\"tgme_channel_history\"><div class=\"tgme_widget_"
        "message\" data-post=\"c/5\"><div class=\"tgme_widget_message_text "
        "js-message_text\">unclosed <b>bold <i>and more</section>";
    CHECK_INT(parse_str(tg, &g, &pg, &err), CXS_OK);
    CHECK_INT(json_array_size(g.posts), 1);
    CHECK_STR(str(json_array_get(g.posts, 0), "text"),
              "unclosed bold and more");
    done(&g, &pg);
}

/* External entities are never read: a feed cannot pull in local files. */
static void test_feed_no_entities(void) {
    const char *rss = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM "
                      "\"file:///etc/hostname\">]><rss><channel><title>t"
                      "</title><item><title>e</title><description>&x;"
                      "</description></item></channel></rss>";
    got g;
    cxs_live_page pg;
    cxs_err err = {0};
    (void)parse_str(rss, &g, &pg, &err);
    json_t *p = json_array_get(g.posts, 0);
    CHECK(p == NULL || !str(p, "text") || strlen(str(p, "text")) < 3 ||
          strcmp(str(p, "text"), "e") == 0);
    done(&g, &pg);
}

/* ------------------------------------------------------ the real pages */

static bool have_shared(const char *rel, char *path, size_t cap) {
    snprintf(path, cap, "%s/live/%s", shared_dir, rel);
    struct stat st;
    if (stat(path, &st) == 0)
        return true;
    fprintf(stderr, "SKIP: %s not found (set CXS_SHARED_DIR)\n", path);
    return false;
}

static size_t count_field(got *g, const char *key) {
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(g->posts, i, p) n += json_object_get(p, key) != NULL;
    return n;
}

static size_t count_media(got *g, const char *media) {
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(g->posts, i, p) {
        const char *m = str(p, "media");
        n += m && strcmp(m, media) == 0;
    }
    return n;
}

static void test_real_tgweb(void) {
    static const struct {
        const char *file, *channel;
        long long min_id, max_id, before;
        size_t items, posts;
    } pages[] = {
        {"tme-s/topwar_official-1.html", "topwar_official", 70989, 71008, 70989,
         12, 12},
        {"tme-s/cit_gov-1.html", "cit_gov", 1484, 1503, 1484, 20, 20},
        {"tme-s/infoscape_test-1.html", "infoscape_test", 1, 7, 0, 6, 5},
        {"tme-s/lexfridman-1.html", "lexfridman", 271, 293, 271, 19, 19},
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        char path[4400];
        if (!have_shared(pages[i].file, path, sizeof path))
            return;
        got g;
        cxs_live_page pg;
        cxs_err err = {0};
        CHECK_INT(parse_file(path, "http://127.0.0.1:9/s/x", &g, &pg, &err),
                  CXS_OK);
        CHECK_STR(pg.channel, pages[i].channel);
        CHECK_INT(pg.min_id, pages[i].min_id);
        CHECK_INT(pg.max_id, pages[i].max_id);
        CHECK_INT(pg.before, pages[i].before);
        CHECK_INT(pg.items, pages[i].items);
        CHECK_MSG(json_array_size(g.posts) == pages[i].posts, "%s: %zu posts",
                  pages[i].file, json_array_size(g.posts));
        size_t k;
        json_t *p;
        json_array_foreach(g.posts, k, p) {
            const char *id = str(p, "id");
            CHECK(id &&
                  strncmp(id, pages[i].channel, strlen(pages[i].channel)) == 0);
            CHECK(str(p, "date") != NULL);
            CHECK(json_object_get(p, "views") != NULL);
            /* no markup leaks into the text */
            CHECK_MSG(!strstr(str(p, "text"), "<b>") &&
                          !strstr(str(p, "text"), "&nbsp;"),
                      "%s", id);
        }
        if (i == 0) { /* topwar: 5 forwards, 2 albums, a link preview */
            CHECK_INT(count_field(&g, "forwarded_from"), 5);
            CHECK_INT(count_media(&g, "album"), 2);
            CHECK_INT(count_field(&g, "link_preview"), 1);
        } else if (i == 1) { /* cit_gov: 5 quiz polls, reactions, edited */
            CHECK_INT(count_field(&g, "poll"), 5);
            CHECK(count_field(&g, "reactions") >= 15);
            CHECK(count_field(&g, "edited") >= 1);
            json_t *q = post_by_id(&g, "cit_gov/1496");
            CHECK(q && strstr(str(q, "text"), "\n- "));
            /* custom emoji reduced to their character */
            CHECK(!strstr(str(post_by_id(&g, "cit_gov/1484"), "text"),
                          "tg-emoji"));
        } else if (i == 2) { /* infoscape: a reply, a service message */
            CHECK_INT(json_integer_value(json_object_get(
                          post_by_id(&g, "infoscape_test/7"), "reply_to")),
                      2);
            CHECK(post_by_id(&g, "infoscape_test/1") == NULL);
            CHECK_INT(pg.no_text, 1);
        } else { /* lexfridman: 5 link previews, an album */
            CHECK_INT(count_field(&g, "link_preview"), 5);
            CHECK_INT(count_media(&g, "album"), 1);
        }
        done(&g, &pg);
    }
}

static void test_real_feeds(void) {
    static const struct {
        const char *file;
        size_t posts;
    } feeds[] = {
        {"feeds/substack-interconnects-en.xml", 20},
        {"feeds/tg2rss-nerlfield-uk-ru.xml", 113},
        {"feeds/blogger-atom-utdelningsseglaren-sv.xml", 25},
    };
    for (size_t i = 0; i < sizeof feeds / sizeof *feeds; i++) {
        char path[4400];
        if (!have_shared(feeds[i].file, path, sizeof path))
            return;
        got g;
        cxs_live_page pg;
        cxs_err err = {0};
        CHECK_INT(
            parse_file(path, "https://feeds.example.org/f", &g, &pg, &err),
            CXS_OK);
        CHECK_INT(pg.kind, CXS_LIVE_FEED);
        CHECK_MSG(json_array_size(g.posts) == feeds[i].posts, "%s: %zu",
                  feeds[i].file, json_array_size(g.posts));
        size_t k, linked = 0, tagged = 0;
        json_t *p;
        json_array_foreach(g.posts, k, p) {
            CHECK(str(p, "date") != NULL);
            CHECK(str(p, "lang") == NULL);
            CHECK(!strstr(str(p, "text"), "<p>") &&
                  !strstr(str(p, "text"), "&lt;"));
            linked += str(p, "id") && strncmp(str(p, "id"), "http", 4) != 0 &&
                      strchr(str(p, "id"), '/') && !strstr(str(p, "id"), ":");
            tagged += json_array_size(json_object_get(p, "tags")) > 0;
        }
        if (i == 0)
            CHECK(str(json_array_get(g.posts, 0), "author") != NULL);
        if (i == 1) /* items with a t.me link get NAME/ID: 93 of 113 */
            CHECK_MSG(linked == 93, "%zu t.me ids", linked);
        if (i == 2) /* Blogger categories become tags */
            CHECK(tagged >= 20);
        done(&g, &pg);
    }
}

int main(void) {
    const char *s = getenv("CXS_SOURCE_DIR");
    snprintf(src_dir, sizeof src_dir, "%s", s ? s : ".");
    const char *sh = getenv("CXS_SHARED_DIR");
    snprintf(shared_dir, sizeof shared_dir, "%s", sh ? sh : "../shared");
    RUN(test_tgweb_fixture);
    RUN(test_rss_fixture);
    RUN(test_atom_fixture);
    RUN(test_feed_encodings);
    RUN(test_tgweb_declared_charset);
    RUN(test_bad_pages);
    RUN(test_malformed_feed_recovered);
    RUN(test_feed_no_entities);
    RUN(test_real_tgweb);
    RUN(test_real_feeds);
    return cxs_test_done();
}
