"""The trained models that ship with azero (safetensors weights + JSON metadata), with their ratings."""

from pathlib import Path

CHECKPOINT_DIR = Path(__file__).resolve().parent
