"""Praise for the agent in what the customer says: the evidence behind a recognition.

A delighted customer is not enough: "I love the new app" or "we've just had a baby" is joy about
something the agent did not do, and "thanks, bye" is politeness. What counts is praise *aimed at
the agent or at what they did*: "you've been so helpful", "thank you so much for sorting that",
"you're a star", "best service I've ever had", "I'll tell your manager how good you were".
Sarcasm and negation undo it ("thanks for nothing", "you haven't been helpful").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from extension.text.domain.spans import Span, Utterance

_PRAISE_WORD = (r"(?:helpful|brilliant|amazing|fantastic|great|wonderful|patient|kind|lovely|"
                r"excellent|superb|outstanding|incredible|a star|an absolute star|a lifesaver|a life saver|"
                r"a legend|a genius|a gem|the best|really good at your job|so good|very good)")
_INTENSIFIED_THANKS = (r"(?:thank you|thanks)(?: (?:so|ever so|very|really|so so) much| a million| a lot|"
                       r" so much| ever so much)")
# plain "thanks for your help" is politeness; a named deed or "all your help" is praise
_DEED = (r"(?:sorting|fixing|being so|going above|taking the time|explaining|"
         r"your patience|all your help|everything you|sorting it|making that|doing that|stay(?:ing)? on)")

PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(p, re.I) for p in (
    # "you've been so helpful", "you are a star", "you're really good at your job"
    rf"\byou(?:'ve| have)? (?:been |are |'re )?(?:so |really |very |incredibly |absolutely |honestly |"
    rf"such |just )*{_PRAISE_WORD}\b",
    r"\byou(?:'re| are) (?:an? )?(?:absolute |real |total )?(?:star|legend|lifesaver|genius|gem|hero)\b",
    # "thank you so much [for sorting that]", "thanks a million"
    rf"\b{_INTENSIFIED_THANKS}\b",
    rf"\b(?:thank you|thanks) for {_DEED}",
    # "I really appreciate it / everything you've done"
    r"\b(?:really|truly|so) appreciate (?:it|that|this|you|everything|all)\b",
    # "best (customer) service I've ever had", "brilliant service"
    r"\bbest (?:customer )?(?:service|call|help|experience)\b",
    rf"\b{_PRAISE_WORD} (?:service|help|job|work)\b",
    # "you made my day", "you've saved my holiday", "you made that so easy"
    r"\byou(?:'ve)? (?:made|saved) (?:my|that|it|this)\b",
    r"\b(?:above and beyond|can't thank you enough|cannot thank you enough)\b",
    # "pass my thanks to your manager", "I'll tell your supervisor how helpful you've been"
    r"\b(?:pass (?:on )?my (?:thanks|compliments)|tell your (?:manager|supervisor|boss) how)\b",
))
_UNDO = re.compile(r"\b(?:not|never|haven't|hasn't|weren't|wasn't|isn't|aren't|no help|for nothing|"
                   r"i suppose|whatever)\b", re.I)
_CLAUSE = re.compile(r"[.!?;]")


def praise_for_agent(utterances: Sequence[Utterance], *, party: str = "customer") -> list[Span]:
    """Spans of the customer praising the agent; a clause that negates or sneers does not count."""
    spans: list[Span] = []
    for index, utterance in enumerate(utterances):
        if utterance.party != party:
            continue
        text = utterance.text
        for pattern in PATTERNS:
            for match in pattern.finditer(text):
                if _undone(text, match.start(), match.end()):
                    continue
                if any(s.utterance == index and s.start < match.end() and match.start() < s.end
                       for s in spans):
                    continue
                spans.append(Span(utterance=index, start=match.start(), end=match.end(),
                                  kind="agent_praise", text=match.group(),
                                  detail={"pattern": PATTERNS.index(pattern)}))
    return sorted(spans, key=lambda s: (s.utterance, s.start))


def _undone(text: str, start: int, end: int) -> bool:
    """A negation or a sneer in the praise's own clause ("you haven't been helpful",
    "thanks for nothing", "thanks I suppose")."""
    before = _CLAUSE.split(text[:start])[-1]
    after = _CLAUSE.split(text[end:])[0]
    return bool(_UNDO.search(before + " " + text[start:end] + " " + after))
