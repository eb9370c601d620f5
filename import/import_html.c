/*
 * import_html.c - markup to text for the live readers (t.me/s pages and
 * feed items): see live_internal.h.
 *
 * Facts that shaped it:
 * - Text nodes of saved or generated HTML carry indentation and newlines
 *   that a browser collapses; Telegram marks its line breaks with <br/>
 *   only. So runs of white space (U+00A0 included) become one space, and
 *   line breaks come from <br> and block elements, at most one empty line
 *   in a row.
 * - Feed content is untrusted HTML of any shape (Substack, WordPress,
 *   Blogger's inline styles): libxml2's HTML parser recovers from anything,
 *   never fetches (HTML_PARSE_NONET), and scripts, styles, forms and
 *   embedded SVG are not text.
 * - Emoji reach us as <img class="emoji" alt="😀"> (WordPress) or as a
 *   character inside <i class="emoji"><b>..</b></i> (Telegram): the first
 *   gives its alt text, the second its text.
 */
#include <libxml/HTMLparser.h>
#include <string.h>
#include <strings.h>

#include "live_internal.h"

bool cxs_html_is(xmlNode *n, const char *name) {
    return n && n->type == XML_ELEMENT_NODE &&
           strcasecmp((const char *)n->name, name) == 0;
}

bool cxs_html_has_class(xmlNode *n, const char *cls) {
    if (!n || n->type != XML_ELEMENT_NODE)
        return false;
    xmlChar *c = xmlGetProp(n, (const xmlChar *)"class");
    if (!c)
        return false;
    bool found = false;
    size_t len = strlen(cls);
    for (const char *p = (const char *)c; *p && !found;) {
        p += strspn(p, " \t\r\n");
        size_t w = strcspn(p, " \t\r\n");
        found = w == len && strncmp(p, cls, len) == 0;
        p += w;
    }
    xmlFree(c);
    return found;
}

xmlNode *cxs_html_find(xmlNode *n, const char *cls, bool (*stop)(xmlNode *n)) {
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || (stop && stop(c)))
            continue;
        if (cxs_html_has_class(c, cls))
            return c;
        xmlNode *d = cxs_html_find(c, cls, stop);
        if (d)
            return d;
    }
    return NULL;
}

char *cxs_html_attr(xmlNode *n, const char *name) {
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    if (!v)
        return NULL;
    char *out = cxs_strndup((const char *)v, strlen((const char *)v));
    xmlFree(v);
    return out;
}

/* ------------------------------------------------------------ the text */

static void put_breaks(cxs_html_text *h) {
    if (h->b->len == 0) {
        h->pend_nl = h->pend_space = 0;
        return;
    }
    if (h->pend_nl) {
        /* A break ends the line: drop the spaces before it. */
        while (h->b->len && h->b->data[h->b->len - 1] == ' ')
            h->b->data[--h->b->len] = '\0';
        for (int i = 0; i < h->pend_nl; i++)
            cxs_buf_appendc(h->b, '\n');
    } else if (h->pend_space && h->b->data[h->b->len - 1] != '\n') {
        cxs_buf_appendc(h->b, ' ');
    }
    h->pend_nl = h->pend_space = 0;
}

static void put_text(cxs_html_text *h, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t sp = 0;
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
            s[i] == '\f')
            sp = 1;
        else if (i + 1 < n && (unsigned char)s[i] == 0xC2 &&
                 (unsigned char)s[i + 1] == 0xA0)
            sp = 2;
        if (sp) {
            h->pend_space = 1;
            i += sp;
            continue;
        }
        size_t w = i;
        while (w < n && s[w] != ' ' && s[w] != '\t' && s[w] != '\n' &&
               s[w] != '\r' && s[w] != '\f' &&
               !((unsigned char)s[w] == 0xC2 && w + 1 < n &&
                 (unsigned char)s[w + 1] == 0xA0))
            w++;
        put_breaks(h);
        cxs_buf_append(h->b, s + i, w - i);
        i = w;
    }
}

