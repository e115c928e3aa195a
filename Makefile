# Everything sets itself up: a fresh machine needs only `make dev` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The contract tests serve the providers' OpenAPI specs with Stoplight's Prism (npm); 5.14.2 is the
# newest release that runs on Node 20 (later ones want Node 24).
PRISM_VERSION := 5.14.2
PRISM_STAMP := tests/.node/.prism-$(PRISM_VERSION)
# The browser tests inject axe-core into every page (tests/e2e/axe.py): no serious or critical violation.
AXE_VERSION := 4.10.3
AXE_STAMP := tests/.node/.axe-core-$(AXE_VERSION)
# Bluesky's tests post to a real PDS with its own PLC directory (tests/social/pds.cjs). 0.4.217 is
# the newest @atproto/pds for Node 20 (0.5 wants Node 22); better-sqlite3 is built if no binary fits.
# Replies are read from the Bluesky AppView, which @atproto/dev-env runs beside a PDS
# (tests/social/bsky-network.cjs, on the tests' PostgreSQL); 0.3.215 is its newest for Node 20.
PDS_VERSION := 0.4.217
PLC_VERSION := 0.0.1
DEV_ENV_VERSION := 0.3.215
PDS_STAMP := tests/.node/.pds-$(PDS_VERSION)-plc-$(PLC_VERSION)-dev-env-$(DEV_ENV_VERSION)

.PHONY: dev test test-fast lint install chromium prism axe pds postgresql clean bench

dev: $(STAMP)
	$(BIN)/crisis dev

test: $(STAMP) chromium prism axe pds postgresql
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/pytest -n 3 --dist loadgroup --durations=25

# The benchmarks on the embedded stack, beside the Temporal floor; rewrites docs/BENCHMARKS.md.
bench: $(STAMP)
	$(BIN)/python -m bench

# The edit-test loop: domain rules and the workflow on the time-skipping server, none of the slow
# suites, in two worker processes (pytest-xdist; every test has its own server and folder); docs/testing.md
# has its time on this machine; `pytest -m "not slow"` is the wider choice.
test-fast: $(STAMP)
	$(BIN)/pytest -n 2 -m "not slow" tests/unit tests/workflow

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "crisisflow needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

prism: $(PRISM_STAMP)

$(PRISM_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "the contract tests need Node.js and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm install --prefix tests/.node --no-audit --no-fund --loglevel=error @stoplight/prism-cli@$(PRISM_VERSION)
	@touch $@

axe: $(AXE_STAMP)

$(AXE_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "the browser tests need Node.js and npm for axe-core (Debian: apt-get install nodejs npm)"; exit 1; }
	npm install --prefix tests/.node --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	@touch $@

pds: $(PDS_STAMP)

$(PDS_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "the Bluesky tests need Node.js and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm install --prefix tests/.node --no-audit --no-fund --loglevel=error @atproto/pds@$(PDS_VERSION) @did-plc/server@$(PLC_VERSION) @atproto/dev-env@$(DEV_ENV_VERSION)
	@touch $@

# The store tests run on SQLite and on a throwaway PostgreSQL server that the tests start (initdb
# and pg_ctl in a temporary folder, on a free port) and stop; install Debian's server when missing.
postgresql:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing Debian's postgresql for the store tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# Browser tests drive Debian's Chromium; install it when it is missing (needs root, as in CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) var .pytest_cache
