/*
 * The server's code without HTTP: HSS-API.md's signature test vector and its variants,
 * tokens, the request target's strict decoding, refs, and srv_handle's error bodies.
 * Expected values: the test vector as HSS-API.md gives it (computed with the SDK); the rest
 * written by hand below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "handler.h"
#include "query.h"
#include "ref.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

#define AK "AKDEMO0000000000EXAMPLE"
#define SK "skdemo0000000000000000000000000000000EXAMPLE"
#define VECTOR_SIG "29a29bd2d047986689f8a488f72d4bbd974d5b827a039545523c7dd2159e67ed"
#define VECTOR_URI                                                                                 \
    "/v5/0123456789abcdef0123456789abcdef/image/img001/files-statistics?image_type=private_image"
#define VECTOR_NOW 1796227725 /* 2026-12-02T16:08:45Z, the vector's X-Sdk-Date */

struct vec {
    struct srv_header h[8];
    char authz[512];
    struct srv_request rq;
};

static void vector(struct vec *v, const char *uri, const char *sig, const char *signed_h,
                   const char *access, int64_t now)
{
    snprintf(v->authz, sizeof v->authz, "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s",
             access, signed_h, sig);
    v->h[0] = (struct srv_header){"Content-Type", "application/json"};
    v->h[1] = (struct srv_header){"X-Project-Id", "0123456789abcdef0123456789abcdef"};
    v->h[2] = (struct srv_header){"X-Sdk-Date", "20261202T160845Z"};
    v->h[3] = (struct srv_header){"Host", "127.0.0.1:18932"};
    v->h[4] = (struct srv_header){"Authorization", v->authz};
    v->rq = (struct srv_request){"GET", uri, strlen(uri), v->h, 5, 0, now};
}

static bool verify(const struct auth *a, struct vec *v, char *why, size_t cap)
{
    struct target t;
    char w[256];
    bool ok = target_parse(v->rq.uri, v->rq.uri_len, &t, w, sizeof w) == 0 &&
              auth_check(a, &v->rq, &t, why, cap);
    target_free(&t);
    return ok;
}

static void test_vector(void)
{
    struct auth *a = auth_new();
    auth_add_key(a, AK, SK);
    auth_add_token(a, "tok-123");
    struct vec v;
    char why[256] = "";
    const char *sh = "content-type;host;x-project-id;x-sdk-date";
    vector(&v, VECTOR_URI, VECTOR_SIG, sh, AK, VECTOR_NOW);
    CHECK(verify(a, &v, why, sizeof why), "the HSS-API.md test vector: %s", why);
    vector(&v, VECTOR_URI, VECTOR_SIG, sh, AK, VECTOR_NOW + 14 * 60);
    CHECK(verify(a, &v, why, sizeof why), "14 minutes later: %s", why);
    vector(&v, VECTOR_URI, VECTOR_SIG, sh, AK, VECTOR_NOW + 16 * 60);
    CHECK(!verify(a, &v, why, sizeof why) && strstr(why, "15 minutes"), "16 min later: %s", why);
    vector(&v, VECTOR_URI, VECTOR_SIG, sh, AK, VECTOR_NOW - 16 * 60);
    CHECK(!verify(a, &v, why, sizeof why), "16 minutes early");
    char bad[] = VECTOR_SIG;
    bad[10] = bad[10] == '0' ? '1' : '0';
    vector(&v, VECTOR_URI, bad, sh, AK, VECTOR_NOW);
    CHECK(!verify(a, &v, why, sizeof why) && strstr(why, "does not match"), "one hex digit: %s",
          why);
    vector(&v, VECTOR_URI "&limit=1", VECTOR_SIG, sh, AK, VECTOR_NOW);
    CHECK(!verify(a, &v, why, sizeof why), "another query");
    vector(&v,
           "/v5/0123456789abcdef0123456789abcdef/image/img002/"
           "files-statistics?image_type=private_image",
           VECTOR_SIG, sh, AK, VECTOR_NOW);
    CHECK(!verify(a, &v, why, sizeof why), "another path");
    vector(&v, VECTOR_URI, VECTOR_SIG, sh, "AKOTHER", VECTOR_NOW);
    CHECK(!verify(a, &v, why, sizeof why) && strstr(why, "unknown access key"), "%s", why);
    vector(&v, VECTOR_URI, VECTOR_SIG, "content-type;x-project-id;x-sdk-date", AK, VECTOR_NOW);
    CHECK(!verify(a, &v, why, sizeof why) && strstr(why, "host"), "no host: %s", why);
    vector(&v, VECTOR_URI, VECTOR_SIG, sh, AK, VECTOR_NOW);
    v.h[3].value = "127.0.0.1:18933";
    CHECK(!verify(a, &v, why, sizeof why), "another host");
    vector(&v, VECTOR_URI, VECTOR_SIG, sh, AK, VECTOR_NOW);
    v.h[4].value = "SDK-HMAC-SHA256 Access=" AK ", Signature=" VECTOR_SIG;
    CHECK(!verify(a, &v, why, sizeof why), "no SignedHeaders");
    /* tokens: the right one, a wrong one, a prefix of the right one */
    struct srv_header th[1] = {{"X-Auth-Token", "tok-123"}};
    struct srv_request rq = {"GET", "/x", 2, th, 1, 0, VECTOR_NOW};
    struct target t;
    target_parse("/x", 2, &t, why, sizeof why);
    CHECK(auth_check(a, &rq, &t, why, sizeof why), "token: %s", why);
    th[0].value = "tok-124";
    CHECK(!auth_check(a, &rq, &t, why, sizeof why), "wrong token");
    th[0].value = "tok-12";
    CHECK(!auth_check(a, &rq, &t, why, sizeof why), "token prefix");
    rq.nheaders = 0;
    CHECK(!auth_check(a, &rq, &t, why, sizeof why), "nothing");
    target_free(&t);
    auth_free(a);
}

