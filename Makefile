# sketch-edge: every target sets itself up first, so a fresh clone needs nothing done by hand.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA ?= synthetic
MODEL ?=
TEACHER ?=
WORKERS ?=
ARTIFACTS ?= artifacts
INSTALLED := $(VENV)/.installed
NODE_MODULES := web/node_modules/.package-lock.json
PORT ?= 8000
BENCH_ARGS ?=
TUNE_MINUTES ?= 10
TARGET ?= litert
TUNE_ARGS ?=
ARM_ARGS ?=
# A Keras classifier trained elsewhere: MODEL_FILE=FILE.keras with DATA=FOLDER (one subfolder of images per class),
# optionally LABELS=FILE (its class order) and INPUT_RANGE=LO,HI (what pixel 0 and 255 become). Then export, bench,
# verify-arm and demo take it into ARTIFACTS instead of training (docs/your-model.md).
MODEL_FILE ?=
LABELS ?=
INPUT_RANGE ?=
ADOPT = $(if $(MODEL_FILE),--model "$(MODEL_FILE)" --data "$(DATA)" $(if $(LABELS),--labels "$(LABELS)") $(if $(INPUT_RANGE),--input-range="$(INPUT_RANGE)"))
TRAINED = $(if $(MODEL_FILE),,$(ARTIFACTS)/model.keras)
TRAINED_FOR := $(ARTIFACTS)/.trained-for

.PHONY: setup web-setup train export verify-arm bench tune demo test test-fast lint clean FORCE

setup: $(INSTALLED)

# Reinstalls only when the dependency pins or the package metadata change.
$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[train,test,openvino,lint,mobile]'
	touch $@

# onnxruntime-web for the demo page, playwright-core for its browser test: exactly the versions in the lock file.
web-setup: $(NODE_MODULES)

$(NODE_MODULES): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

train: setup $(TRAINED_FOR)
	$(BIN)/sketch-edge train --data "$(DATA)" $(if $(MODEL),--model "$(MODEL)") $(foreach t,$(TEACHER),--teacher "$(t)") $(if $(WORKERS),--workers $(WORKERS)) --out "$(ARTIFACTS)"

# Export and bench train first when there is no model yet, or when it was trained for another DATA or MODEL
# than this command asks for; `make train` retrains on demand.
$(ARTIFACTS)/model.keras: $(TRAINED_FOR) | $(INSTALLED)
	$(MAKE) train

# Rewritten only when DATA, MODEL or TEACHER change, so its date says when the request last changed.
$(TRAINED_FOR): FORCE
	@mkdir -p "$(ARTIFACTS)"
	@echo '$(DATA) $(MODEL)$(if $(TEACHER), $(TEACHER))' | cmp -s - "$@" || echo '$(DATA) $(MODEL)$(if $(TEACHER), $(TEACHER))' > "$@"

FORCE:

export: setup $(TRAINED)
	$(BIN)/sketch-edge export --artifacts "$(ARTIFACTS)" $(ADOPT)

# Every exported TFLite, ONNX and .ort file run on emulated Arm cores (qemu user mode, a little and a big core) and
# compared with its x86 answers; the result goes into the manifest (docs/arm.md). The first run builds the emulated
# machine in ~/.cache/sketch-edge/arm (about 30 s and 280 MB); a file beyond one int8 step on any drawing fails.
verify-arm: setup $(TRAINED)
	$(BIN)/sketch-edge export --artifacts "$(ARTIFACTS)" --keep-going $(ADOPT)
	$(BIN)/sketch-edge verify-arm --artifacts "$(ARTIFACTS)" $(ARM_ARGS)

# The bench shows every artifact, so a recipe that failed its gate is a row there, not a stop
# (bench exits 4 when some cells did not run: reported, not fatal here; 3, a failed --min-top1/--max-p50-us gate, is).
bench: setup $(TRAINED)
	$(BIN)/sketch-edge export --artifacts "$(ARTIFACTS)" --keep-going $(ADOPT)
	$(BIN)/sketch-edge bench --artifacts "$(ARTIFACTS)" $(BENCH_ARGS) || test $$? -eq 4

# Candidate models of the search space, each trained, exported to int8 and benched on TARGET, within TUNE_MINUTES;
# run again, it resumes. Writes $(ARTIFACTS)/tune/report.md (the trained model of `make train` is not touched).
tune: setup
	$(BIN)/sketch-edge tune --data "$(DATA)" --out "$(ARTIFACTS)" --budget-minutes $(TUNE_MINUTES) --target $(TARGET) $(TUNE_ARGS)

# The demo page: built from the exported ONNX models, served on localhost only.
demo: setup web-setup $(TRAINED)
	$(BIN)/sketch-edge export --artifacts "$(ARTIFACTS)" --keep-going $(ADOPT)
	$(BIN)/sketch-edge web --artifacts "$(ARTIFACTS)" --serve $(PORT)

# Without npm the web tests skip (with the reason); .ci/run installs Node and Chromium so CI runs them.
test: setup $(if $(shell command -v npm),web-setup)
	$(BIN)/python -m pytest --durations=15

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

# What CI checks before the tests: lint, formatting, and types (settings in pyproject.toml).
lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf "$(ARTIFACTS)" .pytest_cache build src/*.egg-info web/node_modules
