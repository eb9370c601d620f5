/*
 * import_scraped.c - channel pages scraped from catalogue and mirror sites
 * and saved as text: a channel header, then posts separated by relative
 * times ("2 months, 1 week ago"), reaction lines ("🔥28❤8") and "VIEW IN
 * TELEGRAM" markers, mixed with ads, recommended channels, filler news
 * and page chrome.
 *
 * The rules are general, not a list of the seed files' sentences
 * (docs/importing.md tells them in full):
 * - Line kinds: relative-time lines split posts (the last of a run dates
 *   the next post); reaction lines and VIEW IN TELEGRAM close a post
 *   (reactions become numbers in extra "reactions", never text); a URL
 *   line host/<channel>/<n> gives the post's id and url; "<title> pinned
 *   «...»" notices are dropped (they quote another post) and name the
 *   channel; "Anonymous Poll"-style markers turn the line before them and
 *   the "NN%" / option pairs after them into a poll post of its own.
 * - Page chrome (fixed phrases of catalogue sites: view-in-Telegram, media
 *   not supported, share, open in Telegram, "Last updated" cards) is
 *   dropped; "We recommend to visit" opens a recommended-channels block
 *   that lasts until the next post; "Telegram News" opens the filler
 *   footer that lasts to the end of the page.
 * - Repeats: a post printed twice (the second copy may lack its first
 *   lines, its emoji, or text after an emoji) is collapsed to its first
 *   copy; a preview line that repeats the post's first line is dropped; a
 *   post repeating the previous one is merged into it; a paragraph found
 *   in two or more posts of the page set, or in the pages' non-post
 *   regions, is boilerplate and removed (posts left empty are dropped).
 * - Identity: "<channel>/<n>" from a post URL, else the text hash with the
 *   channel (the slug when the page shows one, else its title).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_scraped.h"

/* ------------------------------------------------------------ emitting */

/* The post's text, built whole (the cap is cxs_import_emit's): poll
 * first, then its lines, paragraphs kept. */
static cxs_status post_text(const spost *p, cxs_post *q) {
    cxs_buf b;
    cxs_buf_init(&b, 0);
    if (p->poll) {
        cxs_buf_appends(
            &b, json_string_value(json_object_get(p->poll, "question")));
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(p->poll, "options"), i, o)
            cxs_buf_appendf(&b, "\n- %s",
                            json_string_value(json_object_get(o, "text")));
    }
    bool blank = false;
    for (size_t i = 0; i < p->nl; i++) {
        if (p->ls[i].n == 0) {
            blank = b.len > 0;
            continue;
        }
        if (b.len > 0)
            cxs_buf_appends(&b, blank ? "\n\n" : "\n");
        blank = false;
        cxs_buf_append(&b, p->ls[i].s, p->ls[i].n);
    }
    cxs_status rc = cxs_buf_status(&b);
    q->text = cxs_buf_detach(&b);
    return rc != CXS_OK ? rc : q->text ? CXS_OK : CXS_ERR_NOMEM;
}

static cxs_status set_s(char **f, const char *s) {
    return s ? cxs_post_set(f, s, strlen(s)) : CXS_OK;
}

static cxs_status fill_post(const scrape *sc, const spost *p, cxs_post *q) {
    const page *pg = &sc->pages[p->page];
    const char *chan = p->slug     ? p->slug
                       : pg->slug  ? pg->slug
                       : pg->title ? pg->title
                                   : pg->title_slug;
    char buf[256];
    cxs_status rc = post_text(p, q);
    if (rc == CXS_OK)
        rc = set_s(&q->channel, chan);
    if (rc == CXS_OK && p->slug) {
        snprintf(buf, sizeof buf, "%s/%ld", p->slug, p->msgid);
        rc = set_s(&q->id, buf);
        snprintf(buf, sizeof buf, "https://t.me/%s/%ld", p->slug, p->msgid);
        if (rc == CXS_OK)
            rc = set_s(&q->url, buf);
    }
    if (rc == CXS_OK && p->date[0])
        rc = set_s(&q->date, p->date);
    if (rc == CXS_OK)
        rc = set_s(&q->source_file, pg->path);
    q->source_line = p->line_no;
    if (rc == CXS_OK && !(q->extra = json_object()))
        rc = CXS_ERR_NOMEM;
    if (rc != CXS_OK)
        return rc;
    if (p->date_text)
        json_object_set_new(q->extra, "date_text", json_string(p->date_text));
    if (p->reactions && json_object_size(p->reactions))
        json_object_set(q->extra, "reactions", p->reactions);
    if (p->poll)
        json_object_set(q->extra, "poll", p->poll);
    if (pg->title && chan != pg->title)
        json_object_set_new(q->extra, "channel_title", json_string(pg->title));
    if (p->media)
        json_object_set_new(q->extra, "media", json_string("media"));
    return CXS_OK;
}

