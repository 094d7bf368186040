# tracewire — top-level entry points. See README.md.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
# Most tests wait on sockets and processes, not on a core: twice as many at
# once as there are cores.
CTEST_JOBS ?= $(shell echo $$(( $$(nproc) * 2 )))
# clang-14 (installed by `make deps`) when present: it runs the thread-safety
# analysis while it compiles (see CMakeLists.txt), so `make test` needs no
# second pass over the sources. Optimised without debug information, which
# would add half again to the compile time; for a debugger, configure with
# CMAKE_FLAGS=-DCMAKE_BUILD_TYPE=RelWithDebInfo.
CXX_COMPILER ?= $(shell command -v clang++-14 || command -v c++)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
IS_CLANG := $(findstring clang,$(CXX_COMPILER))
# `make test` runs each fuzz target briefly over its corpus (a crash found
# once stays found); `make fuzz` runs them longer.
FUZZ_TEST_SECONDS ?= 5
FUZZ_SECONDS ?= 600

.PHONY: all deps configure build test unit asan fuzz thread-safety interop demo bench format clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_CXX_COMPILER=$(CXX_COMPILER) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Everything: unit and integration tests, the JS SDK interop test, the
# install/consumer/package tests, the layering check, clang's thread-safety
# analysis, the wire-layer and SDK span-storage tests again under
# AddressSanitizer, and each fuzz target for FUZZ_TEST_SECONDS.
test: build asan thread-safety
	cd $(BUILD) && ctest --output-on-failure -j$(CTEST_JOBS) --timeout 900

unit: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -E interop

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_CXX_COMPILER=$(CXX_COMPILER) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DTRACEWIRE_ASAN=ON $(if $(IS_CLANG),-DTRACEWIRE_FUZZ=ON)
	cmake --build $(ASAN_BUILD) -j$(JOBS) --target tracewire_wire_tests tracewire_sdk_tests \
	  $(if $(IS_CLANG),fuzzers)
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_BUILD)/bin/tracewire_wire_tests
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_BUILD)/bin/tracewire_sdk_tests
	$(if $(IS_CLANG),bash scripts/fuzz.sh $(ASAN_BUILD)/bin $(FUZZ_TEST_SECONDS))

# Every fuzz target for FUZZ_SECONDS (default 600) each, from its committed
# corpus and what earlier runs found (build-asan/fuzz-work); see fuzz/README.md.
fuzz: asan
	bash scripts/fuzz.sh $(ASAN_BUILD)/bin $(FUZZ_SECONDS)

# clang-14 -Wthread-safety -Werror over every file of src/, apps/ and examples/
# (-fsyntax-only: the analysis without code generation); nothing to do when
# the build is clang's, which ran the analysis already.
thread-safety: configure
	python3 scripts/thread-safety.py $(BUILD)/compile_commands.json

interop: build
	bash tests/interop/run.sh $(BUILD)/bin

# Builds only what it shows: tracewired and the tracewire CLI.
demo: configure
	cmake --build $(BUILD) -j$(JOBS) --target tracewired tracewire ms_gateway ms_service_b ms_service_c
	bash examples/microservices/run.sh $(BUILD)

bench: build
	bash scripts/bench.sh $(BUILD)/bin

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
