"""Small metric helpers (no scikit-learn: these tests run without the ML extra)."""

from __future__ import annotations

from collections.abc import Sequence

# Figures collected by the acceptance tests and printed in the terminal summary (conftest.py).
REPORT: list[str] = []


def f1_binary(truth: Sequence[bool], predicted: Sequence[bool]) -> float:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    labels = sorted(set(truth))
    per_label = [f1_binary([t == label for t in truth], [p == label for p in predicted]) for label in labels]
    return sum(per_label) / len(per_label)


def accuracy(truth: Sequence, predicted: Sequence) -> float:
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
