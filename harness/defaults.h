/* defaults.h: defaults shared by the commands: the embedded model every command uses when
   --model is not given (trained by tools/train_tiny, shipped in models/). */
#ifndef SPARSEMM_DEFAULTS_H
#define SPARSEMM_DEFAULTS_H

#define DEFAULT_MODEL_DIR "models/tiny-llava"

#endif
