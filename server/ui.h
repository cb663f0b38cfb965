/*
 * ui: the pages of issue 12 on the catalog, for people with a browser:
 *   /ui/                    the index of every entry (report_index.h): name, tag, image ID,
 *                           files, size, wasted, scan status, last scan; sortable
 *   /ui/images/{image_id}   the image's report page (report.h), byte for byte what
 *                           `imgstat report INPUT` writes for it
 * Both are text/html with the page's Content-Security-Policy as a header too.  Errors are the
 * API's JSON bodies (handler.h), so a script reads them as it reads the API's.
 */
#ifndef SERVER_UI_H
#define SERVER_UI_H

#include "handler.h"

/* Entries the index lists at most: the page stays under about 5 MB, as a report does;
 * local-repositories pages through the rest. */
#define UI_INDEX_MAX 10000

/* The index page.  The caller holds s->store_lock for reading. */
void ui_index(struct srv *s, struct srv_reply *rp);
/* The report page of the image image_id (the path's segment: sha256:HEX, HEX, or a unique
 * prefix of >= 12 hex digits).  The caller holds s->store_lock for reading. */
void ui_image(struct srv *s, const char *image_id, struct srv_reply *rp);

#endif
