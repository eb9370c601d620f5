/*
 * fuzz_import_tgjson.c - libFuzzer target for the importer of Telegram Desktop
 * JSON exports (result.json: one chat, or the full-account export with
 * chats.list): the input is written to a file and imported with the format
 * forced (see fuzz_import.h for the invariants).
 */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[128];
    snprintf(path, sizeof path, "%s/input.json", fuzz_tmpdir());
    fuzz_write_file(path, data, size);
    fuzz_import(path, CXS_FMT_TG_JSON);
    return 0;
}
