"""Where the models and example clips shipped inside the package live."""

from __future__ import annotations

from pathlib import Path

from miserymeter.constants import AUDIO_SUFFIXES

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_PATH = PACKAGE_DIR / "models" / "default.onnx"
YAMNET_MODEL_PATH = PACKAGE_DIR / "models" / "yamnet.onnx"
EXAMPLES_DIR = PACKAGE_DIR / "examples"


def example_clips() -> list[Path]:
    """The bundled example recordings, sorted by name."""
    return sorted(p for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
