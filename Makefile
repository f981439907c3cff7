# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: run test test-e2e install migrate demo translations clean

$(STAMP): requirements.txt
	sh .ci/system-packages.sh --browser
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

# Catalogs are compiled on every run so an edited .po file is never stale.
install: $(STAMP)
	@$(BIN)/pybabel --quiet compile -d appeals/translations

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) seed-demo --if-empty

# The web server and a queue worker together; Ctrl-C stops both.
run: demo
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/pytest -q tests $(PYTEST_ARGS)

test-e2e: install
	sh .ci/system-packages.sh --browser
	$(BIN)/pytest -q tests/e2e $(PYTEST_ARGS)

# Extract new strings and merge them into the kk/ru/en catalogs (then translate; `make install` compiles them).
translations: install
	$(BIN)/pybabel --quiet extract -F appeals/translations/babel.cfg -k _l -k lazy_gettext -o appeals/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel --quiet update -i appeals/translations/messages.pot -d appeals/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache
