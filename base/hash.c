#include "hash.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

static _Atomic uint64_t secret; /* 0 until drawn: one relaxed load a hash after that */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void draw(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        /* no entropy yet (early boot): the clock and pid, still not known in advance */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec << 32 ^
            (uint64_t)getpid();
    }
    atomic_store(&secret, s ? s : 0x9E3779B97F4A7C15ull);
}

uint64_t hash_secret(void)
{
    uint64_t s = atomic_load_explicit(&secret, memory_order_relaxed);
    if (s)
        return s;
    pthread_once(&once, draw);
    return atomic_load(&secret);
}

uint32_t hash_name(uint32_t parent, const char *name, size_t len)
{
    return (uint32_t)XXH3_64bits_withSeed(name, len, hash_secret() ^ parent);
}

uint64_t hash_key(const char *p, size_t len)
{
    return XXH3_64bits_withSeed(p, len, hash_secret());
}
