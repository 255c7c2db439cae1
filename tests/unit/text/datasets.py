"""Loaders for the hand-written labelled sets in tests/data/text (held-out and training)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from extension.text.domain.spans import Utterance

DATA = Path(__file__).resolve().parents[2] / "data" / "text"
PARTY = {"A": "agent", "C": "customer"}
_UTTERANCE = re.compile(r"^([AC])(?: (\d+) (\d+))?: (.*)$")
_MARK = re.compile(r"\[\[(\w+):(.*?)\]\]")


@dataclass
class Transcript:
    id: str
    labels: dict[str, bool] = field(default_factory=dict)
    utterances: list[Utterance] = field(default_factory=list)
    channel: str | None = None


@dataclass
class PiiSnippet:
    text: str
    expected: list[tuple[str, int, int]]  # (kind, start, end) in ``text``


def _lines(name: str) -> list[str]:
    lines = (DATA / name).read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def labelled_utterances(name: str = "heldout_utterances.tsv") -> list[tuple[str, str, str]]:
    """``(label, party, text)`` rows."""
    return [tuple(line.split("\t", 2)) for line in _lines(name)]


def transcripts(name: str = "heldout_transcripts.txt") -> list[Transcript]:
    result: list[Transcript] = []
    for line in _lines(name):
        if line.startswith("=== "):
            result.append(Transcript(id=line[4:].strip()))
        elif match := _UTTERANCE.match(line):
            party, offset, duration, text = match.groups()
            result[-1].utterances.append(Utterance(
                party=PARTY[party], text=text,
                offset_ms=int(offset) if offset else None, duration_ms=int(duration) if duration else None))
        else:
            key, value = (part.strip() for part in line.split(":", 1))
            if key == "channel":
                result[-1].channel = value
            else:
                result[-1].labels[key] = value == "yes"
    return result


def pii_snippets(name: str = "heldout_pii.txt") -> list[PiiSnippet]:
    snippets = []
    for line in _lines(name):
        text, expected, cursor = "", [], 0
        for match in _MARK.finditer(line):
            text += line[cursor:match.start()]
            expected.append((match.group(1), len(text), len(text) + len(match.group(2))))
            text += match.group(2)
            cursor = match.end()
        snippets.append(PiiSnippet(text=text + line[cursor:], expected=expected))
    return snippets
