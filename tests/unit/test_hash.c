/*
 * test_hash: the name tables' hash is keyed with a secret of the process (base/hash.h), so
 * names prepared to collide under the plain hash do not collide under it, and two runs key
 * differently.
 *
 * The colliding names are found here by brute force against XXH3 with the parent as its
 * seed (what the tables used before): 256 names whose hashes share their low 12 bits, one
 * bucket of a 4096-bucket table.  Under hash_name the same names must spread as random
 * names do.  Prints one line per failed check and "N passed, N failed".
 * usage: test_hash [--secret]   (--secret: print this process's secret and exit)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "hash.h"

#define BITS 12
#define NAMES 256

static int passed, failed;

static void check(const char *what, int cond, const char *detail)
{
    if (cond) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s: %s\n", what, detail);
    }
}

/* The run's own secret, from a second process running this program. */
static uint64_t other_secret(const char *self)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' --secret", self);
    FILE *p = popen(cmd, "r");
    uint64_t v = 0;
    if (!p || fscanf(p, "%" SCNu64, &v) != 1)
        v = 0;
    if (p)
        pclose(p);
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--secret") == 0) {
        printf("%" PRIu64 "\n", hash_secret());
        return 0;
    }
    const uint32_t parent = 1, mask = (1u << BITS) - 1;
    static char names[NAMES][24];
    int n = 0;
    for (uint64_t i = 0; n < NAMES; i++) { /* names in one bucket under the plain hash */
        char s[24];
        int len = snprintf(s, sizeof s, "f%" PRIu64, i);
        if (((uint32_t)XXH3_64bits_withSeed(s, (size_t)len, parent) & mask) == 0)
            memcpy(names[n++], s, sizeof s);
    }
    static int bucket[1u << BITS];
    int worst = 0;
    for (int i = 0; i < NAMES; i++) {
        uint32_t h = hash_name(parent, names[i], strlen(names[i])) & mask;
        if (++bucket[h] > worst)
            worst = bucket[h];
    }
    char d[128];
    /* 256 random keys into 4096 buckets: a bucket of 5 has a chance under 1e-4 */
    snprintf(d, sizeof d, "%d of %d prepared names share a bucket", worst, NAMES);
    check("prepared collisions spread under the keyed hash", worst <= 4, d);
    uint64_t mine = hash_secret(), theirs = other_secret(argv[0]);
    snprintf(d, sizeof d, "%" PRIu64 " and %" PRIu64, mine, theirs);
    check("a secret in each process, not the same twice", mine && theirs && mine != theirs, d);
    check("hash_key is keyed too", hash_key("a/b", 3) != XXH3_64bits("a/b", 3), "");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
