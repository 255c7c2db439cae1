"""Fuzzy phrase matching for compliance statements and prohibited phrases.

A rule lists *core wordings*: the words that make the statement ("this call may be recorded",
"verify your identity"), not every way of dressing them up. Within each sentence we align the
wording's words in order against the sentence's words (each pair compared fuzzily, so ASR slips
and inflections like record/recorded still match), allowing inserted words ("confirm your *full
name and* date of birth"), and require the aligned words to cover most of the wording.

A wording's word may list alternatives in parentheses, ``"(call|chat|conversation) (recorded|
saved)"``: any one of them fills that place (a chat is "saved" or "stored" where a call is
"recorded"). A statement negated inside or just before the match ("this call is *not* recorded",
"I *can't* do anything else") does not count, unless the wording itself is negative
("that's not my problem").

Why not ``partial_ratio(wording, utterance)``: it scores a statement cut off half-way as a perfect
match, because the short utterance aligns inside the long wording. Here a cut-off statement
fails twice over: its missing words lower coverage, and a sentence that ends in a dash or an
ellipsis ("this call may be recorded for quality and-") was interrupted, so it never counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from extension.text.domain.spans import Span, Token, Utterance, tokenize

_SENTENCE = re.compile(r"[^.!?…]*(?:[.!?…]+|$)")
_TRUNCATED = re.compile(r"(?:-|—|–|\.\.\.|…)\s*$")
_SLOT = re.compile(r"\(([^()]*)\)|[^\s()]+")
NEGATIONS = frozenset({"not", "never", "nothing", "cannot", "can't", "won't", "isn't", "aren't",
                       "don't", "doesn't", "didn't", "wasn't", "weren't", "shan't", "mustn't"})
NEGATION_REACH = 3  # tokens before the match that can still negate it


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
        hits.extend(h for w in rule.wordings
                    if (h := _align(tokens, w, rule.threshold)) and h.coverage >= rule.threshold
                    and (_says_no(w) or not _negated(tokens, h)))
    return max(hits, key=lambda h: h.coverage, default=None)


def _sentences(text: str) -> list[re.Match[str]]:
    return [m for m in _SENTENCE.finditer(text) if m.group().strip()]


def _says_no(wording: str) -> bool:
    """A wording that is itself negative ("not my problem") is not undone by its own "not"."""
    return any(t.norm in NEGATIONS for t in tokenize(wording))


def _negated(tokens: list[Token], hit: _Hit) -> bool:
    inside = [i for i, t in enumerate(tokens) if hit.start <= t.start < hit.end]
    if not inside:
        return False
    reach = tokens[max(0, inside[0] - NEGATION_REACH):inside[-1] + 1]
    return any(t.norm in NEGATIONS for t in reach)


@lru_cache(maxsize=4096)
def _slots(wording: str) -> tuple[tuple[str, ...], ...]:
    """A wording's places, each with its alternatives: "(a|b) c" -> (("a", "b"), ("c",))."""
    slots: list[tuple[str, ...]] = []
    for match in _SLOT.finditer(wording):
        if match.group(1) is not None:
            options = tuple(t.norm for part in match.group(1).split("|") for t in tokenize(part)[:1])
            if options:
                slots.append(options)
        else:
            slots.extend((t.norm,) for t in tokenize(match.group()))
    return tuple(slots)


@lru_cache(maxsize=65536)
def _same_slot(word: str, options: tuple[str, ...]) -> bool:
    return any(_same_word(word, option) for option in options)


def _weight(options: tuple[str, ...]) -> float:
    return sum(map(len, options)) / len(options)


@lru_cache(maxsize=65536)
def _same_word(left: str, right: str) -> bool:
    # Short words must match exactly ("can" is not "could"); longer ones may differ by a letter
    # or an ending ("record"/"recorded", "recieve"/"receive").
    if min(len(left), len(right)) <= 3:
        return left == right
    return fuzz.ratio(left, right) >= 80


def _align(tokens: list[Token], wording: str, threshold: float = 0.0) -> _Hit | None:
    """Longest in-order fuzzy alignment of the wording's words into the sentence, weighted by
    word length; the matched stretch may be at most twice the wording's length (plus two).
    ``threshold``: below this coverage there is no hit, so the search stops early."""
    words = _slots(wording)
    if not tokens or not words:
        return None
    weights = [_weight(options) for options in words]
    total = sum(weights)
    same = [[_same_slot(t.norm, options) for options in words] for t in tokens]
    present = sum(w for j, w in enumerate(weights) if any(row[j] for row in same))
    if present == 0 or present / total < threshold:
        return None
    reach = 2 * len(words) + 2
    pairs = _lcs_pairs(same, weights)
    if not pairs or sum(weights[j] for _, j in pairs) / total < threshold:
        return None
    found = _hit(tokens, 0, pairs, weights, wording, reach)
    if found is not None or len(tokens) <= reach:
        return found
    # the words were all said, but spread out: look for them close together instead
    # ("your card's *security* ... *security code*")
    windows = (_hit(tokens, i, _lcs_pairs(same[i:i + reach], weights), weights, wording, reach)
               for i in range(len(tokens) - 1) if any(same[i]))
    return max((h for h in windows if h is not None), key=lambda h: h.coverage, default=None)


def _hit(tokens: list[Token], offset: int, pairs: list[tuple[int, int]], weights: list[float],
         wording: str, reach: int) -> _Hit | None:
    if not pairs:
        return None
    first, last = pairs[0][0] + offset, pairs[-1][0] + offset
    if last - first + 1 > reach:
        return None
    covered = sum(weights[j] for _, j in pairs)
    return _Hit(covered / sum(weights), tokens[first].start, tokens[last].end, wording)


def _lcs_pairs(same: list[list[bool]], weights: list[float]) -> list[tuple[int, int]]:
    """Weighted longest common subsequence over ``same[i][j]`` (sentence word i fills the
    wording's place j); returns matched index pairs."""
    n, m = len(same), len(weights)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below, here = same[i], best[i + 1], best[i]
        for j in range(m - 1, -1, -1):
            take = below[j + 1] + weights[j] if row[j] else 0.0
            here[j] = max(take, below[j], here[j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if same[i][j] and best[i][j] == best[i + 1][j + 1] + weights[j]:
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
