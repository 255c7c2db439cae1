"""Predicted satisfaction and resolution: a per-tenant logistic model over interaction features.

Targets (one model each):
- ``satisfaction``: the customer's survey CSAT (1-5) is at or above ``SATISFIED_AT`` (4, i.e.
  "satisfied" or "very satisfied"), fitted on interactions with a survey answer;
- ``resolution``: first-contact resolution (``fcr``) is true, fitted on interactions whose
  resolution is known.

Features: customer and agent sentiment (-1..1), talk/hold/ACW/handle time as ``log(1 + s)``
(durations are skewed; the log keeps one 40-minute call from dominating), transferred (0/1),
all standardised with the training mean and scale (a missing number is imputed with the mean,
i.e. 0 after scaling), plus one-hot channel and inquiry over the categories seen at least
``MIN_CATEGORY`` times (unseen ones encode as all zeros). L2-regularised logistic regression
(scikit-learn), its strength chosen from ``CS`` by 5-fold cross-validated Brier score on the
training data (survey answers are sparse and the signal is weak: an unregularised fit does
worse than the base rate on small tenants). Email is neither fitted nor predicted
(``EXCLUDED_CHANNELS``): its surveys and resolution are not comparable, and kpis.aes then
falls back to AHT for it and says so.

Evaluation: interactions are split by a hash of the conversation id (a stable 80/20), the
model is fitted on 80 % and scored on the held-out 20 % with the Brier score (mean squared
error of the probability), next to the base-rate predictor (the training share of positives
for everyone) and a calibration table by predicted-probability decile. The stored parameters
are then refitted on all the data. Parameters are plain JSON, applied here without sklearn.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np

__all__ = [
    "EXCLUDED_CHANNELS",
    "SATISFIED_AT",
    "TARGETS",
    "evaluate",
    "feature_names",
    "fit",
    "label",
    "predict",
]

SATISFIED_AT = 4.0  # CSAT on a 1-5 scale: 4 and 5 count as satisfied
TARGETS = ("satisfaction", "resolution")
NUMERIC = ("customer_sentiment", "agent_sentiment", "t_talk_ms", "t_hold_ms", "t_acw_ms", "t_handle_ms",
           "transferred")
TIMINGS = frozenset({"t_talk_ms", "t_hold_ms", "t_acw_ms", "t_handle_ms"})
CATEGORICAL = ("channel", "inquiry")
EXCLUDED_CHANNELS = frozenset({"email"})
MIN_CATEGORY = 5
MIN_EXAMPLES = 30  # per class would be stricter; below this total there is nothing to learn
HOLDOUT_SHARE = 0.2
DECILES = 10
CS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # inverse L2 strengths tried
CV_FOLDS = 5


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def label(record: Any, target: str) -> int | None:
    """1/0 outcome of ``target`` for a record, None when unknown (or not modelled: email)."""
    if _get(record, "channel") in EXCLUDED_CHANNELS:
        return None
    if target == "satisfaction":
        csat = _get(record, "csat")
        return None if csat is None else int(csat >= SATISFIED_AT)
    if target == "resolution":
        fcr = _get(record, "fcr")
        return None if fcr is None else int(bool(fcr))
    raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")


def _number(record: Any, name: str) -> float:
    value = _get(record, name)
    if value is None:
        return math.nan
    if name in TIMINGS:
        return math.log1p(max(float(value), 0.0) / 1000.0)
    return float(value)


def _raw_numeric(records: Sequence[Any]) -> np.ndarray:
    return np.array([[_number(r, name) for name in NUMERIC] for r in records], dtype=float).reshape(
        len(records), len(NUMERIC))


def _vocabularies(records: Sequence[Any]) -> dict[str, list[str]]:
    vocab = {}
    for name in CATEGORICAL:
        counts = Counter(_get(r, name) for r in records)
        vocab[name] = sorted(str(v) for v, n in counts.items() if v is not None and n >= MIN_CATEGORY)
    return vocab


def _design(records: Sequence[Any], params: Mapping[str, Any]) -> np.ndarray:
    """Standardised numerics (mean-imputed) followed by the one-hot categories."""
    raw = _raw_numeric(records)
    means, scales = np.array(params["means"]), np.array(params["scales"])
    raw = np.where(np.isnan(raw), means, raw)
    blocks = [(raw - means) / scales]
    for name in CATEGORICAL:
        index = {value: i for i, value in enumerate(params["vocabularies"][name])}
        onehot = np.zeros((len(records), len(index)))
        for row, record in enumerate(records):
            position = index.get(str(_get(record, name)))
            if position is not None:
                onehot[row, position] = 1.0
        blocks.append(onehot)
    return np.hstack(blocks)


def feature_names(params: Mapping[str, Any]) -> list[str]:
    names = [f"log1p_{n[:-3]}_s" if n in TIMINGS else n for n in NUMERIC]
    for name in CATEGORICAL:
        names += [f"{name}={value}" for value in params["vocabularies"][name]]
    return names


def _scaler(records: Sequence[Any]) -> tuple[list[float], list[float]]:
    raw = _raw_numeric(records)
    means = _nanmean(raw)
    filled = np.where(np.isnan(raw), means, raw)
    scales = filled.std(axis=0)
    scales = np.where(scales > 1e-12, scales, 1.0)
    return means.tolist(), scales.tolist()


def _nanmean(raw: np.ndarray) -> np.ndarray:
    counts = (~np.isnan(raw)).sum(axis=0)
    totals = np.where(np.isnan(raw), 0.0, raw).sum(axis=0)
    return np.where(counts > 0, totals / np.maximum(counts, 1), 0.0)


def _fit_params(records: Sequence[Any], labels: np.ndarray, *, target: str) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegressionCV

    means, scales = _scaler(records)
    params: dict[str, Any] = {"target": target, "means": means, "scales": scales,
                              "vocabularies": _vocabularies(records), "numeric": list(NUMERIC),
                              "categorical": list(CATEGORICAL)}
    if len(set(labels.tolist())) < 2:  # one class only: the base rate is all there is
        params.update(coefficients=[0.0] * len(feature_names(params)),
                      intercept=_logit(float(labels.mean())))
        return params
    model = LogisticRegressionCV(Cs=list(CS), cv=CV_FOLDS, scoring="neg_brier_score", l1_ratios=(0.0,),
                                 use_legacy_attributes=False, max_iter=1000)
    model.fit(_design(records, params), labels)
    params.update(coefficients=[float(c) for c in model.coef_[0]], intercept=float(model.intercept_[0]),
                  C=float(np.ravel(model.C_)[0]))
    return params


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def predict(params: Mapping[str, Any], records: Sequence[Any]) -> list[float | None]:
    """Probabilities of the target for each record; None for excluded channels (email)."""
    records = list(records)
    keep = [i for i, r in enumerate(records) if _get(r, "channel") not in EXCLUDED_CHANNELS]
    result: list[float | None] = [None] * len(records)
    if not keep:
        return result
    design = _design([records[i] for i in keep], params)
    scores = design @ np.array(params["coefficients"]) + params["intercept"]
    probabilities = 1.0 / (1.0 + np.exp(-scores))
    for i, p in zip(keep, probabilities.tolist(), strict=True):
        result[i] = p
    return result


def held_out(conversation_id: str) -> bool:
    """Stable 20 % test split: the same interaction is always on the same side."""
    digest = hashlib.sha256(str(conversation_id).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < HOLDOUT_SHARE


def brier(predicted: Sequence[float], observed: Sequence[int]) -> float | None:
    if not observed:
        return None
    return math.fsum((p - o) ** 2 for p, o in zip(predicted, observed, strict=True)) / len(observed)


def calibration(
    predicted: Sequence[float], observed: Sequence[int], *, bins: int = DECILES
) -> list[dict[str, Any]]:
    """Equal-count bins by predicted probability: mean predicted vs observed share per bin."""
    pairs = sorted(zip(predicted, observed, strict=True))
    table = []
    for b in range(bins):
        chunk = pairs[len(pairs) * b // bins: len(pairs) * (b + 1) // bins]
        if chunk:
            table.append({"decile": b + 1, "n": len(chunk),
                          "predicted": math.fsum(p for p, _ in chunk) / len(chunk),
                          "observed": sum(o for _, o in chunk) / len(chunk)})
    return table


def evaluate(records: Iterable[Any], *, target: str) -> dict[str, Any] | None:
    """Fit on the 80 % split, score on the held-out 20 %, refit on everything.

    Returns ``{"params", "n", "n_train", "n_test", "brier", "brier_base", "base_rate",
    "calibration"}`` or None when fewer than ``MIN_EXAMPLES`` labelled records exist.
    """
    labelled = [(r, y) for r in records if (y := label(r, target)) is not None]
    if len(labelled) < MIN_EXAMPLES:
        return None
    train = [(r, y) for r, y in labelled if not held_out(_get(r, "conversation_id"))]
    test = [(r, y) for r, y in labelled if held_out(_get(r, "conversation_id"))]
    report: dict[str, Any] = {"n": len(labelled), "n_train": len(train), "n_test": len(test),
                              "brier": None, "brier_base": None, "calibration": []}
    if train and test:
        model = _fit_params([r for r, _ in train], np.array([y for _, y in train]), target=target)
        observed = [y for _, y in test]
        # labelled records are never of an excluded channel, so no prediction is None
        predicted = cast(list[float], predict(model, [r for r, _ in test]))
        base = sum(y for _, y in train) / len(train)
        report.update(brier=brier(predicted, observed), brier_base=brier([base] * len(test), observed),
                      calibration=calibration(predicted, observed))
    labels = np.array([y for _, y in labelled])
    report["base_rate"] = float(labels.mean())
    report["params"] = _fit_params([r for r, _ in labelled], labels, target=target)
    return report


def fit(records: Iterable[Any], *, fitted_at: datetime) -> dict[str, dict[str, Any] | None]:
    """Both targets; each the :func:`evaluate` report with ``threshold``/``fitted_at`` in params."""
    records = list(records)
    result: dict[str, dict[str, Any] | None] = {}
    for target in TARGETS:
        report = evaluate(records, target=target)
        if report is not None:
            report["params"].update(threshold=SATISFIED_AT if target == "satisfaction" else None,
                                    fitted_at=fitted_at.isoformat(), n=report["n"],
                                    brier=report["brier"], brier_base=report["brier_base"])
        result[target] = report
    return result
