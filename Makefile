# The two commands a newcomer needs: `make demo` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# uv comes from PyPI into a private folder unless the machine already has it.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(DATA_DIR)/dagster

.PHONY: help install spark-jars browser demo test bench ui dashboards dbt lint format clean

help:
	@echo "make demo        build the whole lakehouse on the embedded defaults and print a summary"
	@echo "make test        run the whole test suite (unit, integration, end-to-end)"
	@echo "make bench       performance targets, measured; writes docs/benchmarks.md"
	@echo "make ui          Dagster UI on http://127.0.0.1:3000"
	@echo "make dashboards  Streamlit dashboards on http://127.0.0.1:8501"
	@echo "make dbt ARGS=…  run dbt against the lake, e.g. make dbt ARGS='build -s fct_mrr'"
	@echo "make lint        ruff"
	@echo "make clean       remove data/ (lake, warehouse, PostgreSQL, Dagster history)"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --python $(PYTHON)
	touch $@

dbt_project/target/manifest.json: $(VENV)/.installed $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
	cd dbt_project && ../$(VENV)/bin/dbt parse --profiles-dir . --quiet
	touch $@

# Spark's Delta connector (jars of the installed delta-spark's version) from Maven Central into the local
# Maven repository, where lakehouse/spark.py hands them to Spark; nothing is fetched when they are there.
# `make spark-jars SPARK_S3=1` also fetches S3A (hadoop-aws and the AWS SDK bundle, about 550 MB).
spark-jars: $(VENV)/.installed
	@for artifact in $$($(PY) -m lakehouse.spark missing-jars $(if $(SPARK_S3),--s3)); do \
		command -v mvn >/dev/null || { echo "Maven (mvn) is needed to fetch $$artifact for Spark"; exit 1; }; \
		echo "fetching $$artifact from Maven Central"; \
		mvn -q $${MAVEN_REPO_LOCAL:+-Dmaven.repo.local=$$MAVEN_REPO_LOCAL} dependency:get -Dtransitive=false \
			-Dartifact=$$artifact || exit 1; \
	done

install: $(VENV)/.installed dbt_project/target/manifest.json spark-jars

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME) && touch $@

demo: install $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m orchestration.demo

# The dashboard tests drive a real Chromium: Debian's package, installed when none is on the PATH.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium (Debian) for the browser tests"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends chromium; }

test: install browser
	$(PY) -m pytest -q

bench: install
	$(PY) -m benchmarks.run $(ARGS)

ui: install $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# With LAKEHOUSE_DASHBOARD_AUTH_* set, Streamlit asks for an OpenID Connect login (docs/dashboards.md).
dashboards: install
	secrets="$$($(PY) -m lakehouse.streamlit_auth)" && \
	$(VENV)/bin/streamlit run dashboards/app.py --server.headless true --server.address 127.0.0.1 \
		--server.port 8501 $${secrets:+--secrets.files="$$secrets"}

dbt: install
	$(PY) -m orchestration.dbt.cli $(ARGS)

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

clean:
	rm -rf $(DATA_DIR)
