/*
 * report_page: the pages' HTML, CSS and JavaScript, built into the program by report/embed.py
 * (report_page.c, index_page.c): each page up to where its JSON goes, and after; and its
 * Content-Security-Policy, as the page's <meta> element states it.
 */
#ifndef IMGSTAT_REPORT_PAGE_H
#define IMGSTAT_REPORT_PAGE_H

#include <stddef.h>

/* The report of one image (page.html, page.css, page.js). */
extern const unsigned char report_page_head[];
extern const size_t report_page_head_len;
extern const unsigned char report_page_tail[];
extern const size_t report_page_tail_len;
extern const char report_page_csp[];

/* The index of a catalog (index.html, index.css, index.js). */
extern const unsigned char index_page_head[];
extern const size_t index_page_head_len;
extern const unsigned char index_page_tail[];
extern const size_t index_page_tail_len;
extern const char index_page_csp[];

#endif
