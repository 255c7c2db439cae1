"""Sentiment latency per utterance, batched: the learned model (MiniLM int8 + logistic head) vs VADER.

    python -m bench.text_latency [--threads 1] [--repeats 3]

Utterances are the labelled training set (realistic lengths). Prints ms per utterance for a few
batch sizes, best of ``--repeats``; the target for the learned model is < 5 ms batched on CPU.
The first call's encoder load time is printed separately: it is paid once per process.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from extension.text.domain.ml_extra import learned_model_available
from extension.text.domain.sentiment import VaderModel

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "text" / "train_utterances.tsv"
BATCH_SIZES = (1, 16, 64, 256)


def utterances() -> list[str]:
    lines = [line for line in CORPUS.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [line.split("\t", 2)[2] for line in lines]


def ms_per_utterance(model, texts: list[str], *, batch: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for first in range(0, len(texts), batch):
            model.score(texts[first:first + batch])
        best = min(best, time.perf_counter() - started)
    return best * 1000 / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description="text sentiment latency")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = utterances()
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"{len(texts)} utterances, mean {mean_chars:.0f} chars, cpus={os.cpu_count()}")
    vader = VaderModel()
    models = [("vader", vader)]
    if learned_model_available():
        from extension.text.domain.learned import EmbeddingSentimentModel

        learned = EmbeddingSentimentModel(threads=args.threads)
        started = time.perf_counter()
        learned.score(["warm up"])
        print(f"learned model load + first call: {time.perf_counter() - started:.1f} s")
        models.insert(0, ("learned", learned))
    else:
        print("ML extra not installed: VADER only")
    for batch in BATCH_SIZES:
        row = "  ".join(f"{name} {ms_per_utterance(m, texts, batch=batch, repeats=args.repeats):7.3f} ms"
                        for name, m in models)
        print(f"batch {batch:>3}: {row}")


if __name__ == "__main__":
    main()
