/*
 * log: the server's lines on stderr ("imgstat serve: ..."), each written with one write(2)
 * so that lines from several threads never interleave.  Nothing secret is ever passed here.
 */
#ifndef SERVER_LOG_H
#define SERVER_LOG_H

void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
