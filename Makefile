# mcp-harness — every target bootstraps its own virtual environment (.venv) on first use.
#
#   make conformance [URL=…] [PROFILE=…] [HEADER='Name: value'] [SPEC=…] [IDLE_TIMEOUT=S] [STRICT=1]
#                    [OUT=DIR] [CHECKS=id,id] [PYTEST_ARGS='…'] [BASELINE=FILE [STRICT_BASELINE=1]]
#                    [COMPARE=OLD/results.json] [PROPERTY_BUDGET=25:4] [SEED=N] [PROPERTY_MALFORMED=0]
#                    [PROPERTY_OVERSIZED=1] [PROPERTY_RATE=N] [PROPERTY_CALL_TIMEOUT=S] [TIME_LIMIT=S]
#                    [EXCHANGE_TIMEOUT=S] [MAX_MESSAGE_SIZE=BYTES]
#   make test | lint | format | serve [PORT=8000] [IDLE_TIMEOUT=S] | clean
#   make interop [URL=…]   the official conformance suite (Node 22, cached in .cache/interop/) + the Python SDK client
#   make load [URL=…] [PROFILE=…] [SCENARIO=…] [SHAPE=…] [USERS=N] [RATE=N] [DURATION=30s] [PROCESSES=N]
#             [MAX_ERROR_RATE=0.05] [MAX_SESSIONS=N] [IDLE_TIMEOUT=S] [OUT=DIR]
#   make capacity [URL=…] [PROFILE=…] [SCENARIO=…] [SLO_P95_MS=1000] [MAX_ERROR_RATE=0.01] [OUT=DIR]
#             [PLAN_ARRIVAL_RATE=N PLAN_SESSION_DURATION=S] [QUOTA=5000] [TIME_LIMIT=180]
#   make bench-properties  how often the property checks catch their mutants (10 seeds), what they add to a run
#   make bench             client CPU per session (ours, a bare Locust user, the SDK client) and held sessions
#
# HEADER is handed to the harness in the environment and never echoed; recipes that see it are silent.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PORT ?= 8000
comma := ,

CONFORMANCE_ARGS = $(if $(URL),--url '$(URL)') $(if $(PROFILE),--profile '$(PROFILE)') \
	$(if $(SPEC),--spec-version '$(SPEC)') $(if $(IDLE_TIMEOUT),--idle-timeout '$(IDLE_TIMEOUT)') \
	$(if $(filter 1 yes true,$(STRICT)),--strict) $(if $(OUT),--out '$(OUT)') \
	$(foreach c,$(subst $(comma), ,$(CHECKS)),--check '$(c)') $(if $(PYTEST_ARGS),--pytest-args '$(PYTEST_ARGS)') \
	$(if $(BASELINE),--baseline '$(BASELINE)') $(if $(filter 1 yes true,$(STRICT_BASELINE)),--strict-baseline) \
	$(if $(COMPARE),--compare '$(COMPARE)') \
	$(if $(PROPERTY_BUDGET),--property-budget '$(PROPERTY_BUDGET)') $(if $(SEED),--seed '$(SEED)') \
	$(if $(filter 0 no false,$(PROPERTY_MALFORMED)),--no-property-malformed) \
	$(if $(filter 1 yes true,$(PROPERTY_OVERSIZED)),--property-oversized) $(if $(PROPERTY_RATE),--property-rate '$(PROPERTY_RATE)') \
	$(if $(PROPERTY_CALL_TIMEOUT),--property-call-timeout '$(PROPERTY_CALL_TIMEOUT)') $(if $(TIME_LIMIT),--time-limit '$(TIME_LIMIT)') \
	$(if $(EXCHANGE_TIMEOUT),--exchange-timeout '$(EXCHANGE_TIMEOUT)') $(if $(MAX_MESSAGE_SIZE),--max-message-size '$(MAX_MESSAGE_SIZE)')

LOAD_ARGS = $(if $(URL),--url '$(URL)') $(if $(PROFILE),--profile '$(PROFILE)') \
	$(if $(SCENARIO),--scenario '$(SCENARIO)') $(if $(SHAPE),--shape '$(SHAPE)') \
	$(if $(USERS),--users $(USERS)) $(if $(RATE),--rate $(RATE)) $(if $(DURATION),--duration $(DURATION)) \
	$(if $(PROCESSES),--processes $(PROCESSES)) $(if $(OUT),--out '$(OUT)') \
	$(if $(IDLE_TIMEOUT),--idle-timeout $(IDLE_TIMEOUT)) $(if $(MAX_ERROR_RATE),--max-error-rate $(MAX_ERROR_RATE)) \
	$(if $(MAX_SESSIONS),--max-sessions $(MAX_SESSIONS))

CAPACITY_ARGS = $(if $(URL),--url '$(URL)') $(if $(PROFILE),--profile '$(PROFILE)') \
	$(if $(SCENARIO),--scenario '$(SCENARIO)') $(if $(SLO_P95_MS),--slo-p95-ms $(SLO_P95_MS)) \
	$(if $(MAX_ERROR_RATE),--max-error-rate $(MAX_ERROR_RATE)) $(if $(OUT),--out '$(OUT)') \
	$(if $(TIME_LIMIT),--time-limit $(TIME_LIMIT)) $(if $(PLAN_ARRIVAL_RATE),--plan-arrival-rate $(PLAN_ARRIVAL_RATE)) \
	$(if $(PLAN_SESSION_DURATION),--plan-session-duration $(PLAN_SESSION_DURATION)) $(if $(QUOTA),--quota $(QUOTA))

.PHONY: setup test lint format conformance serve clean interop load capacity bench bench-properties wheel

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "make: need python3.11 (or python3) on PATH" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

test: setup
	$(BIN)/python -m pytest tests -n 3

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

conformance: setup
	@MCP_HARNESS_HEADER="$$HEADER" $(BIN)/mcp-harness conformance $(CONFORMANCE_ARGS)

serve: setup
	$(BIN)/mcp-harness serve --port $(PORT) $(if $(IDLE_TIMEOUT),--idle-timeout $(IDLE_TIMEOUT))

clean:
	rm -rf reports .pytest_cache .ruff_cache .hypothesis

interop: setup
	$(BIN)/python interop/official_suite.py $(if $(URL),--url '$(URL)')

# Build the wheel, install it into a fresh venv and run the embedded conformance from another folder: the
# package works outside the checkout (as `pipx install ./dist/mcp_harness-*.whl` installs it).
wheel: setup
	rm -rf dist .cache/wheel-venv
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	$(PYTHON) -m venv .cache/wheel-venv
	.cache/wheel-venv/bin/python -m pip install --quiet dist/mcp_harness-*.whl
	cd "$$(mktemp -d)" && $(CURDIR)/.cache/wheel-venv/bin/mcp-harness conformance --out $(CURDIR)/reports/wheel-conformance

load: setup
	@MCP_HARNESS_HEADER="$$HEADER" $(BIN)/python load/run.py $(LOAD_ARGS)

capacity: setup
	@MCP_HARNESS_HEADER="$$HEADER" $(BIN)/python load/capacity.py $(CAPACITY_ARGS)

bench: setup
	$(BIN)/python benchmarks/session_cost.py --variants bare,harness,sdk
	$(BIN)/python benchmarks/held_sessions.py
	$(BIN)/python benchmarks/cli_startup.py

bench-properties: setup
	$(BIN)/python benchmarks/property_catch_rate.py
