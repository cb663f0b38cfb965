/*
 * report_page: the report page's HTML, CSS and JavaScript, built into the program by
 * report/embed.py (report_page.c): the page up to where the image's JSON goes, and after.
 */
#ifndef IMGSTAT_REPORT_PAGE_H
#define IMGSTAT_REPORT_PAGE_H

#include <stddef.h>

extern const unsigned char report_page_head[];
extern const size_t report_page_head_len;
extern const unsigned char report_page_tail[];
extern const size_t report_page_tail_len;

#endif
