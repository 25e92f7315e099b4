# ProductOps: two commands for people (make demo, make test), the rest for maintainers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test lint bench bench-load messages vendor clean

install: $(VENV)/.installed

# One install path for the demo, the tests and CI: a venv, uv from PyPI, the committed lock.
$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --inexact --quiet
	touch $@

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "ProductOps demo: http://127.0.0.1:8000  (stop with Ctrl-C)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# pytest exits 5 when it collected no test: that is a failure here, not a green run.
test: install
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing." >&2; exit 1; fi; exit $$status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	@scripts=$$(ls bench/*.py 2>/dev/null | grep -v -e bench/load.py -e bench/server.py -e bench/locustfile.py); \
	if [ -z "$$scripts" ]; then echo "no benchmark yet (see bench/README.md)"; exit 0; fi; \
	for script in $$scripts; do $(BIN)/python $$script || exit 1; done

bench-load: install
	$(BIN)/python bench/load.py

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore '.venv/*' --ignore 'var/*'

clean:
	rm -rf $(VENV) var/staticfiles
