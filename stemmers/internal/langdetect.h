/*
 * langdetect.h - the C face of the CLD2 boundary (langdetect.cc). CLD2 has
 * only a C++ API; this one function is all the C code sees of it.
 *
 * Thread-safety: CLD2 keeps no mutable state; safe from any thread.
 * Errors: none reported; any failure or exception gives "unknown".
 */
#ifndef CXS_LANGDETECT_H
#define CXS_LANGDETECT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Detects the language of utf8[0..len), which must be valid UTF-8 (the
 * analyzer sanitizes first). Returns a cxs_lang value: CXS_LANG_RU, _IT
 * or _EN when CLD2 finds one of them among its top three with a fair
 * share of the text, else CXS_LANG_UNKNOWN (0). Never throws. */
int cxs_stemmers_cld2_detect(const char *utf8, int len);

#ifdef __cplusplus
}
#endif

#endif /* CXS_LANGDETECT_H */
