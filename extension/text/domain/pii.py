"""PII redaction: payment cards, national ids (US SSN, UK NI number), emails, phone numbers.

Runs before anything is stored. Numbers are only redacted when they look like the thing they
are: a card must pass Luhn *and* start with a card-scheme prefix (so order numbers that pass
Luhn by chance, one in ten, stay), an SSN must have a valid area/group/serial, an NI number a
valid prefix and suffix, and a phone number a phone-like shape; a reference-type word just before
a number ("order", "tracking", "invoice") vetoes the phone reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from extension.text.domain.spans import Span

# A maximal run of digits with single separators, optionally led by +country and (area): card and
# phone candidates are whole runs, so a 22-digit tracking number is never read as a card or phone
# number hiding inside it.
_NUMBER_RUN = re.compile(r"(?<![\w+(-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d(?:[ .-]?\d)*(?![\w-])")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_NINO = re.compile(r"(?<!\w)([A-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?!\w)", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9_]+(?: (?:dot|underscore) [a-z0-9_]+)* at [a-z0-9-]+(?: dot [a-z0-9-]+)*"
    r" dot (?:com|co dot uk|co uk|org|net|uk|io|ie|de|fr|edu|gov)\b", re.I)
_NANP = re.compile(r"^(?:\+?1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}$")
_REFERENCE_WORDS = re.compile(
    r"\b(?:order|tracking|reference|ref|invoice|case|ticket|account|policy|serial|batch|part|imei|"
    r"booking|claim|meter|reading)\W{0,3}(?:number|no\.?|#|is|:)?\W{0,3}(?:is\W{0,3})?$", re.I)
_PHONE_WORDS = re.compile(r"\b(?:call|phone|mobile|cell|ring|text|reach)\b", re.I)
# Scheme prefixes: Visa, Mastercard (51-55, 2221-2720), Amex, Diners, JCB, Discover, UnionPay.
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|35(?:2[89]|[3-8])|6(?:011|5|4[4-9]|2))")
_SSN_WORDS = re.compile(r"social|ssn|security number|tax", re.I)
_NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
# Every detector needs a digit, an "@" or a spoken "dot": text with none of them (most of what is
# said) skips the six scans. It runs on the webhook receiver's path, for every transcript phrase.
_MAYBE_PII = re.compile(r"\d|@|dot", re.I)

PLACEHOLDERS = {"card": "[CARD]", "ssn": "[SSN]", "nino": "[NINO]", "email": "[EMAIL]", "phone": "[PHONE]"}


@dataclass(frozen=True)
class Redaction:
    text: str
    spans: list[Span]


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_card(match: re.Match[str], text: str) -> bool:
    if "(" in match.group() or match.group().startswith("+"):
        return False
    digits = re.sub(r"\D", "", match.group())
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn_ok(digits)


def _is_ssn(match: re.Match[str], text: str) -> bool:
    area, group, serial = match.group(1), match.group(3), match.group(4)
    if area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000":
        return False
    # Spaced digits are a weaker shape: accept them only near words that announce an SSN.
    return match.group(2) == "-" or bool(_SSN_WORDS.search(_around(text, match)))


def _is_nino(match: re.Match[str], text: str) -> bool:
    prefix = match.group(1).upper()
    if prefix in _NINO_BAD_PREFIX or prefix[0] in "DFIQUV" or prefix[1] in "DFIOQUV":
        return False
    # Upper-case letters only: lower-case lookalikes in chat are product codes far more often.
    return match.group(1).isupper() and match.group(5).isupper()


def _is_phone(match: re.Match[str], text: str) -> bool:
    raw = match.group()
    digits = re.sub(r"\D", "", raw)
    if not 10 <= len(digits) <= 15 or _REFERENCE_WORDS.search(_before(text, match)):
        return False
    if raw.startswith("+"):
        return True
    if digits.startswith("0"):
        # National formats (UK 0xxxx...): 10 or 11 digits.
        return len(digits) in (10, 11)
    # Bare ten-digit runs are phone numbers only when the words around say so.
    return bool(_NANP.match(raw)) or (len(digits) == 10 and bool(_PHONE_WORDS.search(_before(text, match))))


def _before(text: str, match: re.Match[str], width: int = 30) -> str:
    return text[max(0, match.start() - width):match.start()]


def _around(text: str, match: re.Match[str], width: int = 40) -> str:
    return text[max(0, match.start() - width):match.end() + width]


def _always(match: re.Match[str], text: str) -> bool:
    return True


# Order matters: a card is claimed before its digits can be read as a phone number.
_DETECTORS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str], str], bool]], ...] = (
    ("email", _EMAIL, _always),
    ("email", _SPOKEN_EMAIL, _always),
    ("card", _NUMBER_RUN, _is_card),
    ("ssn", _SSN, _is_ssn),
    ("nino", _NINO, _is_nino),
    ("phone", _NUMBER_RUN, _is_phone),
)


def find_pii(text: str, *, utterance: int = 0) -> list[Span]:
    """PII spans in ``text`` (offsets into the original), non-overlapping, in order."""
    if not _MAYBE_PII.search(text):
        return []
    spans: list[Span] = []
    for kind, pattern, accept in _DETECTORS:
        for match in pattern.finditer(text):
            if _overlaps(spans, match.start(), match.end()) or not accept(match, text):
                continue
            spans.append(Span(utterance=utterance, start=match.start(), end=match.end(), kind=kind,
                              text=match.group()))
    return sorted(spans, key=lambda s: s.start)


def _overlaps(spans: list[Span], start: int, end: int) -> bool:
    return any(start < s.end and s.start < end for s in spans)


def redact(text: str, *, utterance: int = 0) -> Redaction:
    """Replace each PII span by its placeholder. Returned spans index the *redacted* text (what is
    stored) and keep the kind, never the original value."""
    pieces, spans, cursor, shift = [], [], 0, 0
    for found in find_pii(text, utterance=utterance):
        placeholder = PLACEHOLDERS[found.kind]
        pieces.append(text[cursor:found.start])
        start = found.start + shift
        spans.append(Span(utterance=utterance, start=start, end=start + len(placeholder), kind=found.kind,
                          text=placeholder, detail={"original_length": found.end - found.start}))
        pieces.append(placeholder)
        shift += len(placeholder) - (found.end - found.start)
        cursor = found.end
    pieces.append(text[cursor:])
    return Redaction(text="".join(pieces), spans=spans)
