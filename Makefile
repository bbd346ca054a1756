# VisAPI: `make run` serves the API on the embedded default; `make test` runs every check.
# The first of these that runs and is Python 3.11 or newer (a pyenv shim may exist and not run).
PY ?= $(shell for p in python3.11 python3 python3.13 python3.12; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && command -v $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck contracts unit integration e2e schema clean
.PHONY: bench bench-pipeline bench-logs bench-instructions bench-retention bench-redaction bench-live bench-bulk

$(STAMP): pyproject.toml
	@test -n "$(PY)" || { echo "VisAPI needs Python 3.11 or newer (none found; set PY=...)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/visapi migrate
	$(BIN)/visapi serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

test: lint contracts typecheck
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

# The Hypothesis fuzz suite (tests/fuzz): FUZZ_EXAMPLES generated inputs in all, the same ones on
# every run (HYPOTHESIS_PROFILE=explore draws fresh ones). `make test` runs a 300-input smoke of it.
FUZZ_EXAMPLES ?= 10500
.PHONY: fuzz
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz -q

bench: $(STAMP)
	$(BIN)/python -m tests.bench

bench-pipeline: $(STAMP)
	$(BIN)/python -m tests.bench.pipeline

# Instructions per request (callgrind): the working tree and any REVS="rev ..." beside it.
bench-instructions: $(STAMP)
	$(BIN)/python -m tests.bench.instructions $(REVS)

# The `logs` query over 1,000,000 log rows in PostgreSQL: p50/p95 per filter.
bench-logs: $(STAMP)
	$(BIN)/python -m tests.bench.logs

# Subscriptions: 200 WebSocket subscribers over `serve --workers 2`, orders at 10/s (latency,
# drops), and RSS with 1,000 idle subscribers (tests/bench/live.py).
bench-live: $(STAMP)
	$(BIN)/python -m tests.bench.live

# markOrdersProcessedWhere over 100,000 orders on the bulk queue, and order(id) meanwhile.
bench-bulk: $(STAMP)
	$(BIN)/python -m tests.bench.bulk

# Retention: purging 1,000,000 expired webhook payloads in PostgreSQL, rows/s and longest DELETE.
bench-retention: $(STAMP)
	$(BIN)/python -m tests.bench.retention

# Log redaction on 100 KB of hostile text per shape: CPU ms, linear in the length.
bench-redaction: $(STAMP)
	$(BIN)/python -m tests.bench.redaction

# Production mode under faults (Redis and PostgreSQL down, worker killed, vendor stall): the
# invariants (tests/faults). Needs PostgreSQL's server binaries and redis-server.
.PHONY: faults
faults: $(STAMP)
	$(BIN)/python -m tests.faults

# schema.graphql is the clients' contract: a breaking change (graph.compatibility) is refused, the
# file left as it is, unless `make schema ALLOW_BREAKING=1`; deprecate first (README, Schema changes).
schema: $(STAMP)
	$(BIN)/visapi export-schema --write schema.graphql $(if $(filter 1,$(ALLOW_BREAKING)),--allow-breaking)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache visapi.db visapi.db-wal visapi.db-shm
