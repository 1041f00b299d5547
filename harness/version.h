/* version.h: the build's git revision (`git describe --always --dirty` at build time, or
   "unknown"), recorded with every run so results can be traced to the code that made them. */
#ifndef SPARSEMM_VERSION_H
#define SPARSEMM_VERSION_H

const char *sparsemm_git_rev(void);

#endif
