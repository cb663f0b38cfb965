/*
 * ref: image references as the API's selection reads them.  A request's
 * NAMESPACE/IMAGE_NAME:TAG_NAME matches an image's ref with or without a registry host,
 * and `docker.io/library/` is optional (so library/nginx:1 matches docker.io/library/nginx:1
 * and nginx:1).  A ref without a tag is :latest; a digest (@sha256:...) is not a tag.
 */
#ifndef SERVER_REF_H
#define SERVER_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* Split a ref as written into repository (without digest) and tag ("latest" if none);
 * a ref that is only a tag (an OCI ref-name annotation such as "1.0") has repo "". */
void ref_split(const char *ref, char *repo, size_t repo_cap, char *tag, size_t tag_cap);

/* Does ref (as written) name repository repo (NAMESPACE/IMAGE_NAME) with tag? */
bool ref_matches(const char *ref, const char *repo, const char *tag);

/* Does the image satisfy the selection? (An image without an ID matches none.) */
bool ref_select_matches(const struct store_select *sel, const struct store_image *im);

/* Does a local-repositories row (repository, tag) of an image pass the filter's names? */
bool ref_row_matches(const struct store_filter *f, const char *repo, const char *tag);

#endif
