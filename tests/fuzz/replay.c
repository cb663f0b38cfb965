/*
 * replay: a main() for the fuzz targets where libFuzzer is not used.
 *
 * usage: TARGET_replay PATH...   (files, or directories read recursively, in name order)
 *
 * Every input runs through LLVMFuzzerTestOneInput in a child process of its own,
 * so one crash does not hide the next, a leak is reported per input (under ASan,
 * LeakSanitizer runs when the child exits) and a hang is cut off after
 * REPLAY_TIMEOUT seconds (default 60).  Files whose names start with "." or
 * "README" are skipped; a missing directory is noted and skipped.
 * REPLAY_NOFORK=1 runs everything in this process (for a debugger).
 * Prints one line per failing input and "replayed N inputs, N failed"; exit 1 if any failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned ran, failed;
static unsigned timeout_s = 60;
static int nofork;

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void run_one(const char *path)
{
    size_t len;
    unsigned char *buf = slurp(path, &len);
    if (!buf) {
        printf("FAIL %s: cannot read: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    ran++;
    if (nofork) {
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        printf("FAIL %s: fork: %s\n", path, strerror(errno));
        failed++;
        free(buf);
        return;
    }
    if (pid == 0) {
        alarm(timeout_s);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        exit(0); /* exit(), not _exit(): LeakSanitizer runs at exit */
    }
    free(buf);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return;
    failed++;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        printf("FAIL %s: timeout (more than %u s)\n", path, timeout_s);
    else if (WIFSIGNALED(st))
        printf("FAIL %s: killed by signal %d (%s)\n", path, WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        printf("FAIL %s: exit status %d (a sanitizer report or a failed check above)\n", path,
               WEXITSTATUS(st));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int skipped(const char *name)
{
    return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("note: %s: %s, skipped\n", path, strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_one(path);
        return;
    }
    struct dirent **v;
    int n = scandir(path, &v, NULL, by_name);
    if (n < 0) {
        printf("FAIL %s: cannot list: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!skipped(v[i]->d_name)) {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, v[i]->d_name);
            run_path(sub);
        }
        free(v[i]);
    }
    free(v);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    const char *t = getenv("REPLAY_TIMEOUT");
    if (t && atoi(t) > 0)
        timeout_s = (unsigned)atoi(t);
    nofork = getenv("REPLAY_NOFORK") != NULL;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        run_path(argv[i]);
    printf("replayed %u inputs, %u failed\n", ran, failed);
    return failed || ran == 0 ? 1 : 0;
}
