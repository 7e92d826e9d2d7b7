# Paddock: `make` builds build/paddock; `make run` and `make test` also install
# what is missing (Debian packages, with apt-get) first.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)

# Debian packages the build, the tests and the benchmarks need.
DEB_PACKAGES = cmake gcc clang pkg-config make libuv1-dev liburing-dev zlib1g-dev libssl-dev libedit-dev \
               python3-pytest python3-kazoo libzookeeper-mt-dev zookeeper \
               default-jre-headless default-jdk-headless libclang-rt-14-dev tmux \
               libcurator-client-java libcurator-framework-java libcurator-recipes-java

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build build-asan build-fuzz deps run test unit fuzz bench clean format install

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DPADDOCK_SANITIZE=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)

# Only the fuzz targets are built here (clang, libFuzzer); the rest of that tree is unused.
build-fuzz:
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DPADDOCK_FUZZ=ON >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_records fuzz_storage fuzz_quorum

run: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target paddock
	mkdir -p data
	exec $(BUILD)/paddock server conf/zoo.cfg

# Unit tests under the release build, a short libFuzzer run over each decoder,
# then every test (unit and integration, against the ASan+UBSan server) under
# ASan+UBSan; ctest's summary line is the last thing printed.
test: deps build build-asan build-fuzz
	cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)
	cd $(BUILD_FUZZ) && ctest --output-on-failure -L fuzz
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

fuzz: build-fuzz
	cd $(BUILD_FUZZ) && ctest --output-on-failure -L fuzz

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)

# Paddock vs Apache ZooKeeper side by side (bench/README.md), with `paddock bench` as the
# client; about 10 minutes. BENCH_ARGS=--quick for a one-minute run;
# BENCH_ARGS="--loadgen $(BUILD)/loadgen" for the raw-protocol load generator instead.
bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target paddock loadgen
	bench/compare.sh --paddock $(BUILD)/paddock $(BENCH_ARGS)

# Installs the paddock binary, libpaddock (static and shared), <paddock/client.h> and
# paddock.pc under $(PREFIX); DESTDIR stages it elsewhere (make install DESTDIR=/tmp/stage).
PREFIX  ?= /usr/local
DESTDIR ?=
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
