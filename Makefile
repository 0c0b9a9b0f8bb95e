# provgraph: the two set-up commands are `make demo` and `make test`.
PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
PG       := $(VENV)/bin/provgraph
KIT      := $(PYTHON) services/manage.py
SECRETS  := .services/secrets
PYTEST_ARGS ?=

.PHONY: demo demo-services test venv services-up services-down services-status services-install tools bench bench-aiida lint clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

services-install:
	$(KIT) install

# Debian programs provgraph calls itself (graphviz's dot for `provgraph node graph`)
tools:
	$(KIT) install-tools

services-up: venv
	$(KIT) up
	$(PG) profile from-services $(SECRETS)
	$(PG) -p services storage migrate

services-down:
	$(KIT) down

services-status:
	$(KIT) status

test: venv tools services-up
	$(PY) -m pytest $(PYTEST_ARGS)

demo: venv tools
	$(PY) examples/main_job.py

demo-services: venv services-up
	$(PG) -p services status
	$(PY) examples/services_demo.py

bench: venv services-up
	@for script in $(filter-out bench/_% bench/ingest.py bench/query.py,$(wildcard bench/*.py)); do echo "== $$script"; $(PY) $$script || exit 1; done

# aiida-core in its own virtualenv under bench/, then the same workloads on aiida-core, provgraph sqlite and Neo4j
AIIDA_VENV := bench/.aiida-venv
BENCH_SCALE ?= 1

$(AIIDA_VENV)/.installed:
	rm -rf $(AIIDA_VENV)
	$(PYTHON) -m venv $(AIIDA_VENV)
	$(AIIDA_VENV)/bin/python -m pip install --quiet aiida-core
	touch $@

bench-aiida: venv services-up $(AIIDA_VENV)/.installed
	$(PY) bench/aiida_side_by_side.py --scale $(BENCH_SCALE)

lint: venv
	$(VENV)/bin/ruff check provgraph tests services bench

clean:
	rm -rf $(VENV) build dist *.egg-info
