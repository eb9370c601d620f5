/*
 * fuzz_import_jsonl.c - libFuzzer target for the importer of JSON Lines posts
 * (the schema of post.h): the input is written to a file and imported with the
 * format forced (see fuzz_import.h for the invariants).
 */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[128];
    snprintf(path, sizeof path, "%s/input.jsonl", fuzz_tmpdir());
    fuzz_write_file(path, data, size);
    fuzz_import(path, CXS_FMT_JSONL);
    return 0;
}
