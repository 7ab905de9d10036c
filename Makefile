# Rootwatch: `make run` serves the app on SQLite with eager Celery; `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint install install-dev migrate demo worker beat bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(PY) manage.py load_demo

run: demo
	@echo "Rootwatch on http://$(HOST):$(PORT)/  (SQLite in var/, Celery tasks run eagerly, the periodic jobs by run_schedule; Ctrl-C stops)"
	DEBUG=1 $(PY) manage.py run_schedule & trap 'kill $$! 2>/dev/null' EXIT INT TERM; DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff: pyflakes, pycodestyle's errors and warnings, import order, bugbear, pyupgrade ([tool.ruff] in pyproject.toml).
lint: install-dev
	$(VENV)/bin/ruff check .

worker: install
	$(VENV)/bin/celery -A config worker -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info --schedule var/celerybeat-schedule

bench: install-dev
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var *.egg-info
