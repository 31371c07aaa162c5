# Thin wrapper over CMake. `make demo` and `make test` install missing packages and build first.
BUILD ?= build
JOBS  ?= $(shell nproc)
SHARED ?= $(abspath ../shared)

.PHONY: all deps build test demo bench anchors clean

all: build

deps:
	@bash scripts/install_deps.sh

$(BUILD)/CMakeCache.txt:
	@bash scripts/install_deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DLMP_SHARED_DIR=$(SHARED)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Two tests at a time, one OpenMP/BLAS thread each (two per test would oversubscribe 2 cores), idle
# threads sleeping, and OpenBLAS's AVX2 kernels unless the environment already chose (src/linalg/blas_env.h).
test: build
	cd $(BUILD) && OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-Haswell} \
	  ctest --output-on-failure -j 2 --timeout 1800

demo: build
	@bash scripts/demo.sh $(BUILD)/lmpress

bench: build
	@bash bench/run_all.sh $(BUILD)

# Every row of ../shared/reference/peer_anchors.json (compress + heldout_dev perplexity; about an hour on
# 2 cores). Resumes from out/anchors.jsonl; prints the BENCHMARKS.md table.
anchors: build
	@python3 bench/anchors.py --build $(BUILD) --shared $(SHARED)

clean:
	rm -rf $(BUILD)