static void test_target(void)
{
    static const struct {
        const char *uri;
        int ok;
    } rows[] = {
        {"/v5/p/image/x/files?a=1&b=%41", 1},
        {"/v5/p/image/sha256:ab/files", 1},
        {"/v5/p/image/a%2Fb/files", 0},      /* encoded slash */
        {"/v5/p/image/../files", 0},         /* dot segment */
        {"/v5/p/image/%2e%2e/files", 0},     /* encoded dot segment */
        {"/v5/p/image/x/files?a=%zz", 0},    /* bad escape */
        {"/v5/p/image/x/files?a=%4", 0},     /* short escape */
        {"/v5/p/image/x/files?a=%00", 0},    /* NUL */
        {"/v5/p/image/x/files?a=%ff%fe", 0}, /* not UTF-8 */
        {"/v5/p/image/%c3%a9/files", 1},     /* UTF-8 */
        {"v5/p", 0},                         /* no leading slash */
        {"/a?%", 0},
        {"/a?=", 1},
        {"/a?&&x", 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct target t;
        char why[256] = "";
        int rc = target_parse(rows[i].uri, strlen(rows[i].uri), &t, why, sizeof why);
        CHECK((rc == 0) == rows[i].ok, "%s: rc %d (%s)", rows[i].uri, rc, why);
        CHECK(rc == 0 || (*why && !strchr(why, '\n')), "%s: reason '%s'", rows[i].uri, why);
        target_free(&t);
    }
    struct target t;
    char why[256];
    int count;
    target_parse("/a?x=1&y=%20&x=2", 16, &t, why, sizeof why);
    const char *v = target_param(&t, "x", &count);
    CHECK(v && strcmp(v, "1") == 0 && count == 2, "x twice");
    v = target_param(&t, "y", &count);
    CHECK(v && strcmp(v, " ") == 0 && count == 1, "y decoded");
    target_free(&t);
}

static void test_refs(void)
{
    static const struct {
        const char *ref, *repo, *tag;
    } rows[] = {
        {"docker.io/library/nginx:1.25", "docker.io/library/nginx", "1.25"},
        {"localhost:5000/ns/app:1", "localhost:5000/ns/app", "1"},
        {"ns/app", "ns/app", "latest"},
        {"ns/app@sha256:abcd", "ns/app", "latest"},
        {"1.0", "", "1.0"}, /* an OCI ref-name annotation that is only a tag */
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char repo[256], tag[64];
        ref_split(rows[i].ref, repo, sizeof repo, tag, sizeof tag);
        CHECK(strcmp(repo, rows[i].repo) == 0 && strcmp(tag, rows[i].tag) == 0, "%s: %s %s",
              rows[i].ref, repo, tag);
    }
}

/* srv_handle on an empty catalog: the error body of each kind of bad request. */
static void test_errors(void)
{
    struct srv s = {0};
    char why[128], dir[] = "/tmp/server-unit-XXXXXX", db[64];
    pthread_rwlock_init(&s.store_lock, NULL);
    if (!mkdtemp(dir))
        abort();
    snprintf(db, sizeof db, "%s/catalog.db", dir);
    CHECK(store_open(&s.store, db, why, sizeof why) == 0, "store_open: %s", why);
    static const struct {
        const char *method, *uri;
        unsigned status;
        const char *code;
    } rows[] = {
        {"GET", "/healthz", 200, NULL},
        {"GET", "/nope", 404, "APIGW.0101"},
        {"PUT", "/healthz", 405, "HSS.0405"},
        {"GET", "/v5/p/image/abcdefabcdef/files-statistics?image_type=cicd", 404, "HSS.0404"},
        {"GET", "/v5/p/image/abcdefabcdef/files-statistics", 400, "HSS.0001"},
        {"GET", "/v5/p/image/a%2fb/files-statistics?image_type=cicd", 400, "HSS.0001"},
        {"GET", "/v5/p/image/local-repositories?limit=5", 400, "HSS.0001"},
        {"GET", "/v5/p/image/local-repositories", 200, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct srv_request rq = {rows[i].method, rows[i].uri, strlen(rows[i].uri), NULL, 0, 0, 0};
        struct srv_reply rp = {0};
        srv_handle(&s, &rq, &rp);
        CHECK(rp.status == rows[i].status, "%s %s: %u", rows[i].method, rows[i].uri, rp.status);
        if (rows[i].code)
            CHECK(rp.body.p && strstr(rp.body.p, rows[i].code) &&
                      strncmp(rp.body.p, "{\"error_code\": \"", 16) == 0,
                  "%s: %s", rows[i].uri, rp.body.p);
        jb_free(&rp.body);
    }
    store_close(s.store);
    pthread_rwlock_destroy(&s.store_lock);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

int main(void)
{
    test_vector();
    test_target();
    test_refs();
    test_errors();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
