/*
 * langdetect.cc - the one C++ file of stemmers/: CLD2 (libcld2-dev) has
 * only a C++ API, so this file wraps one call of it behind a C function.
 *
 * Facts that shaped it: ExtDetectLanguageSummary returns UNKNOWN for text
 * it cannot judge (short or gibberish), unlike DetectLanguage which says
 * ENGLISH; a Russian post full of English terms comes back as
 * [ru 72%, en 23%], so the first of our languages in the top three wins.
 * No exception may cross into C: everything is caught.
 */
#include <cstdio> // compact_lang_det.h uses FILE without including it

#include <cld2/public/compact_lang_det.h>

#include "langdetect.h"

namespace {

int from_cld2(CLD2::Language l) {
    switch (l) {
    case CLD2::RUSSIAN: return 1; // CXS_LANG_RU
    case CLD2::ITALIAN: return 2; // CXS_LANG_IT
    case CLD2::ENGLISH: return 3; // CXS_LANG_EN
    default: return 0;
    }
}

} // namespace

extern "C" int cxs_stemmers_cld2_detect(const char *utf8, int len) {
    try {
        if (!utf8 || len <= 0)
            return 0;
        CLD2::Language top3[3];
        int pct3[3];
        int text_bytes = 0;
        bool reliable = false;
        CLD2::ExtDetectLanguageSummary(utf8, len, true, top3, pct3, &text_bytes,
                                       &reliable);
        for (int i = 0; i < 3; i++) {
            int l = from_cld2(top3[i]);
            if (l && pct3[i] >= 20)
                return l;
        }
        return 0;
    } catch (...) {
        return 0;
    }
}
