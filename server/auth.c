#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define SDK_ALGORITHM "SDK-HMAC-SHA256"
/* The hash of an empty body: what a GET signs (HSS-API.md, step 4). */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct key {
    char *ak, *sk;
};

struct auth {
    struct key *keys;
    size_t nkeys;
    unsigned char (*tokens)[SHA256_DIGEST_LENGTH]; /* SHA-256 of each token */
    size_t ntokens;
};

struct auth *auth_new(void)
{
    return calloc(1, sizeof(struct auth));
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nkeys; i++) {
        OPENSSL_cleanse(a->keys[i].sk, strlen(a->keys[i].sk));
        free(a->keys[i].ak);
        free(a->keys[i].sk);
    }
    free(a->keys);
    free(a->tokens);
    free(a);
}

int auth_add_key(struct auth *a, const char *ak, const char *sk)
{
    struct key *v = realloc(a->keys, (a->nkeys + 1) * sizeof *v);
    if (!v)
        return -1;
    a->keys = v;
    char *k = strdup(ak), *s = strdup(sk);
    if (!k || !s) {
        free(k);
        free(s);
        return -1;
    }
    a->keys[a->nkeys++] = (struct key){k, s};
    return 0;
}

int auth_add_token(struct auth *a, const char *token)
{
    unsigned char(*v)[SHA256_DIGEST_LENGTH] = realloc(a->tokens, (a->ntokens + 1) * sizeof *v);
    if (!v)
        return -1;
    a->tokens = v;
    SHA256((const unsigned char *)token, strlen(token), a->tokens[a->ntokens++]);
    return 0;
}

/* ---- the files ---- */

/* Open path for reading only if it is a regular file that grants others nothing. */
static FILE *open_secret(const char *path, const char *what, char *why, size_t cap)
{
    FILE *f = fopen(path, "re");
    struct stat st;
    if (!f) {
        snprintf(why, cap, "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, cap, "%s %s: not a regular file", what, path);
    } else if (st.st_mode & S_IRWXO) {
        snprintf(why, cap, "%s %s: others may access it (mode %03o): chmod o= it", what, path,
                 (unsigned)(st.st_mode & 0777));
    } else {
        return f;
    }
    fclose(f);
    return NULL;
}

/* Split line into up to 3 words (spaces and tabs); returns how many. */
static int words(char *line, char *w[3])
{
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (n < 3)
            w[n] = tok;
        n++;
    }
    return n;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* Every line of a secrets file: `AK SK` (want 2) or `TOKEN` (want 1); # comments. */
static int load_lines(struct auth *a, const char *path, int want, char *why, size_t cap)
{
    const char *what = want == 2 ? "--credentials" : "--token-file";
    FILE *f = open_secret(path, what, why, cap);
    if (!f)
        return -1;
    char line[2 * AUTH_MAX_SECRET + 16];
    int rc = 0, lineno = 0;
    size_t count = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *w[3] = {0};
        bool whole = strchr(line, '\n') || feof(f);
        int n = line[strspn(line, " \t")] == '#' ? 0 : words(line, w);
        if (n == 0 && whole)
            continue;
        if (!whole || n != want || strlen(w[0]) > AUTH_MAX_SECRET ||
            (n == 2 && strlen(w[1]) > AUTH_MAX_SECRET) || !printable(w[0]) ||
            (n == 2 && !printable(w[1]))) {
            snprintf(why, cap, "%s %s line %d: expected %s", what, path, lineno,
                     want == 2 ? "'ACCESS_KEY SECRET_KEY'" : "one token");
            rc = -1;
        } else if (++count > AUTH_MAX_ENTRIES) {
            snprintf(why, cap, "%s %s: more than %d entries", what, path, AUTH_MAX_ENTRIES);
            rc = -1;
        } else if ((want == 2 ? auth_add_key(a, w[0], w[1]) : auth_add_token(a, w[0])) != 0) {
            snprintf(why, cap, "out of memory");
            rc = -1;
        }
    }
    OPENSSL_cleanse(line, sizeof line);
    if (rc == 0 && count == 0) {
        snprintf(why, cap, "%s %s: no %s in it", what, path, want == 2 ? "key" : "token");
        rc = -1;
    }
    fclose(f);
    return rc;
}

