# Brownout — the two set-up commands are `make run` and `make test`.
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test examples build deps bench compare clean

## Installs libgsl-dev (apt-get) or gsl (brew) only when pkg-config cannot find GSL.
deps:
	@if pkg-config --exists gsl 2>/dev/null; then \
		echo "gsl $$(pkg-config --modversion gsl) found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing libgsl-dev and pkg-config with apt-get"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libgsl-dev pkg-config >/dev/null; \
	elif command -v brew >/dev/null 2>&1; then \
		echo "installing gsl and pkg-config with brew"; \
		brew install gsl pkg-config; \
	else \
		echo "error: GSL not found and neither apt-get nor brew is available; install GSL (libgsl-dev) and pkg-config" >&2; \
		exit 1; \
	fi

build: deps
	$(SWIFT) build -c release

## The project's main job: the flagship experiment, written to out/april-correlated-529/.
run: build
	.build/release/brownout run experiments/april-correlated-529.yaml --out out/april-correlated-529

## The stored example outputs (experiments/*.out, the README's) are checked with the release
## binaries: the scenarios at their default replications take seconds there.
test: deps
	$(SWIFT) build -c release
	$(SWIFT) build --build-tests
	BROWNOUT_EXAMPLES_BIN=$(CURDIR)/.build/release $(SWIFT) test --skip-build --disable-xctest

## Rewrites experiments/*.out and the README's example outputs from what the program prints now.
## A change in them must be explained in the commit message.
examples: build
	$(SWIFT) build --build-tests
	BROWNOUT_UPDATE_EXAMPLES=1 BROWNOUT_EXAMPLES_BIN=$(CURDIR)/.build/release $(SWIFT) test --skip-build --disable-xctest --filter ExampleOutputTests

## Swift vs SimPy vs C on the toy model, same machine, one go.
compare: build
	Benchmarks/compare

clean:
	rm -rf .build
