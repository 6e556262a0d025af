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

.PHONY: play test bench clean

play: $(VENV)/.installed
	$(BIN)/azero play

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -q

bench: $(VENV)/.installed
	$(BIN)/azero bench

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
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
