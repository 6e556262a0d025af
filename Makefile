# Set-up and everyday commands.  `make play` and `make test` each build the
# virtual environment they need from nothing.
#
# torch: without an NVIDIA GPU we install the CPU build first, so pip never
# pulls the multi-GB CUDA build.  TORCH and TORCH_PIP_ARGS choose another
# build (for instance TORCH_PIP_ARGS="--index-url <your CPU wheel index>").

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
BIN := $(VENV)/bin

.PHONY: play test bench ratings clean

play: $(VENV)/.installed
	$(BIN)/azero play

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -q

bench: $(VENV)/.installed
	$(BIN)/azero bench

# The arena games behind checkpoints/RATINGS.md, then the card itself.  Resumable: games already in
# the database are not played again, so after a checkpoint changes only its games are new.
RATINGS_DB ?= checkpoints/arena.sqlite
ARENA := $(BIN)/azero arena run --db $(RATINGS_DB) --games 40 --no-progress
ratings: $(VENV)/.installed
	$(ARENA) --candidate az:checkpoints/gomoku8.safetensors:sims=400 pure:5000 heuristic
	$(ARENA) --candidate az:checkpoints/gomoku9.safetensors:sims=400 pure:10000 heuristic
	$(ARENA) --candidate az:checkpoints/gomoku9.safetensors:sims=400 az:checkpoints/previous/gomoku9-v1.safetensors:sims=400
	$(ARENA) --candidate az:checkpoints/gomoku15.safetensors:sims=800 pure:10000 heuristic
	$(ARENA) --candidate az:checkpoints/gomoku15.safetensors:sims=200 az:checkpoints/previous/gomoku15-v2.safetensors:sims=200
	# The window's other levels (easy: 32 simulations; max: 5 s a move), for the Elo each level shows.
	$(ARENA) --games 20 --candidate az:checkpoints/gomoku15.safetensors:sims=32 heuristic az:checkpoints/gomoku15.safetensors:sims=200:vct=0
	$(ARENA) --games 10 --candidate az:checkpoints/gomoku15.safetensors:time=5 heuristic az:checkpoints/gomoku15.safetensors:sims=800:vct=0
	$(ARENA) --candidate az:checkpoints/renju15.safetensors:sims=400 pure:10000 heuristic
	$(ARENA) --candidate az:checkpoints/renju15.safetensors:sims=400 az:checkpoints/previous/renju15-v1.safetensors:sims=400
	$(BIN)/azero arena card --db $(RATINGS_DB) --readme README.md

$(VENV)/.torch:
	$(PYTHON) -m venv $(VENV)
	if command -v nvidia-smi >/dev/null 2>&1; then \
		$(BIN)/python -m pip install --quiet torch; \
	else \
		$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH)"; \
	fi
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
