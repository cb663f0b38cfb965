/*
 * ref: an image reference taken apart for local-repositories' image_name and image_version
 * (the catalog matches refs itself).  A ref without a tag is :latest; a digest
 * (@sha256:...) is not a tag.
 */
#ifndef SERVER_REF_H
#define SERVER_REF_H

#include <stdbool.h>
#include <stddef.h>

/* Split a ref as written into repository (without digest) and tag ("latest" if none);
 * a ref that is only a tag (an OCI ref-name annotation such as "1.0") has repo "". */
void ref_split(const char *ref, char *repo, size_t repo_cap, char *tag, size_t tag_cap);

#endif
