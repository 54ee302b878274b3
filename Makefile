# The commands README names. Everything installs into .venv; nothing global is touched.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app studyhall

.PHONY: run install install-dev test fuzz lint bench translations babel-extract clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-dev pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile -d translations 2>&1 | grep -v "^compiling" || true

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo ""
	@echo "StudyHall: http://127.0.0.1:$(PORT)  (Ctrl+C stops it)"
	@echo "Demo logins, password studyhall-demo: admin (whole tree), secretary (one general branch), teacher"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install-dev
	$(BIN)/pytest

# The parsers fuzzed with the long hypothesis budget (tests/fuzz/budget.py): 100,000 inputs
# per parser unless FUZZ_EXAMPLES says otherwise; hours, not part of `make test`.
fuzz: install-dev
	FUZZ=long $(BIN)/pytest tests/fuzz tests/app/test_fuzz_roster_plan.py -x --hypothesis-show-statistics

lint: install-dev
	$(BIN)/ruff check .

bench: install-dev $(VENV)/.installed-bench
	$(BIN)/python bench/run_all.py

# Refresh the catalogue after changing user-facing strings, then translate the new
# entries in translations/zh_Hans_CN/LC_MESSAGES/messages.po.
babel-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --no-location --omit-header --sort-output --no-wrap .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --no-wrap

clean:
	rm -rf $(VENV) build *.egg-info test-output
