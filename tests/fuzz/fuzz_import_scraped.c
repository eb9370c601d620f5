/*
 * fuzz_import_scraped.c - libFuzzer target for the importer of scraped
 * channel pages. Boilerplate is detected across the pages of one run, so
 * the input is split at form feeds ('\f') into up to four pages written
 * to one folder, which is imported with the format forced (see
 * fuzz_import.h for the invariants).
 */
#include <dirent.h>
#include <sys/stat.h>

#include "fuzz_import.h"

#define MAX_PAGES 4

static void clear_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[256];
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/pages", fuzz_tmpdir());
    mkdir(dir, 0700);
    clear_dir(dir);
    size_t start = 0;
    for (int page = 1; page <= MAX_PAGES && start <= size; page++) {
        const uint8_t *ff = page < MAX_PAGES && start < size
                                ? memchr(data + start, '\f', size - start)
                                : NULL;
        size_t end = ff ? (size_t)(ff - data) : size;
        snprintf(path, sizeof path, "%s/page%d.txt", dir, page);
        fuzz_write_file(path, data + start, end - start);
        start = end + 1;
    }
    fuzz_import(dir, CXS_FMT_SCRAPED);
    return 0;
}
