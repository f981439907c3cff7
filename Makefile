# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# Test processes: xdist workers, one per core. The browser tests share one worker (one app server).
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: audit run lint test test-clock test-e2e install install-dev migrate demo translations clean

# Running the app: its libraries only, no browser, no test tools.
$(STAMP): requirements.txt
	sh .ci/system-packages.sh
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

# Tests and tools: requirements-dev.txt (which includes requirements.txt) and Debian's Chromium.
# The browser tests' checkers (axe-core, vnu-jar) come from npm, pinned in tests/e2e/package-lock.json;
# --ignore-scripts: vnu-jar's post-install would download a Java of its own (Debian's is used).
$(DEV_STAMP): $(STAMP) requirements-dev.txt tests/e2e/package-lock.json
	sh .ci/system-packages.sh --browser
	$(BIN)/pip install --quiet -r requirements-dev.txt
	npm ci --prefix tests/e2e --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(DEV_STAMP)

# Catalogs are compiled on every run so an edited .po file is never stale.
install: $(STAMP)
	@$(BIN)/pybabel --quiet compile -d appeals/translations

install-dev: $(DEV_STAMP) install

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) seed-demo --if-empty

# The web server and a queue worker together; Ctrl-C stops both.
run: demo
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# Lint (ruff) and types (mypy over appeals/), both configured in pyproject.toml.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(PYTEST) tests $(PYTEST_ARGS)

# The register, mandates, reports and API tests again with the clock at the edges of the local
# day (tests/conftest.py reads QABYLDAU_TEST_CLOCK); CI runs this after `make test`.
# (Not schemathesis: it fuzzes the API's schema, the same at any hour, and takes minutes.)
CLOCK_TESTS = $(filter-out tests/test_api_schemathesis.py,$(wildcard tests/test_register_*.py tests/test_mandates_*.py tests/test_reports_*.py tests/test_api_*.py))
test-clock: install-dev
	for clock in 00:30 23:30; do QABYLDAU_TEST_CLOCK=$$clock $(PYTEST) $(CLOCK_TESTS) $(PYTEST_ARGS) || exit 1; done

test-e2e: install-dev
	$(PYTEST) tests/e2e $(PYTEST_ARGS)

# Known vulnerabilities in the pinned dependencies (PyPI's advisory database), runtime and dev
# (requirements-dev.txt includes requirements.txt). Needs a network that reaches pypi.org: CI machines
# here cannot (see README); `make audit PIP_AUDIT_ARGS="--vulnerability-service osv"` asks OSV instead.
audit: install-dev
	$(BIN)/pip-audit --strict --progress-spinner off --disable-pip --no-deps -r requirements-dev.txt $(PIP_AUDIT_ARGS)

# Extract new strings and merge them into the kk/ru/en catalogs (then translate; `make install` compiles them).
translations: install
	$(BIN)/pybabel --quiet extract -F appeals/translations/babel.cfg -k _l -k lazy_gettext -o appeals/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel --quiet update -i appeals/translations/messages.pot -d appeals/translations --no-fuzzy-matching --ignore-obsolete --no-wrap

clean:
	rm -rf $(VENV) .pytest_cache
