/* dates.c - see dates.h. Hand-rolled on purpose: strptime does not parse
 * offsets portably and timegm is all the calendar arithmetic needed. */
#include "dates.h"

#include <ctype.h>
#include <string.h>

/* Reads exactly n digits at *p into *v; advances *p. */
static int digits(const char **p, int n, int *v) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

static int days_in_month(int y, int m) {
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* Parses [YYYY[-MM[-DD[(T| )hh:mm[:ss][.frac][Z|±hh[:]mm]]]]]; *parts
 * tells how many of year, month, day were given. */
static int parse_fields(const char *s, struct tm *tm, int *parts,
                        long *offset) {
    const char *p = s;
    int y, mo = 1, d = 1, h = 0, mi = 0, se = 0;
    *offset = 0;
    *parts = 1;
    if (digits(&p, 4, &y) < 0)
        return -1;
    if (*p == '-') {
        p++;
        if (digits(&p, 2, &mo) < 0)
            return -1;
        *parts = 2;
        if (*p == '-') {
            p++;
            if (digits(&p, 2, &d) < 0)
                return -1;
            *parts = 3;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    if (*parts == 3 && (*p == 'T' || *p == ' ') && isdigit((unsigned char)p[1])) {
        p++;
        if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
            return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &se) < 0)
                return -1;
        }
        if (*p == '.')
            for (p++; isdigit((unsigned char)*p); p++)
                ;
        if (h > 23 || mi > 59 || se > 60)
            return -1;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&p, 2, &oh) < 0)
                return -1;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && digits(&p, 2, &om) < 0)
                return -1;
            *offset = sign * (oh * 3600L + om * 60L);
        }
    }
    if (*p != '\0')
        return -1;
    memset(tm, 0, sizeof *tm);
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = se;
    return 0;
}

static void compact(time_t t, char out[15]) {
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 15, "%Y%m%d%H%M%S", &tm) != 14)
        strcpy(out, "00000000000000");
}

bool cxs_date_parse(const char *s, char out[15], time_t *t) {
    struct tm tm;
    int parts;
    long offset;
    if (!s || parse_fields(s, &tm, &parts, &offset) < 0 || parts < 3)
        return false;
    time_t v = timegm(&tm) - offset;
    compact(v, out);
    if (t)
        *t = v;
    return true;
}

bool cxs_date_bound(const char *s, bool upper, char out[15]) {
    struct tm tm;
    int parts;
    long offset;
    if (!s || parse_fields(s, &tm, &parts, &offset) < 0)
        return false;
    if (upper && strlen(s) <= 10) {
        /* The last second of the named year, month or day. */
        if (parts == 1)
            tm.tm_mon = 11;
        if (parts <= 2)
            tm.tm_mday = days_in_month(tm.tm_year + 1900, tm.tm_mon + 1);
        tm.tm_hour = 23;
        tm.tm_min = 59;
        tm.tm_sec = 59;
    }
    compact(timegm(&tm) - offset, out);
    return true;
}

void cxs_date_format_utc(time_t t, char out[21]) {
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
        strcpy(out, "1970-01-01T00:00:00Z");
}
