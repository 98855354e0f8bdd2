# 政协提案办理系统 — `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format migrate demo messages fonts bench load clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Development server on the embedded SQLite database, with the demo data.
run: install fonts
	mkdir -p var
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py load_demo
	DJANGO_DEBUG=1 DJANGO_SITE_URL=$${DJANGO_SITE_URL:-http://$(HOST):$(PORT)} \
		$(PY) manage.py runserver $(HOST):$(PORT)

migrate: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput

demo: migrate
	DJANGO_DEBUG=1 $(PY) manage.py load_demo

# The whole suite, on every core; on PostgreSQL when DATABASE_URL is set, else on SQLite.
test: install
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The pages under load on a throwaway PostgreSQL database with 100,000 generated proposals,
# beside a bare-Django floor; prints a table and writes var/bench-<time>.md (bench/README.md).
bench: install
	$(PY) bench/run.py

# A bounded load test (LOAD_SECONDS, default 300) on a throwaway PostgreSQL database: 64 readers,
# 200 proposers submitting receipts at once, staff assigning 300 proposals in bulk; stops by
# itself, prints req/s, p50/p95 and 5xx, checks every receipt stored once (bench/README.md).
load: install
	$(PY) bench/load.py

# Regenerate and compile the zh_Hans catalog (needs GNU gettext).
messages: install
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --no-obsolete --no-location \
		--ignore=.venv --ignore=staticfiles --ignore=var --ignore=tests
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# CJK fonts for the printable reply letters, where they are missing and we may install
# them (Debian, as root); otherwise a reminder. Never fatal.
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || \
	  ( [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk ) || \
	  echo "PDF letters need a CJK font: apt-get install fonts-noto-cjk (see README)."

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
