# sertools: every target sets itself up first, so each works on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PRESET  ?= default
JOBS    ?= auto
SEEDS   ?= 5

WEIGHTS := data/cache/weights/emotion_model.hdf5

.PHONY: setup weights test demo sweep lab bench clean

setup: $(STAMP) weights

# Re-install only when the dependency list changes (idempotent).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev,egemaps,cluster]"
	touch $(STAMP)

# The pretrained FER2013 face teacher (real faces): fetched once, SHA-256 checked;
# offline, setup goes on without it and says how to get it later.
weights: $(STAMP)
	@test -f $(WEIGHTS) || $(BIN)/python -m sertools.fer2013 --optional

test: setup
	SERTOOLS_PRESET=quick OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q tests

# JOBS=auto: one single-threaded worker per core (the same numbers as JOBS=1, sooner)
demo: setup
	$(BIN)/sertools compare --preset $(PRESET) --seeds $(SEEDS) --budgets 5,10,30 --jobs $(JOBS) --out results

# The fusion regime: UA against the corpus's face-voice agreement (lesson 08 shows the figure)
sweep: setup
	$(BIN)/sertools sweep --preset $(PRESET) --seeds 3 --jobs $(JOBS) --out results/sweep

lab: setup
	$(BIN)/jupyter lab notebooks/

bench: setup
	$(BIN)/python -m sertools.bench

clean:
	rm -rf $(VENV) data/cache results
