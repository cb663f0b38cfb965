#include "err.h"

#include <stdio.h>
#include <string.h>

/* Messages quote names from the image: control bytes become \xHH so that an error stays
 * one line (a name holding "\n" must not forge a second line on stderr). */
void err_one_line(char *msg, size_t cap)
{
    char out[ERR_MSG_MAX];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof out; p++) {
        if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
    snprintf(msg, cap, "%s", out);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    err_one_line(e->msg, sizeof e->msg);
    e->code = code;
    e->sys_errno = 0;
    return code;
}

int err_sys(struct err *e, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(errnum));
    err_one_line(e->msg, sizeof e->msg);
    e->code = IMGSTAT_ESYS;
    e->sys_errno = errnum;
    return e->code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    char head[ERR_MSG_MAX], old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", head, old);
    err_one_line(e->msg, sizeof e->msg);
    return e->code;
}

int err_nomem(struct err *e)
{
    return err_set(e, IMGSTAT_ENOMEM, "out of memory");
}