static void want_break(cxs_html_text *h, int k) {
    if (k > h->pend_nl)
        h->pend_nl = k;
}

/* Line breaks an element stands for: 2 around paragraphs and headings,
 * 1 around other blocks, 0 for inline elements. */
static int block_breaks(xmlNode *n) {
    static const char *const para[] = {"p",  "h1", "h2",         "h3",  "h4",
                                       "h5", "h6", "blockquote", "pre", "table",
                                       "ul", "ol", "figure",     "hr"};
    static const char *const line[] = {
        "div",    "li", "tr", "section",    "article", "header",
        "footer", "dt", "dd", "figcaption", "aside",   "main"};
    for (size_t i = 0; i < sizeof para / sizeof *para; i++)
        if (cxs_html_is(n, para[i]))
            return 2;
    for (size_t i = 0; i < sizeof line / sizeof *line; i++)
        if (cxs_html_is(n, line[i]))
            return 1;
    return 0;
}

static bool not_text(xmlNode *n) {
    static const char *const skip[] = {
        "script", "style", "head",   "noscript", "svg",     "template",
        "iframe", "form",  "button", "select",   "textarea"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (cxs_html_is(n, skip[i]))
            return true;
    return false;
}

static void keep_link(cxs_html_text *h, xmlNode *a, size_t start) {
    xmlChar *href = xmlGetProp(a, (const xmlChar *)"href");
    const char *u = (const char *)href;
    if (u && strncmp(u, "http", 4) == 0) {
        size_t n = h->b->len - start, un = strlen(u);
        if (n != un || memcmp(h->b->data + start, u, n) != 0)
            json_array_append_new(h->links, json_string(u));
    }
    xmlFree(href);
}

static void emoji_alt(cxs_html_text *h, xmlNode *img) {
    if (!cxs_html_has_class(img, "emoji") &&
        !cxs_html_has_class(img, "wp-smiley"))
        return;
    xmlChar *alt = xmlGetProp(img, (const xmlChar *)"alt");
    if (alt)
        put_text(h, (const char *)alt, strlen((const char *)alt));
    xmlFree(alt);
}

static void walk_element(cxs_html_text *h, xmlNode *c) {
    if (not_text(c) || (h->skip && h->skip(c)))
        return;
    if (cxs_html_is(c, "br")) {
        /* <br><br> is an empty line: breaks add up, blocks do not. */
        if (h->pend_nl < 2)
            h->pend_nl++;
        h->pend_space = 0;
        return;
    }
    if (cxs_html_is(c, "img")) {
        emoji_alt(h, c);
        return;
    }
    int k = block_breaks(c);
    want_break(h, k);
    size_t start = h->b->len;
    cxs_html_walk(h, c);
    if (h->links && cxs_html_is(c, "a"))
        keep_link(h, c, start);
    want_break(h, k);
}

void cxs_html_walk(cxs_html_text *h, xmlNode *n) {
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                put_text(h, (const char *)c->content,
                         strlen((const char *)c->content));
        } else if (c->type == XML_ELEMENT_NODE) {
            walk_element(h, c);
        }
    }
}

void cxs_html_fragment(cxs_html_text *h, const char *s, size_t n) {
    if (n == 0 || n > (size_t)0x7fffffff)
        return;
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
               HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED;
    htmlDocPtr doc = htmlReadMemory(s, (int)n, NULL, "UTF-8", opts);
    if (!doc)
        return;
    cxs_html_walk(h, (xmlNode *)doc);
    xmlFreeDoc(doc);
}

char *cxs_html_text_of(xmlNode *n, bool (*skip)(xmlNode *n)) {
    cxs_buf b;
    cxs_buf_init(&b, CXS_IMPORT_MAX_TEXT);
    cxs_html_text h = {&b, NULL, 0, 0, skip};
    cxs_html_walk(&h, n);
    size_t len = b.len;
    const char *t = cxs_utf8_trim(b.data ? b.data : "", &len);
    char *out = len ? cxs_strndup(t, len) : NULL;
    cxs_buf_release(&b);
    return out;
}
