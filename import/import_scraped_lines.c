/*
 * import_scraped_lines.c - line kinds of a scraped channel page: relative
 * times, reaction lines, post URLs, pinned notices, poll markers, page chrome
 * (see import_scraped.h for the steps and import_scraped.c for the rules).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_scraped.h"

bool cxs_scraped_eq_ci(const char *s, size_t n, const char *lit) {
    return n == strlen(lit) && strncasecmp(s, lit, n) == 0;
}

static bool starts_ci(const char *s, size_t n, const char *lit) {
    size_t l = strlen(lit);
    return n >= l && strncasecmp(s, lit, l) == 0;
}

static bool is_unit(const char *w, size_t n) {
    static const char *const units[] = {
        "second", "minute", "hour", "day",  "week",  "month", "year", "секунд",
        "минут",  "час",    "дн",   "день", "недел", "месяц", "год",  "лет"};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        size_t l = strlen(units[i]);
        if (n >= l && strncasecmp(w, units[i], l) == 0 && n <= l + 4)
            return true;
    }
    return false;
}

/* "3 weeks ago", "1 month, 3 weeks ago", "2 месяца назад", "just now". */
static bool is_time(const char *s, size_t n) {
    if (cxs_scraped_eq_ci(s, n, "just now") ||
        cxs_scraped_eq_ci(s, n, "yesterday"))
        return true;
    size_t tail;
    if (n > 4 && strncasecmp(s + n - 4, " ago", 4) == 0)
        tail = 4;
    else if (n > 11 && memcmp(s + n - 11, " назад", 11) == 0)
        tail = 11;
    else
        return false;
    size_t i = 0, end = n - tail, units = 0;
    while (i < end) {
        size_t j = i;
        if (s[i] >= '0' && s[i] <= '9') {
            while (j < end && s[j] >= '0' && s[j] <= '9')
                j++;
        } else if (starts_ci(s + i, end - i, "an ")) {
            j = i + 2;
        } else if (starts_ci(s + i, end - i, "a ")) {
            j = i + 1;
        } else {
            return false;
        }
        while (j < end && s[j] == ' ')
            j++;
        size_t w = j;
        while (w < end && s[w] != ' ' && s[w] != ',')
            w++;
        if (!is_unit(s + j, w - j))
            return false;
        units++;
        i = w;
        while (i < end && (s[i] == ',' || s[i] == ' '))
            i++;
    }
    return units > 0;
}

/* A run of non-word, non-digit, non-space code points (an emoji with its
 * modifiers) followed by a count ("12", "1.2K"), one or more times. */
bool cxs_scraped_reactions(const char *s, size_t n, json_t *out) {
    size_t i = 0, pairs = 0;
    while (i < n) {
        size_t e = i;
        while (e < n) {
            unsigned cp;
            size_t k = cxs_utf8_decode(s + e, n - e, &cp);
            if ((cp >= '0' && cp <= '9') || cp == ' ' || cp == '\t' ||
                (cxs_utf8_is_word(cp) && cp != 0x200D) || cp == 0xFFFD)
                break;
            e += k;
        }
        if (e == i || e >= n || s[e] < '0' || s[e] > '9')
            return false;
        size_t d = e;
        double v = 0;
        while (d < n && s[d] >= '0' && s[d] <= '9')
            v = v * 10 + (s[d++] - '0');
        if (d + 1 < n && (s[d] == '.' || s[d] == ',') && s[d + 1] >= '0' &&
            s[d + 1] <= '9' && d + 2 <= n) {
            double f = 0.1;
            for (d++; d < n && s[d] >= '0' && s[d] <= '9'; d++, f /= 10)
                v += (s[d] - '0') * f;
        }
        if (d < n && (s[d] == 'K' || s[d] == 'k'))
            v *= 1000, d++;
        else if (d < n && s[d] == 'M')
            v *= 1000000, d++;
        if (out) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(e - i), s + i);
            json_int_t old = json_integer_value(json_object_get(out, key));
            json_object_set_new(out, key, json_integer(old + (json_int_t)v));
        }
        pairs++;
        i = d;
    }
    return pairs > 0;
}

/* host/<slug>/<n> alone on a line (tgoop.com/cxlogic/485, https://t.me/..).
 * Fills slug and msgid when given. */
