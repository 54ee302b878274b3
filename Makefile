# The commands README names. Everything installs into .venv; nothing global is touched.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app studyhall

.PHONY: run install install-dev test fuzz chaos lint bench translations babel-extract clean

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

# The suite in TEST_WORKERS pytest-xdist processes (one per core of CI's two), each with
# its own SQLite file, PostgreSQL database (TEST_DATABASE_URL's name + _gw0, _gw1, made on
# first use) and instance folder; TEST_WORKERS=0 runs it in one process, as `pytest` does.
TEST_WORKERS ?= 2
test: install-dev
	$(BIN)/pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS))

# The parsers fuzzed with the long hypothesis budget (tests/fuzz/budget.py): 100,000 inputs
# per parser unless FUZZ_EXAMPLES says otherwise, and the hostile-input walks whole (every
# payload into every field, HOSTILE=full); hours, not part of `make test`.
fuzz: install-dev
	FUZZ=long $(BIN)/pytest tests/fuzz tests/app/test_fuzz_roster_plan.py \
		tests/app/test_hostile_inputs.py tests/app/test_hostile_edit.py tests/app/test_hostile_json.py \
		tests/app/test_hostile_uploads.py tests/app/test_hostile_forms.py -x --hypothesis-show-statistics

# Faults under load (RELIABILITY.md "Faults" and "Editor during a burst"): kill -9 of
# gunicorn workers and of imports, the database locked or stopped, a full disk, an editor
# during a burst of starts. Each script prints what it tried and what held and exits 1 if
# anything did not; bounded (1-3 minutes each, ~20 in all on two cores). SQLite always;
# PostgreSQL too with BENCH_DATABASE_URL (a database whose name ends in _test: its schema
# is dropped). chaos_database starts a PostgreSQL cluster of its own and chaos_disk mounts
# a tmpfs: both need root. Not part of `make test`.
CHAOS_DB ?= $(if $(BENCH_DATABASE_URL),both,sqlite)
chaos: install-dev $(VENV)/.installed-bench
	PYTHONPATH=.:bench $(BIN)/python bench/chaos_kill.py --db $(CHAOS_DB)
	PYTHONPATH=.:bench $(BIN)/python bench/chaos_import.py --db $(CHAOS_DB)
	PYTHONPATH=.:bench $(BIN)/python bench/chaos_database.py --db both
	PYTHONPATH=.:bench $(BIN)/python bench/chaos_disk.py
	PYTHONPATH=.:bench $(BIN)/python bench/chaos_editor.py --db $(CHAOS_DB)

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