int auth_load(struct auth **out, const char *credentials, const char *tokens, char *why, size_t cap)
{
    *out = NULL;
    if (!credentials && !tokens)
        return 0;
    struct auth *a = auth_new();
    if (!a) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    if ((credentials && load_lines(a, credentials, 2, why, cap) != 0) ||
        (tokens && load_lines(a, tokens, 1, why, cap) != 0)) {
        auth_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

/* ---- X-Auth-Token ---- */

static bool token_ok(const struct auth *a, const char *token)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), d);
    int hit = 0;
    for (size_t i = 0; i < a->ntokens; i++) /* no early exit: time does not say which */
        hit |= CRYPTO_memcmp(d, a->tokens[i], sizeof d) == 0;
    return hit;
}

/* ---- SDK-HMAC-SHA256 ---- */

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* "/a/b" -> "/a/b/", every segment percent-encoded again as received (step 1). */
static void canonical_uri(struct jbuf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && p[e] != '/')
            e++;
        pct_encode(b, p + i, e - i);
        if (e < n)
            jb_put(b, "/", 1);
        i = e + 1;
    }
    if (n == 0 || p[n - 1] != '/')
        jb_put(b, "/", 1);
}

static int cmp_param(const void *x, const void *y)
{
    const struct q_param *a = *(const struct q_param *const *)x,
                         *b = *(const struct q_param *const *)y;
    int c = strcmp(a->key, b->key);
    return c ? c : strcmp(a->value, b->value);
}

/* Pairs sorted by key, then value, each encoded, joined with '&' (step 2). */
static void canonical_query(struct jbuf *b, const struct target *t)
{
    const struct q_param *v[Q_MAX_PARAMS];
    for (size_t i = 0; i < t->nparam; i++)
        v[i] = &t->param[i];
    qsort(v, t->nparam, sizeof *v, cmp_param);
    for (size_t i = 0; i < t->nparam; i++) {
        if (i)
            jb_put(b, "&", 1);
        pct_encode(b, v[i]->key, strlen(v[i]->key));
        jb_put(b, "=", 1);
        pct_encode(b, v[i]->value, strlen(v[i]->value));
    }
}

/* `name:value\n` for each signed header, in SignedHeaders' order (step 3); -1 if one is
 * missing from the request. */
static int canonical_headers(struct jbuf *b, const struct srv_request *rq, const char *signed_h)
{
    for (const char *p = signed_h; *p;) {
        size_t n = strcspn(p, ";");
        char name[128];
        if (n == 0 || n >= sizeof name)
            return -1;
        memcpy(name, p, n);
        name[n] = '\0';
        int count;
        const char *v = req_header(rq, name, &count);
        if (!v)
            return -1;
        jb_printf(b, "%s:%s\n", name, v);
        p += n + (p[n] == ';');
    }
    return 0;
}

int auth_string_to_sign(const struct srv_request *rq, const struct target *t,
                        const char *signed_headers, const char *sdk_date, struct jbuf *out)
{
    struct jbuf c = {0};
    int count;
    const char *body_hash = req_header(rq, "X-Sdk-Content-Sha256", &count);
    jb_printf(&c, "%s\n", rq->method);
    canonical_uri(&c, t->raw_path, t->raw_path_len);
    jb_put(&c, "\n", 1);
    canonical_query(&c, t);
    jb_put(&c, "\n", 1);
    int rc = canonical_headers(&c, rq, signed_headers);
    jb_printf(&c, "\n%s\n%s", signed_headers, body_hash ? body_hash : EMPTY_SHA256);
    if (rc == 0 && !c.oom) {
        unsigned char d[SHA256_DIGEST_LENGTH];
        char dh[2 * SHA256_DIGEST_LENGTH + 1];
        SHA256((const unsigned char *)c.p, c.len, d);
        hex(d, sizeof d, dh);
        jb_printf(out, SDK_ALGORITHM "\n%s\n%s", sdk_date, dh);
    }
    rc = rc ? rc : c.oom || out->oom ? -1 : 0;
    jb_free(&c);
    return rc;
}

/* The Authorization header's three fields. */
struct sdk_auth {
    char access[AUTH_MAX_SECRET + 1];
    char signed_headers[1024];
    char signature[2 * SHA256_DIGEST_LENGTH + 1];
};

/* `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=HEX`; -1 if not that. */
static int parse_authorization(const char *h, struct sdk_auth *out)
{
    size_t alg = strlen(SDK_ALGORITHM);
    if (strncmp(h, SDK_ALGORITHM, alg) != 0 || h[alg] != ' ')
        return -1;
    memset(out, 0, sizeof *out);
    static const struct {
        const char *name;
        size_t off, cap;
    } fields[] = {
        {"Access=", offsetof(struct sdk_auth, access), AUTH_MAX_SECRET + 1},
        {"SignedHeaders=", offsetof(struct sdk_auth, signed_headers), 1024},
        {"Signature=", offsetof(struct sdk_auth, signature), 2 * SHA256_DIGEST_LENGTH + 1},
    };
    const char *p = h + alg;
    for (size_t i = 0; i < 3; i++) {
        p += strspn(p, " ");
        size_t nl = strlen(fields[i].name), n;
        if (strncmp(p, fields[i].name, nl) != 0)
            return -1;
        p += nl;
        n = strcspn(p, ", ");
        if (n == 0 || n >= fields[i].cap)
            return -1;
        memcpy((char *)out + fields[i].off, p, n);
        p += n;
        if (i < 2 && *p++ != ',')
            return -1;
    }
    return p[strspn(p, " ")] == '\0' ? 0 : -1;
}

