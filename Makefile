# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run setup test test-setup lint format bench bench-tools clean

run: setup
	$(BIN)/lexo serve

setup: $(VENV)/.installed
	@scripts/system-deps.sh
	@$(BIN)/lexo models migrate --no-hub
	@$(BIN)/lexo models optimize --keep
	@# An editable install leaves LEXO's own modules uncompiled; where PYTHONDONTWRITEBYTECODE
	@# is set, every start would compile them again (~0.1 s of `lexo serve`'s start-up).
	@$(BIN)/python -m compileall -q src/lexo

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LEXO needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[ml,llm,queue]"
	scripts/llama-wheel.sh $(BIN)/python
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

test-setup: $(VENV)/.installed-dev build/tools-venv/bin/podman-compose
	@scripts/system-deps.sh --test
	@scripts/test-services.sh

# podman-compose for tests/test_containers.py, kept out of LEXO's own environment.
build/tools-venv/bin/podman-compose:
	$(PYTHON) -m venv build/tools-venv
	build/tools-venv/bin/pip install --quiet 'podman-compose==1.6.*'

test: test-setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(VENV)/.installed-dev bench-tools
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/ocr.py

# What the benchmarks compare LEXO with, kept out of LEXO's own environment.
bench-tools: .venv-bench/bin/ocrmypdf

.venv-bench/bin/ocrmypdf:
	@scripts/system-deps.sh --bench
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet ocrmypdf

clean:
	rm -rf $(VENV) .venv-bench .pytest_cache .mypy_cache .ruff_cache
