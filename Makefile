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
export PYTHONDONTWRITEBYTECODE := 1
TENANT ?= tenant-demo

.PHONY: dev test install tools lint typecheck validate openapi openapi-check unit integration e2e bench token build deploy redrive clean

dev: install ## Run the local stack on http://127.0.0.1:3003 (Ctrl-C stops it)
	$(PY) -m local.dev

test: install tools lint typecheck validate openapi-check unit integration e2e ## Every check CI runs

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# SAM CLI pins its own boto3 and click, so it lives in its own environment, not in the project's.
tools: $(TOOLS)/.installed
$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'
	touch $@

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy layers/core functions local

validate: tools ## sam validate --lint (no AWS account or Docker needed)
	$(SAM) validate --lint --region eu-west-1 --template template.yaml

openapi: install ## Regenerate docs/openapi.json from the handlers
	$(PY) -m local.openapi

openapi-check: install
	$(PY) -m local.openapi --check

unit: install
	$(PY) -m pytest tests/unit -q

integration: install
	$(PY) -m pytest tests/integration -q

e2e: install
	$(PY) -m pytest tests/e2e -q

bench: install ## Performance ratios against same-run baselines
	$(PY) -m bench.cold_import
	$(PY) -m bench.api_latency
	$(PY) -m bench.list_scaling
	$(PY) -m bench.connect_flow
	$(PY) -m bench.webhook_ingest
	$(PY) -m bench.status_fanout

token: install ## A development JWT for the local stack: make token TENANT=acme
	@$(PY) -m local.dev_tokens --tenant $(TENANT)

redrive: install ## Move dead letters back: make redrive DLQ=<dead-letter queue url> QUEUE=<source queue url>
	$(PY) -m local.redrive --dlq-url '$(DLQ)' --queue-url '$(QUEUE)'

build: tools ## sam build (needs python3.13 on PATH for the arm64 layer, no Docker)
	$(SAM) build --template template.yaml

deploy: build ## First deploy: make deploy; it asks for the parameters and saves them to samconfig.toml
	$(SAM) deploy --guided

clean:
	rm -rf $(VENV) $(TOOLS) .local .aws-sam .pytest_cache .mypy_cache .ruff_cache
