# Two commands: `make run` (install, migrate, seed, start everything) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
MAIL_PORT ?= 1025
export PORT MAIL_PORT

.PHONY: run test install install-dev lint typecheck pytest bench bench-smoke migrate demo clean assets translations compile-translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets compile-translations
install-dev: $(VENV)/.installed-dev assets compile-translations

# Languages (docs/languages.md). `make translations` re-extracts every marked string into
# messages.pot and merges it into each catalogue (translators then fill in the new ones);
# the compiled .mo files are built from the .po files on every install.
I18N := petitions/translations
translations: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F $(I18N)/babel.cfg -k _l -k N_ --no-location --sort-output \
		--project petitions --copyright-holder "petitions contributors" -o $(I18N)/messages.pot .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) --no-fuzzy-matching --ignore-obsolete --width 100

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d $(I18N) --statistics

# Front-end libraries come from npm (package-lock.json) and are copied into static/vendor;
# the copies are committed too, so the app still works where npm is absent.
VENDOR := petitions/static/vendor
AXE := tests/browser/vendor/axe.min.js
assets: $(VENDOR)/chart.umd.min.js $(AXE)

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: keeping the committed files in $(VENDOR)"; fi

$(VENDOR)/chart.umd.min.js: node_modules/.package-lock.json
	@if [ -f node_modules/chart.js/dist/chart.umd.min.js ]; then \
		mkdir -p $(VENDOR) && cp node_modules/chart.js/dist/chart.umd.min.js $@; fi

# axe-core (accessibility rules) for the browser tests only: injected by tests/browser, never served.
$(AXE): node_modules/.package-lock.json
	@if [ -f node_modules/axe-core/axe.min.js ]; then \
		mkdir -p $(dir $(AXE)) && cp node_modules/axe-core/axe.min.js $@; fi

migrate: install
	$(BIN)/flask --app petitions db upgrade

demo: migrate
	$(BIN)/flask --app petitions demo

# Without DATABASE_URL/REDIS_URL: SQLite in instance/, a filesystem broker in instance/broker,
# and a local SMTP sink whose mail is readable at /dev/mail. With them set, those are used.
run: install
	@mkdir -p instance/mail
	DEV_MAIL_DIR=$${DEV_MAIL_DIR:-$(CURDIR)/instance/mail} MAIL_SERVER=$${MAIL_SERVER:-127.0.0.1} \
		$(BIN)/flask --app petitions db upgrade
	DEV_MAIL_DIR=$${DEV_MAIL_DIR:-$(CURDIR)/instance/mail} \
		PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)} $(BIN)/flask --app petitions demo
	@echo "Starting the web app, worker, beat and mail sink (quiet; LOG_LEVEL=info for detail)..."
	@# Ctrl-C stops everything; honcho then exits 130, which is how a run ends, not an error.
	@trap 'true' INT; PATH=$(CURDIR)/$(BIN):$$PATH DEV_MAIL_DIR=$${DEV_MAIL_DIR:-$(CURDIR)/instance/mail} \
		PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)} LOG_LEVEL=$${LOG_LEVEL:-warning} WEB_PORT=$(PORT) \
		GRANIAN_LOG_LEVEL=$${LOG_LEVEL:-warning} $(BIN)/honcho -f Procfile.dev start; status=$$?; \
		if [ $$status -ne 0 ] && [ $$status -ne 130 ]; then exit $$status; fi; echo "Stopped."

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check petitions workers tests bench

typecheck: install-dev
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: install-dev
	$(BIN)/pytest

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check petitions workers tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# The commit the signing figure is compared with (issue 14: main before the hot path).
BENCH_AGAINST ?= 9d766bb

bench: install-dev
	$(BIN)/python -m bench.run $(if $(BENCH_AGAINST),--against $(BENCH_AGAINST))
	$(BIN)/python -m bench.cpu
	$(BIN)/python -m bench.emails
	$(BIN)/python -m bench.bench_postcodes

bench-smoke: install-dev
	$(BIN)/python -m bench.run --smoke

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
