# sketch-edge: every target sets itself up first, so a fresh clone needs nothing done by hand.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA ?= synthetic
MODEL ?=
ARTIFACTS ?= artifacts
INSTALLED := $(VENV)/.installed

.PHONY: setup train export bench test test-fast clean

setup: $(INSTALLED)

# Reinstalls only when the dependency pins or the package metadata change.
$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[train,test]'
	touch $@

train: setup
	$(BIN)/sketch-edge train --data "$(DATA)" $(if $(MODEL),--model "$(MODEL)") --out "$(ARTIFACTS)"

# Export trains first when there is no model yet; `make train` retrains on demand.
$(ARTIFACTS)/model.keras: | $(INSTALLED)
	$(MAKE) train

export: setup $(ARTIFACTS)/model.keras
	$(BIN)/sketch-edge export --artifacts "$(ARTIFACTS)"

# The bench shows every artifact, so a recipe that failed its gate is a row there, not a stop.
bench: setup $(ARTIFACTS)/model.keras
	$(BIN)/sketch-edge export --artifacts "$(ARTIFACTS)" --keep-going
	$(BIN)/sketch-edge bench --artifacts "$(ARTIFACTS)"

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf "$(ARTIFACTS)" .pytest_cache build src/*.egg-info
