# sertools: every target sets itself up first, so each works on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PRESET  ?= default

WEIGHTS := data/cache/weights/emotion_model.hdf5

.PHONY: setup weights test demo lab bench clean

setup: $(STAMP) weights

# Re-install only when the dependency list changes (idempotent).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev,egemaps]"
	touch $(STAMP)

# The pretrained FER2013 face teacher (real faces): fetched once, SHA-256 checked;
# offline, setup goes on without it and says how to get it later.
weights: $(STAMP)
	@test -f $(WEIGHTS) || $(BIN)/python -m sertools.fer2013 --optional

test: setup
	SERTOOLS_PRESET=quick OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q tests

demo: setup
	$(BIN)/sertools compare --preset $(PRESET) --seeds 3 --budgets 5,10,30 --out results

lab: setup
	$(BIN)/jupyter lab notebooks/

bench: setup
	$(BIN)/python -m sertools.bench

clean:
	rm -rf $(VENV) data/cache results