/* X-Sdk-Date `YYYYMMDDTHHMMSSZ` (UTC) as seconds since the epoch; -1 if malformed. */
static int64_t parse_sdk_date(const char *s)
{
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || strspn(s, "0123456789") != 8 ||
        strspn(s + 9, "0123456789") != 6)
        return -1;
    struct tm tm = {0};
    int v[6] = {0};
    const int at[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < len[i]; k++)
            v[i] = v[i] * 10 + (s[at[i] + k] - '0');
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return -1;
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    return (int64_t)timegm(&tm);
}

/* Does ";"-separated list have name as an element? */
static bool has_element(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ";");
        if (k == n && strncmp(p, name, n) == 0)
            return true;
        p += k + (p[k] == ';');
    }
    return false;
}

static bool fail(char *why, size_t cap, const char *msg)
{
    snprintf(why, cap, "%s", msg);
    return false;
}

static bool signature_ok(const struct auth *a, const struct srv_request *rq, const struct target *t,
                         const char *header, char *why, size_t cap)
{
    struct sdk_auth sa;
    int count;
    if (parse_authorization(header, &sa) != 0)
        return fail(why, cap,
                    "Authorization: expected SDK-HMAC-SHA256 Access=..., "
                    "SignedHeaders=..., Signature=...");
    if (!has_element(sa.signed_headers, "host") || !has_element(sa.signed_headers, "x-sdk-date"))
        return fail(why, cap, "SignedHeaders must include host and x-sdk-date");
    const char *date = req_header(rq, "X-Sdk-Date", &count);
    int64_t when = date && count == 1 ? parse_sdk_date(date) : -1;
    if (when < 0)
        return fail(why, cap, "X-Sdk-Date: expected one YYYYMMDDTHHMMSSZ");
    if (when < rq->now - AUTH_WINDOW_SECONDS || when > rq->now + AUTH_WINDOW_SECONDS)
        return fail(why, cap, "X-Sdk-Date is more than 15 minutes from the server's clock");
    const struct key *k = NULL;
    for (size_t i = 0; i < a->nkeys && !k; i++)
        if (strcmp(a->keys[i].ak, sa.access) == 0)
            k = &a->keys[i];
    if (!k)
        return fail(why, cap, "unknown access key");
    struct jbuf sts = {0};
    if (auth_string_to_sign(rq, t, sa.signed_headers, date, &sts) != 0) {
        jb_free(&sts);
        return fail(why, cap, "a header named in SignedHeaders is missing");
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char want[2 * EVP_MAX_MD_SIZE + 1];
    HMAC(EVP_sha256(), k->sk, (int)strlen(k->sk), (const unsigned char *)sts.p, sts.len, mac,
         &maclen);
    jb_free(&sts);
    hex(mac, maclen, want);
    if (strlen(sa.signature) != 2 * (size_t)maclen ||
        CRYPTO_memcmp(want, sa.signature, 2 * (size_t)maclen) != 0)
        return fail(why, cap, "the signature does not match");
    return true;
}

bool auth_check(const struct auth *a, const struct srv_request *rq, const struct target *t,
                char *why, size_t cap)
{
    int count;
    const char *authz = req_header(rq, "Authorization", &count);
    if (authz && strncmp(authz, SDK_ALGORITHM " ", strlen(SDK_ALGORITHM) + 1) == 0 && a->nkeys)
        return count == 1 ? signature_ok(a, rq, t, authz, why, cap)
                          : fail(why, cap, "more than one Authorization header");
    const char *token = req_header(rq, "X-Auth-Token", &count);
    if (token && a->ntokens)
        return count == 1 && token_ok(a, token) ? true : fail(why, cap, "the token is not valid");
    return fail(why, cap,
                a->nkeys && a->ntokens ? "no SDK-HMAC-SHA256 signature or X-Auth-Token"
                : a->nkeys             ? "no SDK-HMAC-SHA256 signature"
                                       : "no X-Auth-Token");
}
