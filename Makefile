# The one interface. `make dev` runs the local stack; `make test` runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
PY := $(VENV)/bin/python
SAM := SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/sam
SAM_CLI_VERSION := 1.170.0
# Local runs never ask the EC2 metadata service for credentials (a non-loopback address).
export AWS_EC2_METADATA_DISABLED := true
# Bytecode is cached under .local/pycache, not beside the sources. Every test tier, bench and local-stack process
# imports moto, boto3 and botocore: about 4 s a process compiled from source, 1 s from the cache.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(CURDIR)/.local/pycache
TENANT ?= tenant-demo
FRONTEND := frontend
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.DEFAULT_GOAL := help
.PHONY: help dev test checks checks-then-benches tiers tiers-then-page-checks install tools lint typecheck validate openapi openapi-check unit integration e2e bench \
	bench-quick token build deploy deployed-packages \
	redrive clean frontend-install frontend-check frontend-build chromium deploy-page

help: ## This list: every target and what it does (`make` alone shows it too)
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z0-9_-]+:[^=]*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

dev: install frontend-build ## The local stack: API on http://127.0.0.1:3003, the page on http://127.0.0.1:3005/integrations
	$(PY) -m local.dev

# Installs first, side by side; then three lines of work of about the same length side by side, each block of output
# printed whole when it ends: the end-to-end tier; the unit and integration tiers, then the page's checks; the Python
# and template checks, then the quick benches (a check that they still run: a missed timing goal does not fail them).
# Each line holds one of the three job slots and runs its own steps one after the other (sub-makes, not
# prerequisites, so make cannot hand a line's slot to another line's steps). Each uses its own databases and ports.
test: ## Every check CI runs
	@$(MAKE) --no-print-directory -j3 --output-sync=target install tools frontend-build chromium deployed-packages
	@$(MAKE) --no-print-directory -j3 --output-sync=target e2e tiers-then-page-checks checks-then-benches

checks: lint typecheck validate openapi-check frontend-check ## The static checks: ruff, mypy, sam validate, OpenAPI, the page's

# Beside the test tiers the two cores are busy already: the quick benches run one at a time there
checks-then-benches: install ## ruff, mypy, sam validate and the OpenAPI check, then the quick benches
	@$(MAKE) --no-print-directory lint typecheck validate openapi-check
	@$(MAKE) --no-print-directory bench-quick BENCH_LANES=1

tiers: install ## The test tiers in order: unit, integration, end-to-end
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory e2e

tiers-then-page-checks: install ## The unit tier, the integration tier, then the page's checks
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory frontend-check

