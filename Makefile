# tracewire — top-level entry points. See README.md.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
# Most tests wait on sockets and processes, not on a core: twice as many at
# once as there are cores.
CTEST_JOBS ?= $(shell echo $$(( $$(nproc) * 2 )))
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build test unit asan thread-safety interop demo bench format clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Everything: unit and integration tests, the JS SDK interop test, the
# install/consumer/package tests, the layering check, clang's thread-safety
# analysis of the library, daemon and example files, and the wire-layer and SDK span-storage tests again
# under AddressSanitizer.
test: build asan thread-safety
	cd $(BUILD) && ctest --output-on-failure -j$(CTEST_JOBS) --timeout 900

unit: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -E interop

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTRACEWIRE_ASAN=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS) --target tracewire_wire_tests tracewire_sdk_tests
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_BUILD)/bin/tracewire_wire_tests
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_BUILD)/bin/tracewire_sdk_tests

# clang-14 -Wthread-safety -Werror over every file of src/, apps/ and examples/
# (-fsyntax-only: the analysis without code generation).
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
