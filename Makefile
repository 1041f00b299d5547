# sparsemm build. Plain make: sources are discovered by folder, so adding a file needs no edit here.
#   make          build/sparsemm
#   make test     build and run every test (tests/test_*.c), summary on the last line
#   make asan     the same tests under AddressSanitizer + UBSan
#   make deps     install the Debian packages (scripts/deps.sh)
#   make demo     the main job on the embedded model (scripts/demo.sh)

CC      ?= gcc
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

.PHONY: all test asan deps demo clean
all: $(BUILD)/sparsemm

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

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

demo: $(BUILD)/sparsemm
	bash scripts/demo.sh

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/harness/main.d
