# The two commands a newcomer needs: `make run` and `make test`. See README.md.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MANAGE := $(PY) manage.py

.PHONY: run test lint format bench install install-dev messages clean

$(VENV)/bin/python:
	@python=$$(./scripts/find-python) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Absolute links (feeds, canonical, preview links, e-mails) follow the port unless SITE_URL is
# set; exported to every command of `make run` (web server and worker alike).
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	DJANGO_DEBUG=1 $(MANAGE) migrate --noinput
	DJANGO_DEBUG=1 $(MANAGE) setup_roles
	DJANGO_DEBUG=1 $(MANAGE) seed_demo --users
	@echo
	@echo "  Press service CMS: http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "  SITE_URL (absolute links): $(SITE_URL)"
	@echo "  Demo logins (password demo-press-2026): admin (superuser), editor and editor2 (Editors), author (Authors)"
	@echo
	@# The background worker (e-mail, scheduled sends) beside the web server; Ctrl-C stops both.
	DJANGO_DEBUG=1 $(MANAGE) db_worker --no-reload --interval 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_DEBUG=1 $(MANAGE) runserver 127.0.0.1:$(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The benchmark (README, "Performance"): local PostgreSQL and Redis, wrk; about 5 minutes.
# BENCH_COUNT=100000 make bench for a larger archive.
bench: $(VENV)/.installed
	$(PY) bench/run.py

messages: $(VENV)/.installed
	DJANGO_DEBUG=1 $(MANAGE) makemessages -l ru --no-location --ignore=.venv --ignore=node_modules
	DJANGO_DEBUG=1 $(MANAGE) compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) test-results .pytest_cache
