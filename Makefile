# Steward: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck migrate run worker beat bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Start Steward on SQLite with demo data at http://127.0.0.1:8000
demo: install
	mkdir -p var
	STEWARD_ENV=demo $(PY) manage.py migrate --no-input -v0
	STEWARD_ENV=demo $(PY) manage.py collectstatic --no-input -v0
	STEWARD_ENV=demo $(PY) manage.py seed_demo
	@echo "Steward is starting at http://127.0.0.1:8000 (Ctrl-C to stop)"
	STEWARD_ENV=demo $(PY) manage.py runserver 127.0.0.1:8000

## The whole suite: lint, types, migrations check, SQLite, PostgreSQL, real Celery worker, browser, API fuzzing
test: install
	$(PY) scripts/run_tests.py

lint: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy .

worker: install
	$(VENV)/bin/celery -A steward worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A steward beat --loglevel=INFO --schedule=var/celerybeat-schedule

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var test-artifacts
