# ABC Identity: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
PROD_DIR := var/prod

.PHONY: help install install-dev run prod worker test lint format chromium axe node-deps bench

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed-run: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-run requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed-run ## Create the virtualenv and install the runtime dependencies

install-dev: $(VENV)/.installed-dev ## Install the runtime, test and lint dependencies

run: install ## Migrate, load the demo data and serve on http://127.0.0.1:$PORT (SQLite, eager Celery)
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) manage.py migrate --noinput
	@test -s var/demo-password || $(PY) -c "import secrets; print('Demo-' + secrets.token_urlsafe(12))" > var/demo-password
	@test -s var/demo-client-secret || $(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > var/demo-client-secret
	@DJANGO_SETTINGS_MODULE=config.settings.dev DEMO_PASSWORD="$$(cat var/demo-password)" \
	  DEMO_CLIENT_SECRET="$$(cat var/demo-client-secret)" $(PY) manage.py seed_demo
	@echo
	@echo "  Sign in:    http://127.0.0.1:$(PORT)/login/"
	@echo "  Dashboard:  http://127.0.0.1:$(PORT)/dashboard/  (admin@abcinc.example)"
	@echo "  Password:   $$(cat var/demo-password)   (every demo user; kept in var/demo-password)"
	@echo "  Passkeys:   open http://localhost:$(PORT)/ instead (browsers refuse them on an IP address)"
	@echo "  Batch:      client timesheets-batch, secret in var/demo-client-secret"
	@echo "  Discovery:  http://127.0.0.1:$(PORT)/.well-known/openid-configuration"
	@echo
	DJANGO_SETTINGS_MODULE=config.settings.dev PORT=$(PORT) $(PY) manage.py runserver 127.0.0.1:$(PORT)

prod: install ## Run as production does: gunicorn (https, prod settings), Celery worker and beat, on PostgreSQL + Redis
	@.ci/services
	$(PY) -m tools.prod_local $(PROD_DIR)
	@test -s var/demo-password || $(PY) -c "import secrets; print('Demo-' + secrets.token_urlsafe(12))" > var/demo-password
	@test -s var/demo-client-secret || $(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > var/demo-client-secret
	@set -a && . ./$(PROD_DIR)/env && set +a && \
	  $(PY) manage.py migrate --noinput && \
	  $(PY) manage.py collectstatic --noinput --verbosity 0 && \
	  $(PY) manage.py check --deploy --fail-level WARNING && \
	  DEMO_PASSWORD="$$(cat var/demo-password)" DEMO_CLIENT_SECRET="$$(cat var/demo-client-secret)" \
	    $(PY) manage.py seed_demo && \
	  echo && \
	  echo "  Sign in:    $$OIDC_ISSUER/login/  (self-signed certificate: the browser warns once)" && \
	  echo "  Dashboard:  $$OIDC_ISSUER/dashboard/  (admin@abcinc.example, password in var/demo-password)" && \
	  echo "  Health:     curl -k $$OIDC_ISSUER/health/ready" && \
	  echo "  Metrics:    curl -k -H \"Authorization: Bearer \$$METRICS_TOKEN\" $$OIDC_ISSUER/metrics  (token in $(PROD_DIR)/env)" && \
	  echo
	$(VENV)/bin/honcho --procfile Procfile --env $(PROD_DIR)/env start

worker: install ## Run a Celery worker with beat (needs REDIS_URL; without it tasks run in the web process)
	@test -n "$$REDIS_URL" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0): without a broker tasks run eagerly."; exit 1; }
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.dev} $(VENV)/bin/celery -A config worker --beat -l info

chromium: ## Install Debian's Chromium for the browser tests when it is missing and we can
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing and cannot be installed here: browser tests will be skipped."; fi; }

AXE := .cache/axe/node_modules/axe-core/axe.min.js

axe: $(AXE) ## Install axe-core (npm) for the browser tests' accessibility audit when it is missing and npm exists

$(AXE):
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p .cache/axe && npm install --prefix .cache/axe --no-save --no-audit --no-fund --loglevel=error axe-core@4; \
	else echo "npm is missing: the accessibility browser tests will be skipped."; fi

RELYING_PARTY := .cache/node/node_modules/openid-client/package.json

node-deps: $(RELYING_PARTY) ## Install the certified relying-party libraries (openid-client, jose; npm) the end-to-end tests drive

$(RELYING_PARTY):
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p .cache/node && npm install --prefix .cache/node --no-save --no-audit --no-fund --loglevel=error openid-client@6 jose@6; \
	else echo "npm is missing: the relying-party end-to-end tests will be skipped."; fi

bench: install ## Load-test the server (gunicorn, wrk) beside a certified peer; on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set; BENCH_SECONDS=3 for a quick run
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk is missing and cannot be installed here (Debian: apt-get install wrk)."; exit 1; fi; }
	$(PY) -m bench.run

test: install-dev chromium axe node-deps ## Run the test suite (set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev ## Lint and check formatting with ruff, type-check with mypy; fail on missing migrations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	DATABASE_URL=sqlite://:memory: DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

format: install-dev ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
