/* version.c: see version.h. The Makefile rebuilds this one file on every build and defines
   SPARSEMM_GIT_REV for it alone, so a new commit does not recompile anything else. */
#include "harness/version.h"

#ifndef SPARSEMM_GIT_REV
#define SPARSEMM_GIT_REV "unknown"
#endif

const char *sparsemm_git_rev(void) { return SPARSEMM_GIT_REV; }
