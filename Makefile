# rollsync: every command a developer or CI needs. `make up` and `make test` set up a bare machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTEST := .venv/bin/python -m pytest

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

up: ## run the whole stack locally (Kafka, PostgreSQL, services, ERP simulator, nginx edge) + demo data
	@scripts/stack.sh up
	@.venv/bin/python scripts/demo.py

down: ## stop everything `make up` started
	@scripts/stack.sh down

bootstrap: ## install uv and the workspace virtualenv
	@scripts/stack.sh bootstrap

lint: bootstrap ## ruff (check + format) and import contracts
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

typecheck: bootstrap ## mypy --strict
	.venv/bin/mypy

docs: bootstrap ## regenerate docs/asyncapi.json (every topic, producer, consumer and payload) from the contracts
	.venv/bin/python -m common.asyncapi docs/asyncapi.json

test-unit: bootstrap ## unit tests only (no infrastructure)
	$(PYTEST) -m "not integration and not e2e"

test-integration: bootstrap ## integration tests on the real PostgreSQL
	@scripts/stack.sh infra
	$(PYTEST) -m integration

test-e2e: bootstrap ## end-to-end tests on real Kafka + PostgreSQL + service processes
	@scripts/stack.sh infra
	$(PYTEST) -m e2e

test: bootstrap ## everything: lint, types, unit, integration, e2e (what CI runs)
	@scripts/stack.sh stop-services
	$(MAKE) --no-print-directory lint typecheck
	@scripts/stack.sh infra
	@scripts/ops_tools.sh
	@scripts/browser_tools.sh
	$(PYTEST) -p no:cacheprovider

test-containers: bootstrap ## build every image and run the compose stack end to end (Docker installed/started if missing); CI runs it after `make test`
	@scripts/test_containers.sh

soak: bootstrap ## nightly-size fault scenarios (tests/faults at 100 000 events, >= 20 kills) with their figures; not in `make test`
	@scripts/stack.sh stop-services
	@scripts/stack.sh infra
	ROLLSYNC_SOAK=1 $(PYTEST) -p no:cacheprovider tests/faults -s -rA

bench: bootstrap ## benchmarks (not part of `make test`): interleaved-pair ratios; CASE=G7,G6b runs only those
	@scripts/stack.sh infra
	CASE=$(CASE) ROLLSYNC_TEST_PORT_BASE=$${ROLLSYNC_BENCH_PORT_BASE:-38100} .venv/bin/python -m bench.run_all

bench-profile: bootstrap ## where the CPU of one imported line goes, per process (py-spy + psutil; BENCH_ROWS=10000)
	@scripts/stack.sh infra
	ROLLSYNC_TEST_PORT_BASE=$${ROLLSYNC_BENCH_PORT_BASE:-38100} .venv/bin/python -m bench.profile_import

bench-compare: ## compare two bench results files (OLD=bench/results.prev.json NEW=bench/results.json)
	@.venv/bin/python -m bench.compare $(or $(OLD),bench/results.prev.json) $(or $(NEW),bench/results.json)

.PHONY: help up down bootstrap docs lint typecheck test-unit test-integration test-e2e test test-containers soak bench bench-profile bench-compare
