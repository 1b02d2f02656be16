# sertools: every target sets itself up first, so each works on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PRESET  ?= default
JOBS    ?= auto
SEEDS   ?= 5
PORT    ?= 8866

WEIGHTS := data/cache/weights/emotion_model.hdf5

.PHONY: setup weights test demo curve sweep lab app book bench clean

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

# -n auto: one single-threaded pytest worker per core (pytest-xdist); --dist loadfile keeps each
# test file on one worker, so a module fixture (the digits and toy runs) trains once. The workers
# share one test cache and run store, whose writes are atomic and locked.
test: setup
	SERTOOLS_PRESET=quick OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n auto --dist loadfile --durations=15 tests

# JOBS=auto: one single-threaded worker per core (the same numbers as JOBS=1, sooner)
demo: setup
	$(BIN)/sertools compare --preset $(PRESET) --seeds $(SEEDS) --jobs $(JOBS) --out results

# The label-budget curve: the five curve methods at 5-60 labels per class (60: the default budget), every budget with every seed
# (3 seeds here; make curve SEEDS=5 for more), beside the converged all-label ceiling -> results/curve/
curve: SEEDS = 3
curve: setup
	$(BIN)/sertools compare --methods supervised,fixmatch,dcmkt_finetune,fusion_consistent,fusion_weighted \
		--preset $(PRESET) --seeds $(SEEDS) --jobs $(JOBS) --budgets 5,10,20,40,60 --out results/curve

# The fusion regime: UA against the corpus's face-voice agreement (lesson 09 shows the figure)
sweep: setup
	$(BIN)/sertools sweep --preset $(PRESET) --seeds 3 --jobs $(JOBS) --out results/sweep

lab: setup
	$(BIN)/jupyter lab notebooks/

# The explorers as one web page, no code shown (Voila), on http://127.0.0.1:$(PORT)/
app: setup
	@$(BIN)/python -c 'import sys; from sertools.config import PRESETS; p = sys.argv[1]; p in PRESETS or sys.exit("make app: PRESET=%s is not a preset; choose one of: %s" % (p, ", ".join(PRESETS)))' "$(PRESET)"
	SERTOOLS_PRESET=$(PRESET) $(BIN)/voila notebooks/app/explorers.ipynb --no-browser --strip_sources=True \
		--port=$(PORT) --Voila.ip=127.0.0.1

# Every lesson executed into a static HTML site, build/book/index.html: on the quick
# preset unless PRESET is given (make book PRESET=default), not the file's default above;
# ONLY=10 (or 00,10) builds only the lessons whose names start with these
BOOK_PRESET = $(if $(filter command line environment,$(origin PRESET)),$(PRESET),quick)
ONLY ?=
book: setup
	$(BIN)/python -m sertools.book --preset $(BOOK_PRESET) --out build/book $(if $(ONLY),--only $(ONLY))

bench: setup
	$(BIN)/python -m sertools.bench

clean:
	rm -rf $(VENV) data/cache results