# uv installs the same packages as pip in a fraction of the time; pip takes over if uv can't reach an index.
UV_INSTALL = $(VENV)/bin/uv pip install --quiet --python
install: $(VENV)/.installed ## The project's virtualenv (.venv) with its dev dependencies
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet uv
	$(UV_INSTALL) $(VENV)/bin/python -e '.[dev]' || $(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# Built once per change, then found by the tests and benches that need them: the CoreLayer as its recipe builds it for
# this machine (local/layer.py), and the packages a deployed function imports (bench/lambda_packages.py).
deployed-packages: install ## The CoreLayer built by its recipe for this machine, and the deployed functions' packages
	$(PY) -m local.layer
	$(PY) -m bench.lambda_packages

# SAM CLI pins its own boto3 and click, so it lives in its own environment, not in the project's.
tools: $(TOOLS)/.installed ## SAM CLI in its own virtualenv (.venv-tools)
$(TOOLS)/.installed: | $(VENV)/.installed
	$(PYTHON) -m venv $(TOOLS)
	$(UV_INSTALL) $(TOOLS)/bin/python 'aws-sam-cli==$(SAM_CLI_VERSION)' \
		|| $(TOOLS)/bin/pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'
	touch $@

lint: install ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install ## mypy of layers/core, functions, local and bench
	$(VENV)/bin/mypy layers/core functions local bench

validate: tools ## sam validate --lint of both templates (no AWS account or Docker needed)
	$(SAM) validate --lint --region eu-west-1 --template template.yaml
	$(SAM) validate --lint --region eu-west-1 --template $(FRONTEND)/hosting.yaml

openapi: install ## Regenerate docs/openapi.json from the handlers
	$(PY) -m local.openapi

openapi-check: install ## Fail when docs/openapi.json is stale
	$(PY) -m local.openapi --check

unit: install ## The unit tests (no I/O)
	$(PY) -m pytest tests/unit -q

integration: install deployed-packages ## The integration tests (PostgreSQL, moto, the simulators)
	$(PY) -m pytest tests/integration -q

e2e: install frontend-build chromium ## HTTP and real-browser tests against the local stack
	$(PY) -m pytest tests/e2e -q

frontend-install: $(FRONTEND)/node_modules/.installed ## npm ci of the page (frontend/)
$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20+ and npm are needed for the page (frontend/)"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend-check: frontend-install ## Type check, lint and component tests of the page
	cd $(FRONTEND) && node_modules/.bin/tsc --noEmit -p tsconfig.json
	cd $(FRONTEND) && node_modules/.bin/eslint --max-warnings=0 .
	cd $(FRONTEND) && node_modules/.bin/vitest run

frontend-build: $(FRONTEND)/dist/index.html ## The production build of the page, with its JavaScript budget check
# A file target, rebuilt only when a source changed: the benches and the browser tests, side by side, share one build.
$(FRONTEND)/dist/index.html: $(FRONTEND)/node_modules/.installed $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
		$(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig.json $(FRONTEND)/package.json \
		$(FRONTEND)/scripts/check-budget.mjs
	cd $(FRONTEND) && npm run --silent build
	touch $@

# Debian's Chromium drives the browser tests; nothing downloads a browser.
chromium: $(CHROMIUM) ## Debian's Chromium for the browser tests (apt-get)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null

bench: install frontend-build chromium deployed-packages ## Every bench in full: ratios against same-run baselines, written to bench/results.json
	$(PY) -m bench

bench-quick: install frontend-build chromium deployed-packages ## Every bench with fewer samples, two at a time (make test runs it): fails only if a bench breaks
	$(PY) -m bench --quick $(if $(BENCH_LANES),--lanes $(BENCH_LANES))

token: install ## A development JWT for the local stack: make token TENANT=acme (READ_ONLY=1: without integrations:write)
	@$(PY) -m local.dev_tokens --tenant $(TENANT) $(if $(READ_ONLY),--read-only)

redrive: install ## Move dead letters back: make redrive DLQ=<dead-letter queue url> QUEUE=<source queue url>
	$(PY) -m local.redrive --dlq-url '$(DLQ)' --queue-url '$(QUEUE)'

build: tools ## sam build (needs python3.13 with pip on PATH for the arm64 layer's recipe, no Docker)
	$(SAM) build --template template.yaml

deploy: build ## First deploy: make deploy; it asks for the parameters and saves them to samconfig.toml
	$(SAM) deploy --guided

PAGE_STACK ?= whatsapp-integrations-page
WAF_RATE ?= 0
deploy-page: tools frontend-build ## The page on S3 + CloudFront: make deploy-page API_URL=https://... [EMBEDDERS=https://app.example.com] [API_DOMAIN=<API host>] [WAF_RATE=<requests per 5 min per IP; us-east-1 only>]
	$(SAM) deploy --template-file $(FRONTEND)/hosting.yaml --stack-name $(PAGE_STACK) --no-confirm-changeset \
		--no-fail-on-empty-changeset --parameter-overrides ApiBaseUrl='$(API_URL)' EmbedderOrigins='$(EMBEDDERS)' \
		ApiDomainName='$(API_DOMAIN)' WafRequestsPer5MinPerIp='$(WAF_RATE)'
	$(PY) -m local.deploy_page --stack-name $(PAGE_STACK)

clean: ## Remove the virtualenvs, .local (the local database and dev JWT key), builds and caches
	rm -rf $(VENV) $(TOOLS) .local .aws-sam .pytest_cache .mypy_cache .ruff_cache $(FRONTEND)/node_modules $(FRONTEND)/dist
