# sparsemm build. Plain make: sources are discovered by folder, so adding a file needs no edit here.
#   make          build/sparsemm
#   make test     build and run every test (tests/test_*.c), summary on the last line
#   make asan     the same tests under AddressSanitizer + UBSan
#   make deps     install the Debian packages (scripts/deps.sh)
#   make demo     the main job on the embedded model (scripts/demo.sh)
#   make cuda-check   compile every engine/cuda/*.cu with nvcc for sm_80 and sm_90, warnings as
#                 errors, no GPU needed (part of `make test` when nvcc is found)
#   make test-cuda    the CUDA backend's tests built with CUDA=1 (on a GPU; they skip without one)
#   CUDA=1        the CUDA backend on a GPU, as "cuda", built in build/cuda (the default when nvcc
#                 and an NVIDIA driver are found); otherwise it runs on its host emulator as
#                 "cuda-emu" (engine/cuda/emu/), so `make test` covers its code everywhere

CC      ?= gcc
ifndef NVCC
NVCC    := $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
endif
ifndef CUDA
CUDA    := $(shell test -n "$(NVCC)" && nvidia-smi -L >/dev/null 2>&1 && echo 1 || echo 0)
endif
ifeq ($(CUDA),1)
BUILD   ?= build/cuda
endif
BUILD   ?= build
BLAS_INC = /usr/include/x86_64-linux-gnu/openblas-openmp
BLAS_LIB = /usr/lib/x86_64-linux-gnu/openblas-openmp
OPT     ?= -O2 -march=x86-64-v3 -mtune=native
CFLAGS  += $(OPT) -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -fopenmp -I. -I$(BLAS_INC) \
           $(shell pkg-config --cflags freetype2 2>/dev/null)
LDLIBS  += -L$(BLAS_LIB) -Wl,-rpath,$(BLAS_LIB) -lopenblas -lcjson -lsqlite3 -ljpeg -lpng \
           $(shell pkg-config --libs freetype2 2>/dev/null) -lm -fopenmp

LIB_SRC  := $(wildcard engine/*.c engine/cpu/*.c methods/*.c datasets/*.c results/*.c plots/*.c) \
            $(filter-out harness/main.c,$(wildcard harness/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

# ---- CUDA backend: engine/cuda/ (kernels *.cu, backend object *.c, emulator emu/) ------------
CUDA_HOME  := $(patsubst %/bin/nvcc,%,$(NVCC))
CU_SRC     := $(wildcard engine/cuda/*.cu)
CU_HDR     := $(wildcard engine/cuda/*.h engine/cuda/*.cuh engine/cuda/emu/*.h)
NVCC_FLAGS := -std=c++17 -O2 -lineinfo -I. -DSPARSEMM_CUDA \
              -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90] \
              -Werror all-warnings -Xcompiler -Wall,-Wextra,-Wno-unused-parameter,-Werror \
              -Xptxas --warn-on-spills,--warn-on-local-memory-usage,--warn-on-double-precision-use,--warning-as-error
ifeq ($(CUDA),1)
CFLAGS     += -DSPARSEMM_CUDA -I$(CUDA_HOME)/include
LDLIBS     += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++
LIB_OBJ    += $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard engine/cuda/*.c)) $(CU_SRC:%.cu=$(BUILD)/obj/%.cu.o)
$(BUILD)/obj/%.cu.o: %.cu $(CU_HDR)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCC_FLAGS) -c $< -o $@
else
CFLAGS     += -DSPARSEMM_CUDA_EMU
LIB_OBJ    += $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard engine/cuda/*.c engine/cuda/emu/*.c)) \
              $(CU_SRC:%.cu=$(BUILD)/obj/%.cu.o)
$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(CXX) -x c++ -std=gnu++17 $(OPT) -g -Wall -Wextra -Wno-unused-parameter -fno-exceptions -fno-rtti \
	    -fno-threadsafe-statics -I. -DSPARSEMM_CUDA_EMU -MMD -MP -c $< -o $@
endif

GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

.PHONY: all test asan deps demo clean FORCE cuda-check cuda-check-skipped test-cuda
all: $(BUILD)/sparsemm

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# the revision string changes with every commit: only version.o sees it, and it is always rebuilt
$(BUILD)/obj/harness/version.o: CFLAGS += -DSPARSEMM_GIT_REV='"$(GIT_REV)"'
$(BUILD)/obj/harness/version.o: FORCE
FORCE:

$(BUILD)/libsparsemm.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sparsemm: $(BUILD)/obj/harness/main.o $(BUILD)/libsparsemm.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/test_util.h tests/golden.h $(BUILD)/libsparsemm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libsparsemm.a $(LDLIBS) -lcmocka

test: $(BUILD)/sparsemm $(TEST_BIN)
	@BUILD=$(BUILD) bash scripts/run-tests.sh $(TEST_BIN)

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" test

deps:
	bash scripts/deps.sh

# On a fresh machine: install what is missing, build, then run the demo.
demo:
	bash scripts/deps.sh
	$(MAKE) $(BUILD)/sparsemm
	bash scripts/demo.sh

clean:
	rm -rf build build-asan

# ---- CUDA backend: compile checks without a GPU, tests on a GPU ------------------------------
CUDA_CHECK := build/cuda-check
cuda-check: $(CU_SRC:engine/cuda/%.cu=$(CUDA_CHECK)/%.o) $(patsubst engine/cuda/%.c,$(CUDA_CHECK)/%.c.o,$(wildcard engine/cuda/*.c))
	@cat $(CU_SRC:engine/cuda/%.cu=$(CUDA_CHECK)/%.log) > $(CUDA_CHECK)/resources.txt
	@echo "cuda-check: $(words $(CU_SRC)) .cu files built for sm_80 and sm_90 with warnings as errors; registers and spills per kernel in $(CUDA_CHECK)/resources.txt"
$(CUDA_CHECK)/%.o: engine/cuda/%.cu $(CU_HDR)
	@mkdir -p $(dir $@)
	@$(NVCC) $(NVCC_FLAGS) --resource-usage -c $< -o $@ > $(@:.o=.log) 2>&1 || { cat $(@:.o=.log); rm -f $@; exit 1; }
$(CUDA_CHECK)/%.c.o: engine/cuda/%.c $(CU_HDR)
	@mkdir -p $(dir $@)
	@$(CC) $(filter-out -DSPARSEMM_CUDA_EMU,$(CFLAGS)) -DSPARSEMM_CUDA -I$(CUDA_HOME)/include -Werror -c $< -o $@
ifneq ($(NVCC),)
test: cuda-check
else
test: cuda-check-skipped
cuda-check-skipped:
	@echo "cuda-check: SKIPPED (no nvcc found); the CUDA backend is still tested on its emulator"
endif

CUDA_TESTS := test_backend_ops $(notdir $(basename $(wildcard tests/test_cuda*.c)))
test-cuda:
	$(MAKE) CUDA=1 BUILD=build/cuda build/cuda/sparsemm $(CUDA_TESTS:%=build/cuda/tests/%)
	@BUILD=build/cuda bash scripts/run-tests.sh $(CUDA_TESTS:%=build/cuda/tests/%)

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/harness/main.d
