"""Key phrases of a conversation (YAKE: unsupervised, statistical, no model to download).

YAKE ranks candidates over the whole conversation; we then locate each phrase in the utterances
so the panel can highlight it. Placeholders left by PII redaction are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from extension.text.domain.spans import Span, Utterance

_PLACEHOLDER = re.compile(r"\[(?:CARD|SSN|NINO|EMAIL|PHONE)\]")


@lru_cache(maxsize=4)
def _extractor(top: int, max_words: int) -> Any:
    import yake  # imported late: the domain package stays importable without the text extra

    return yake.KeywordExtractor(lan="en", n=max_words, top=top, dedupLim=0.7)


def key_phrases(utterances: Sequence[Utterance], *, top: int = 8, max_words: int = 3) -> list[dict[str, Any]]:
    """``[{phrase, score, spans}]``, best first (YAKE: lower score is more relevant)."""
    text = "\n".join(_PLACEHOLDER.sub(" ", u.text) for u in utterances if u.text)
    if not text.strip():
        return []
    results = []
    for phrase, score in _extractor(top, max_words).extract_keywords(text):
        results.append({"phrase": phrase, "score": round(float(score), 5),
                        "spans": _locate(utterances, phrase)})
    return results


def _locate(utterances: Sequence[Utterance], phrase: str) -> list[Span]:
    pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, phrase.split())) + r"\b", re.I)
    return [Span(utterance=index, start=m.start(), end=m.end(), kind="key_phrase", text=m.group())
            for index, utterance in enumerate(utterances) for m in pattern.finditer(utterance.text)]
