/*
 * ratelimit.c - an optional per-address token bucket (rate_limit,
 * rate_burst in the config).
 *
 * Facts that shaped it: it must cost nothing when off and little when on,
 * and must not grow with the number of client addresses an attacker can
 * make up; so it is a fixed, direct-mapped table where a colliding address
 * simply takes the slot over (at worst an address gets a fresh bucket).
 * One mutex: the critical section is a few arithmetic operations.
 */
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define RL_SLOTS 4096
#define RL_ADDR 48

typedef struct rl_slot {
    char addr[RL_ADDR];
    double tokens;
    double last;
} rl_slot;

struct cxs_ratelimit {
    pthread_mutex_t mu;
    rl_slot slots[RL_SLOTS];
};

cxs_status cxs_ratelimit_new(cxs_ratelimit **out, cxs_err *err) {
    cxs_ratelimit *rl = calloc(1, sizeof *rl);
    *out = rl;
    if (!rl)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&rl->mu, NULL);
    return CXS_OK;
}

void cxs_ratelimit_free(cxs_ratelimit *rl) {
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static size_t hash_addr(const char *s) {
    size_t h = 1469598103934665603ull & (size_t)-1;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * (size_t)1099511628211ull;
    return h % RL_SLOTS;
}

bool cxs_ratelimit_allow(cxs_ratelimit *rl, const char *addr, double rate,
                        unsigned burst, double now) {
    if (rate <= 0 || !rl)
        return true;
    rl_slot *sl = &rl->slots[hash_addr(addr)];
    int ok;
    pthread_mutex_lock(&rl->mu);
    if (strncmp(sl->addr, addr, RL_ADDR - 1) != 0) {
        strncpy(sl->addr, addr, RL_ADDR - 1);
        sl->addr[RL_ADDR - 1] = '\0';
        sl->tokens = burst;
        sl->last = now;
    }
    sl->tokens += (now - sl->last) * rate;
    if (sl->tokens > burst)
        sl->tokens = burst;
    sl->last = now;
    ok = sl->tokens >= 1.0;
    if (ok)
        sl->tokens -= 1.0;
    pthread_mutex_unlock(&rl->mu);
    return ok;
}
