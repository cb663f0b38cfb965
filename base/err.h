/*
 * err: the one error type every module fills and the CLI prints.
 *
 * The contract, for every function that takes a `struct err *e` and returns int:
 * - it returns IMGSTAT_OK (0), or a negative IMGSTAT_E* code after setting *e, code and
 *   message together, with the most specific words it has (which member, which layer,
 *   which limit).  A negative return with *e untouched is a bug.
 * - Where "not found" is an answer rather than a failure, the function says so in its own
 *   contract (an out parameter set to NULL or -1) and returns IMGSTAT_OK.
 * - Callers may prepend context with err_prefix(), and return the code they were given,
 *   never a code read back from an *e that an earlier call may have left set.
 * Codes are ordered like libarchive's: every failure is < 0.
 */
#ifndef IMGSTAT_ERR_H
#define IMGSTAT_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include "imgstat.h"

#define ERR_MSG_MAX 1024

struct err {
    int code;      /* IMGSTAT_OK or one of the IMGSTAT_E* codes */
    int sys_errno; /* errno of a failed system call, else 0 */
    char msg[ERR_MSG_MAX];
};

/* Set code and message (printf-style); returns code so callers can `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Same, with errno's text appended as ": strerror(errno)". */
int err_sys(struct err *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepend "context: " to the message already set; returns the code. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rewrite control bytes in msg as \xHH, so a quoted name cannot break the line. */
void err_one_line(char *msg, size_t cap);

/* Out-of-memory, as a one-liner for every allocation site. */
int err_nomem(struct err *e);

#endif
