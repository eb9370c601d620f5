/*
 * layout.h - a word typed with the wrong keyboard layout, read on the
 * other one: Russian ЙЦУКЕН <-> US QWERTY, key for key ("rfcnjvbpfwbz" is
 * «кастомизация» typed on QWERTY, "ьфклуештп" is "marketing" typed on
 * ЙЦУКЕН).
 *
 * The table is the keyboard itself (each key's two letters), so it cannot
 * come from a library: ICU knows scripts, not keyboards. Keys that hold a
 * Russian letter on one layout and punctuation on the other (б/',', ю/'.',
 * ж/';', э/'\'', х/'[', ъ/']', ё/'`') are mapped too, so a swapped word
 * keeps them.
 *
 * Thread-safety: no state. Errors: appending returns the buffer's status.
 */
#ifndef CXS_LAYOUT_H
#define CXS_LAYOUT_H

#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"

/* Appends s[0..n) as the same keys give on the other layout, lower-case.
 * The direction follows the letters: Latin to Cyrillic, Cyrillic to
 * Latin. *swapped (may be NULL) is 0 and nothing is appended when s mixes
 * both scripts, has no letter, or holds a character no key of either
 * layout types (digits and '-' are the same on both and stay). */
CXS_MUST_CHECK cxs_status cxs_layout_swap(const char *s, size_t n,
                                          cxs_buf *out, int *swapped);

#endif /* CXS_LAYOUT_H */
