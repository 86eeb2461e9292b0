# skytrap: `make demo` and `make test`. The other targets are their steps.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PG_CONFIG    ?= /usr/lib/postgresql/15/bin/pg_config
PGRX_VERSION := 0.18.1
# Root installs directly; anyone else through sudo.
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SKYTRAP      := target/release/skytrap
DEBIAN_PACKAGES := postgresql-15 postgresql-server-dev-15 postgresql-client-15 libclang-dev \
                   clang pkg-config libcfitsio-dev sudo libxml2-utils \
                   postgresql-15-q3c postgresql-15-pgsphere python3 python3-venv

# The test suite's own cluster: never the system one, never the demo's.
TEST_PORT ?= 54339
# Outside the work tree: as root the cluster runs as postgres, which may not be allowed
# into the directory the repository was cloned in (mktemp -d makes it 0700).
TEST_DIR  := /tmp/skytrap-test-pgdata-$(TEST_PORT)
# Its Unix socket, in TEST_DIR (no TCP).
TEST_URL   = $$($(SKYTRAP) db url --dir $(TEST_DIR) --port $(TEST_PORT))
# The Python libraries the tests read skytrap's exports back with.
TEST_VENV := target/test-venv
# pgrx's test cluster puts its socket in this directory: keep the path short.
PGRX_TEST_DIR := /tmp/skytrap-pgrx-test

.PHONY: help demo test fuzz fuzz-smoke deps pgrx build install install-release install-sql lint unit pgrx-test \
        integration regress e2e clean-db

help:
	@echo "make demo   set everything up, run the pipeline on a simulated sky, show found vs truth"
	@echo "make test   the whole test suite (what .ci/run runs)"

## The demo ----------------------------------------------------------------------------

demo: build install
	@$(SKYTRAP) db up
	@$(SKYTRAP) simulate .skytrap/demo --epochs 12 --seed 42 --size 512
	@$(SKYTRAP) load --dataset demo .skytrap/demo/epoch_*.fits
	@psql -X -q -v ON_ERROR_STOP=1 "$$($(SKYTRAP) db url)" -v truth="$(CURDIR)/.skytrap/demo/truth.csv" \
	      -f tests/demo/report.sql
	@echo "The database is still running: psql $$($(SKYTRAP) db url)   (stop it: $(SKYTRAP) db down)"

## Setting up ----------------------------------------------------------------------------

# Debian's packages, installed only where missing.
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages:" $$missing; \
	    $(SUDO) apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# cargo-pgrx, pinned, pointed at Debian's PostgreSQL 15 (pgrx never downloads PostgreSQL).
pgrx: deps
	@cargo pgrx --version 2>/dev/null | grep -q 'cargo-pgrx $(PGRX_VERSION)' || \
	    cargo install cargo-pgrx --version $(PGRX_VERSION) --locked
	@grep -qs 'pg15 = "$(PG_CONFIG)"' "$${PGRX_HOME:-$$HOME/.pgrx}/config.toml" || \
	    cargo pgrx init --pg15 $(PG_CONFIG)

build: deps
	cargo build --release -p skytrap-loader

# The extension into Debian's PostgreSQL 15 (debug build: fast to compile; see install-release).
install: pgrx
	cd extension && cargo pgrx install --pg-config $(PG_CONFIG) $(if $(SUDO),--sudo)
	@$(MAKE) --no-print-directory install-sql

install-release: pgrx
	cd extension && cargo pgrx install --release --pg-config $(PG_CONFIG) $(if $(SUDO),--sudo)
	@$(MAKE) --no-print-directory install-sql

# Released versions' scripts and the upgrade steps between them, so that
# `CREATE EXTENSION skytrap VERSION '0.1.0'` and `ALTER EXTENSION skytrap UPDATE` work.
install-sql:
	$(SUDO) install -m 644 sql/install/*.sql sql/upgrade/*.sql "$$($(PG_CONFIG) --sharedir)/extension/"

clean-db:
	@if [ -f .skytrap/pgdata/PG_VERSION ]; then $(SKYTRAP) db down; fi
	rm -rf .skytrap

## The test suite ------------------------------------------------------------------------

test: lint unit pgrx-test integration fuzz-smoke

lint: pgrx
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

# The core in a debug build as well, as `make install` builds it: cdshealpix's debug
# assertions are then on, and a float that trips one must be caught here.
unit: deps
	cargo test -p skytrap-core --lib
	cargo test --release -p skytrap-core -p skytrap-loader --lib --tests

# In-backend tests; as root pgrx runs its cluster as postgres. They install a test build
# of the extension, so `integration` installs the real one again afterwards.
pgrx-test: pgrx
	@if [ "$$(id -u)" = 0 ]; then \
	    rm -rf $(PGRX_TEST_DIR); install -d -o postgres -g postgres $(PGRX_TEST_DIR); \
	    cd extension && cargo pgrx test pg15 --runas postgres --pgdata $(PGRX_TEST_DIR); \
	else \
	    cd extension && cargo pgrx test pg15; \
	fi

# Golden SQL tests and end-to-end tests against a fresh private cluster, stopped after.
integration: build install
	@if [ -f $(TEST_DIR)/PG_VERSION ]; then $(SKYTRAP) db down --dir $(TEST_DIR); fi
	@rm -rf $(TEST_DIR)
	@$(SKYTRAP) db up --dir $(TEST_DIR) --port $(TEST_PORT)
	@trap '$(SKYTRAP) db down --dir $(TEST_DIR)' EXIT; $(MAKE) --no-print-directory regress e2e

regress:
	@pg_regress="$$(dirname "$$($(PG_CONFIG) --pgxs)")/../test/regress/pg_regress"; \
	tests=$$(ls tests/pg_regress/sql | sed -n 's/\.sql$$//p' | grep -vx setup); \
	rm -rf target/regress; mkdir -p target/regress; \
	if "$$pg_regress" --bindir="$$($(PG_CONFIG) --bindir)" --host=$(TEST_DIR) --port=$(TEST_PORT) \
	      --user=postgres --dbname=skytrap_regress --inputdir=tests/pg_regress \
	      --outputdir=target/regress setup $$tests > target/regress/log 2>&1; then \
	    echo "regress: $$(( $$(echo $$tests | wc -w) + 1 )) passed, 0 failed"; \
	else \
	    cat target/regress/log; cat target/regress/regression.diffs 2>/dev/null; exit 1; \
	fi

e2e: $(TEST_VENV)/ready
	DATABASE_URL="$(TEST_URL)" SKYTRAP_TEST_PYTHON="$(CURDIR)/$(TEST_VENV)/bin/python" \
	    cargo test --release -p skytrap-tests --tests

# The Python libraries that read skytrap's exports back in the tests (astropy's VOTable
# reader and pyarrow's Parquet reader, as analysts use them), pinned, in a venv under
# target/ (PyPI only).
$(TEST_VENV)/ready: Makefile
	rm -rf $(TEST_VENV)
	python3 -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install -q --disable-pip-version-check astropy==8.0.2 pyarrow==26.0.1
	touch $@

# cargo-fuzz on the header and WCS parsing and on the whole FITS reader, FUZZ_SECONDS per
# target; `make test` runs each for 15 s (fuzz-smoke).
FUZZ_SECONDS ?= 60
fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	tests/fuzz/run.sh 15
