# Two commands matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench profile screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Outer Loop needs Python 3.11 or newer: make PYTHON=python3.12 ..." if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The configuration is checked last, so its warnings (a base URL no phone can open, W006)
# are the last thing printed before the processes' logs start.
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput --skip-checks
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py check
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start

test: $(STAMP) lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/run.py

profile: $(STAMP)
	TARGET="$(TARGET)" $(BIN)/python bench/profile.py

screenshots: $(STAMP)
	OUTERLOOP_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/test_browser_journeys.py tests/test_hosted_widget_browser.py

clean:
	rm -rf $(VENV) var/static var/broker .pytest_cache .ruff_cache
