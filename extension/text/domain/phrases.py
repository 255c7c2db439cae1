"""Fuzzy phrase matching for compliance statements and prohibited phrases.

A rule lists *core wordings*: the words that make the statement ("this call may be recorded",
"verify your identity"), not every way of dressing them up. Within each sentence we align the
wording's words in order against the sentence's words (each pair compared fuzzily, so ASR slips
and inflections like record/recorded still match), allowing inserted words ("confirm your *full
name and* date of birth"), and require the aligned words to cover most of the wording.

Why not ``partial_ratio(wording, utterance)``: it scores a statement cut off half-way as a perfect
match, because the short utterance aligns inside the long wording. Here a cut-off statement
fails twice over: its missing words lower coverage, and a sentence that ends in a dash or an
ellipsis ("this call may be recorded for quality and-") was interrupted, so it never counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from extension.text.domain.spans import Span, Token, Utterance, tokenize

_SENTENCE = re.compile(r"[^.!?…]*(?:[.!?…]+|$)")
_TRUNCATED = re.compile(r"(?:-|—|–|\.\.\.|…)\s*$")


@dataclass(frozen=True)
class PhraseRule:
    """A named statement with its core wordings; ``threshold`` is the share (0..1) of a wording's
    characters that must be matched, in order."""

    name: str
    wordings: tuple[str, ...]
    party: str | None = "agent"
    threshold: float = 0.85


@dataclass(frozen=True)
class _Hit:
    coverage: float
    start: int
    end: int
    wording: str


def match_rule(utterances: Sequence[Utterance], rule: PhraseRule) -> list[Span]:
    """Every utterance (of the rule's party) where one of the rule's wordings was said in full."""
    spans = []
    for index, utterance in enumerate(utterances):
        if rule.party and utterance.party != rule.party:
            continue
        hit = best_hit(utterance.text, rule)
        if hit is not None:
            detail = {"rule": rule.name, "wording": hit.wording, "coverage": round(hit.coverage, 3)}
            spans.append(Span(utterance=index, start=hit.start, end=hit.end, kind=rule.name,
                              text=utterance.text[hit.start:hit.end], detail=detail))
    return spans


def best_hit(text: str, rule: PhraseRule) -> _Hit | None:
    hits: list[_Hit] = []
    for sentence in _sentences(text):
        if _TRUNCATED.search(sentence.group()):
            continue
        tokens = [t for t in tokenize(text) if sentence.start() <= t.start < sentence.end()]
        hits.extend(h for w in rule.wordings if (h := _align(tokens, w)) and h.coverage >= rule.threshold)
    return max(hits, key=lambda h: h.coverage, default=None)


def _sentences(text: str) -> list[re.Match[str]]:
    return [m for m in _SENTENCE.finditer(text) if m.group().strip()]


def _same_word(left: str, right: str) -> bool:
    # Short words must match exactly ("can" is not "could"); longer ones may differ by a letter
    # or an ending ("record"/"recorded", "recieve"/"receive").
    if min(len(left), len(right)) <= 3:
        return left == right
    return fuzz.ratio(left, right) >= 80


def _align(tokens: list[Token], wording: str) -> _Hit | None:
    """Longest in-order fuzzy alignment of the wording's words into the sentence, weighted by
    word length; the matched stretch may be at most twice the wording's length (plus two)."""
    words = [t.norm for t in tokenize(wording)]
    if not tokens or not words:
        return None
    pairs = _lcs_pairs([t.norm for t in tokens], words)
    if not pairs:
        return None
    first, last = pairs[0][0], pairs[-1][0]
    if last - first + 1 > 2 * len(words) + 2:
        return None
    covered = sum(len(words[j]) for _, j in pairs)
    return _Hit(covered / sum(map(len, words)), tokens[first].start, tokens[last].end, wording)


def _lcs_pairs(sentence: list[str], words: list[str]) -> list[tuple[int, int]]:
    """Weighted longest common subsequence (fuzzy equality); returns matched index pairs."""
    n, m = len(sentence), len(words)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = best[i + 1][j + 1] + len(words[j]) if _same_word(sentence[i], words[j]) else 0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if _same_word(sentence[i], words[j]) and best[i][j] == best[i + 1][j + 1] + len(words[j]):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def required_statements(utterances: Sequence[Utterance],
                        rules: Sequence[PhraseRule]) -> dict[str, dict[str, Any]]:
    """Per required statement: present or not, and where."""
    result = {}
    for rule in rules:
        spans = match_rule(utterances, rule)
        result[rule.name] = {"present": bool(spans), "spans": spans}
    return result


def prohibited_phrases(utterances: Sequence[Utterance], rules: Sequence[PhraseRule]) -> list[Span]:
    return [span for rule in rules for span in match_rule(utterances, rule)]


def keyword_present(utterances: Sequence[Utterance], *, keywords: Sequence[str],
                    party: str = "agent") -> bool:
    """The naive baseline the acceptance report compares against: any keyword anywhere."""
    text = " ".join(u.text.lower() for u in utterances if u.party == party)
    return any(k in text for k in keywords)