bool cxs_scraped_post_url(const char *s, size_t n, char *slug, size_t cap,
                          long *msgid) {
    if (starts_ci(s, n, "https://"))
        s += 8, n -= 8;
    else if (starts_ci(s, n, "http://"))
        s += 7, n -= 7;
    const char *a = memchr(s, '/', n);
    if (!a || !memchr(s, '.', (size_t)(a - s)) || memchr(s, ' ', n))
        return false;
    const char *b = memchr(a + 1, '/', n - (size_t)(a + 1 - s));
    if (!b || b - a - 1 < 3 || (slug && (size_t)(b - a - 1) >= cap))
        return false;
    for (const char *p = a + 1; p < b; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    const char *d = b + 1, *end = s + n;
    if (d == end)
        return false;
    long v = 0;
    for (; d < end; d++) {
        if (*d < '0' || *d > '9' || v > 100000000)
            return false;
        v = v * 10 + (*d - '0');
    }
    if (slug) {
        size_t l = (size_t)(b - a - 1);
        for (size_t i = 0; i < l; i++) {
            char c = a[1 + i];
            slug[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
        }
        slug[l] = '\0';
        *msgid = v;
    }
    return true;
}

/* "<title> pinned «...»": returns the title's length, or 0. */
size_t cxs_scraped_pinned_title(const char *s, size_t n) {
    static const char *const marks[] = {" pinned «", " pinned \"", " pinned “",
                                        " pinned a ", " pinned an "};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
        size_t l = strlen(marks[i]);
        for (size_t j = 1; j + l <= n; j++)
            if (memcmp(s + j, marks[i], l) == 0)
                return j;
    }
    return 0;
}

bool cxs_scraped_is_percent(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 0 || i > 3)
        return false;
    if (i < n && (s[i] == '.' || s[i] == ','))
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
    while (i < n && s[i] == ' ')
        i++;
    return i + 1 == n && s[i] == '%';
}

static enum kind classify_plain(const char *s, size_t n);

/* Pages put no-break spaces inside "1 month" and elsewhere: short lines
 * are classified with them turned into plain spaces. */
enum kind cxs_scraped_classify(const char *s, size_t n) {
    char tmp[256];
    if (n >= sizeof tmp || !memmem(s, n, "\xC2\xA0", 2))
        return classify_plain(s, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && (unsigned char)s[i] == 0xC2 &&
            (unsigned char)s[i + 1] == 0xA0) {
            tmp[m++] = ' ';
            i++;
        } else {
            tmp[m++] = s[i];
        }
    }
    return classify_plain(tmp, m);
}

static enum kind classify_plain(const char *s, size_t n) {
    static const char *const chrome[] = {
        "Please open Telegram to view this post",
        "Share with your friend now:",
        "View MORE",
        "Open in Telegram",
        "Description",
        "Advertising",
        "Date: |",
        "Last Update:",
        "Create:",
        "Join Channel",
        "Subscribe"};
    static const char *const polls[] = {"Anonymous Poll", "Public Poll",
                                        "Anonymous Quiz", "Quiz", "Poll"};
    if (n == 0)
        return K_BLANK;
    if (is_time(s, n))
        return K_TIME;
    if (starts_ci(s, n, "Last updated ") && is_time(s + 13, n - 13))
        return K_LASTUPD;
    if (cxs_scraped_eq_ci(s, n, "VIEW IN TELEGRAM"))
        return K_VIEW;
    if (cxs_scraped_eq_ci(s, n, "This media is not supported in your browser"))
        return K_MEDIA;
    if (cxs_scraped_eq_ci(s, n, "We recommend to visit"))
        return K_RECO;
    if (cxs_scraped_eq_ci(s, n, "Telegram News"))
        return K_FOOTER;
    for (size_t i = 0; i < sizeof chrome / sizeof *chrome; i++)
        if (cxs_scraped_eq_ci(s, n, chrome[i]))
            return i == 4 || i == 5 ? K_LABEL : K_CHROME;
    if (starts_ci(s, n, "Create: ") || starts_ci(s, n, "Last Update: "))
        return K_STAMP;
    for (size_t i = 0; i < sizeof polls / sizeof *polls; i++)
        if (cxs_scraped_eq_ci(s, n, polls[i]))
            return K_POLL;
    if (n > 3 && strncmp(s, "BY ", 3) == 0)
        return K_BY;
    if (cxs_scraped_post_url(s, n, NULL, 0, NULL))
        return K_URL;
    if (cxs_scraped_pinned_title(s, n))
        return K_PINNED;
    if (!memchr(s, ' ', n) && cxs_scraped_reactions(s, n, NULL))
        return K_REACT;
    return K_TEXT;
}

bool cxs_import_looks_scraped(const char *data, size_t len) {
    size_t pos = 0, score = 0, lines = 0;
    const char *l;
    size_t n;
    while (lines++ < 4000 && cxs_import_next_line(data, len, &pos, &l, &n)) {
        l = cxs_utf8_trim(l, &n);
        if (n == 0 || n > 200)
            continue;
        switch (cxs_scraped_classify(l, n)) {
        case K_TIME:
        case K_REACT:
        case K_VIEW:
        case K_LASTUPD:
        case K_RECO:
        case K_URL:
        case K_MEDIA:
        case K_FOOTER: score++; break;
        default: break;
        }
        if (score >= 3)
            return true;
    }
    return false;
}
