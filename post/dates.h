/*
 * dates.h - the few date operations an index of posts needs.
 *
 * Posts carry ISO 8601 dates with any offset ("2024-03-05T10:15:00+03:00",
 * "2024-03-05", "2024-03-05 10:15:00Z"); the index stores them as UTC
 * "YYYYMMDDhhmmss" strings, which sort and compare as text, so date
 * ranges are plain value ranges. Pure functions, thread-safe.
 */
#ifndef CXS_DATES_H
#define CXS_DATES_H

#include <stdbool.h>
#include <time.h>

#include "cxs_err.h"

/* Parses an ISO 8601 date or date-time (offset optional, UTC assumed) into
 * out[15] "YYYYMMDDhhmmss" (UTC) and *t (unix seconds; t may be NULL).
 * A predicate: true when s is such a date (out and *t are set), false
 * when it is not (they are left alone). */
CXS_MUST_CHECK bool cxs_date_parse(const char *s, char out[15], time_t *t);

/* Turns a partial date used as a range bound ("2024", "2024-03",
 * "2024-03-05", or a full date-time) into out[15]: the first second of
 * that period when upper == 0, its last second when upper == 1.
 * A predicate: true when s is such a date (out is set), false otherwise. */
CXS_MUST_CHECK bool cxs_date_bound(const char *s, bool upper, char out[15]);

/* Formats unix time t as "YYYY-MM-DDThh:mm:ssZ" into out[21]. */
void cxs_date_format_utc(time_t t, char out[21]);

#endif /* CXS_DATES_H */