static cxs_status emit_all(scrape *sc, cxs_err *err) {
    for (size_t i = 0; i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        if (p->dropped || (!cxs_scraped_has_text(p) && !p->poll))
            continue;
        cxs_post q = CXS_POST_INIT;
        cxs_status rc = fill_post(sc, p, &q);
        if (rc != CXS_OK) {
            cxs_post_release(&q);
            return cxs_err_set(err, rc, "out of memory");
        }
        if ((rc = cxs_import_emit(sc->cx, &q, err)) != CXS_OK)
            return rc;
    }
    return CXS_OK;
}

/* ------------------------------------------------------------- entry */

static void load_page(scrape *sc, size_t i, const char *path) {
    page *pg = &sc->pages[i];
    pg->path = path;
    char *raw;
    size_t len;
    cxs_err e = {0};
    cxs_buf b;
    cxs_buf_init(&b, 0);
    sc->cx->err_line = 0;
    cxs_status rc =
        cxs_import_read_file(path, sc->cx->max_bytes, &raw, &len, &e);
    if (rc == CXS_OK) {
        rc = cxs_import_clean_text(sc->cx, path, raw, len, &b, &e);
        free(raw);
    }
    if (rc != CXS_OK) {
        cxs_import_warn(sc->cx, path, sc->cx->err_line, "file skipped: %s",
                        e.msg);
        sc->cx->stats->files_skipped++;
        cxs_buf_release(&b);
        return;
    }
    pg->len = b.len;
    pg->data = cxs_buf_detach(&b);
    sc->cx->stats->files_read++;
}

static void scrape_free(scrape *sc) {
    for (size_t i = 0; i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        free(p->ls);
        free(p->date_text);
        free(p->slug);
        json_decref(p->reactions);
        json_decref(p->poll);
    }
    for (size_t i = 0; i < sc->npages; i++) {
        page *pg = &sc->pages[i];
        free(pg->data);
        free(pg->title);
        free(pg->slug);
        free(pg->desc);
        free(pg->title_slug);
    }
    free(sc->posts);
    free(sc->pages);
    free(sc->nonpost);
}

cxs_status cxs_import_scraped_files(cxs_import_ctx *cx, char **paths,
                                    size_t npaths, cxs_err *err) {
    scrape sc = {0};
    sc.cx = cx;
    sc.pages = calloc(npaths ? npaths : 1, sizeof *sc.pages);
    if (!sc.pages)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    sc.npages = npaths;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < npaths; i++)
        load_page(&sc, i, paths[i]);
    for (size_t i = 0; rc == CXS_OK && i < npaths; i++)
        if (sc.pages[i].data)
            rc = cxs_scraped_parse_page(&sc, i);
    if (rc == CXS_OK)
        rc = cxs_scraped_collapse(&sc);
    if (rc == CXS_OK)
        rc = cxs_scraped_dedupe(&sc);
    if (rc == CXS_OK)
        rc = cxs_scraped_drop_boilerplate(&sc);
    if (rc == CXS_OK) {
        cxs_scraped_page_ids(&sc);
        rc = emit_all(&sc, err);
    } else {
        cxs_err_set(err, rc, "out of memory");
    }
    scrape_free(&sc);
    return rc;
}
