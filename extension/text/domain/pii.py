"""PII redaction: payment cards, national ids (US SSN, UK NI number), emails, phone numbers, IBANs,
dates of birth and postal addresses, written or spoken.

Runs before anything is stored, on every path (see ``redact``): there is no other redactor.
Numbers are only redacted when they look like the thing they are: a card must pass Luhn *and*
start with a card-scheme prefix (so order numbers that pass Luhn by chance, one in ten, stay), an
IBAN must pass its mod-97 check (python-stdnum), an SSN must have a valid area/group/serial, an NI
number a valid prefix and suffix, and a phone number a phone-like shape; a reference-type word
just before a number ("order", "tracking", "claim", "policy") vetoes the card, phone and SSN
readings. A date is a date of birth only after a birth word ("date of birth", "born", "DOB");
appointment, payment and "customer since" dates stay.

Spoken forms are read too: digit words with "oh" for zero, "double"/"triple" runs and hyphens
("oh seven seven double oh, nine double oh ...") go through the same checks as written digits,
and "name dot surname at domain dot com" is an email. The company's own helpline, returns address
and complaints mailbox ("call our helpline on ...", "write to us at ...") are not personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stdnum import iban as _iban

from extension.text.domain.spans import Span

# A maximal run of digits with single separators, optionally led by +country and (area): card and
# phone candidates are whole runs, so a 22-digit tracking number is never read as a card or phone
# number hiding inside it.
_NUMBER_RUN = re.compile(r"(?<![\w+(-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d(?:[ .-]?\d)*(?![\w-])")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_BARE_SSN = re.compile(r"(?<![\w-])(\d{3})()(\d{2})(\d{4})(?![\w-])")
_NINO = re.compile(r"(?<!\w)([A-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?!\w)", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER_WORD = (r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
                r"seventy|eighty|ninety|hundred|double|triple)")
_EMAIL_PART = rf"[a-z0-9_][a-z0-9_'’]*(?: {_NUMBER_WORD}){{0,3}}"
_SPOKEN_EMAIL = re.compile(
    rf"\b{_EMAIL_PART}(?:(?: (?:dot|underscore|hyphen|dash) |[._-]){_EMAIL_PART})* at [a-z0-9-]+"
    r"(?:(?: dot |\.)[a-z0-9-]+)*"
    r"(?: dot |\.)(?:com|co(?: dot |\.)uk|co uk|org|net|uk|io|ie|de|fr|in|co(?: dot |\.)in|au|"
    r"com(?: dot |\.)au|edu|gov)\b", re.I)
# Role mailboxes are the company's, not a person's: complaints@, support@, returns@ ...
_ROLE_MAILBOX = re.compile(
    r"(?:complaints?|support|help|helpdesk|info|enquiries|inquiries|returns|customerservices?|"
    r"customer[._ -]?(?:service|services|care|support)|service|sales|billing|accounts|noreply|no-reply|"
    r"contact|hello|feedback|privacy|dpo|team|admin)(?:@| at )", re.I)
_IBAN = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){2,8}(?![\w-])", re.I)
_NANP = re.compile(r"^(?:\+?1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}$")
_REFERENCE_WORDS = re.compile(
    r"\b(?:order|tracking|reference|ref|invoice|case|ticket|account|policy|serial|batch|part|imei|"
    r"booking|claim|meter|reading|parcel|consignment|mandate|contract|customer)\W{0,3}"
    r"(?:number|no\.?|#|is|:)?\W{0,3}(?:is\W{0,3})?$", re.I)
_PHONE_WORDS = re.compile(r"\b(?:call|phone|mobile|cell|ring|text|reach|number|landline|handy|"
                          r"handynummer|festnetz|portable|joindre|whatsapp)\b", re.I)
# Scheme prefixes: Visa, Mastercard (51-55, 2221-2720), Amex, Diners, JCB, Discover, UnionPay.
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|35(?:2[89]|[3-8])|6(?:011|5|4[4-9]|2))")
_SSN_WORDS = re.compile(r"social|ssn|security number|tax", re.I)
_NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
# The company's own contact points, said by the agent: "call our helpline on", "write to us at",
# "our returns centre is", "the store on 35 High Street". Looked for in the clause before a value.
_COMPANY = re.compile(
    r"\bour\s+(?:[\w-]+\s+){0,2}(?:helpline|help ?line|hotline|freephone|customer (?:service|services|"
    r"care|support)|complaints?|returns?|head office|registered office|office|warehouse|depot|store|shop|"
    r"branch|team|support|service desk|mailbox|switchboard|lines|website)\b"
    r"|\bthe\s+(?:[\w-]+\s+){0,2}(?:store|shop|branch|depot|warehouse|locker|returns centre|helpline|"
    r"hotline|freephone|switchboard|complaints (?:line|team|department))\b|\bfreepost\b"
    r"|\b(?:call|ring|phone|contact|email|e-mail|write to|text|reach|message|visit|send it to|post it to)"
    r"\s+us\b", re.I)
# Every detector needs a digit, an "@", a (spoken) dot before a domain, a digit word or a birth
# word: text with none of them (most of what is said) skips the scans. It runs on the webhook
# receiver's path.
_MAYBE_PII = re.compile(
    r"\d|@|dot|\.(?:com|co|org|net|io|ie|de|fr|in|au|uk|edu|gov)\b|born|birth|dob"
    r"|\b(?:zero|oh|nought|one|two|three|four|five|six|seven|eight|nine)\b", re.I)

PLACEHOLDERS = {"card": "[CARD]", "ssn": "[SSN]", "nino": "[NINO]", "email": "[EMAIL]", "phone": "[PHONE]",
                "iban": "[IBAN]", "dob": "[DOB]", "address": "[ADDRESS]"}


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


# --- shared checks over a digit string and the words before it ---------------------------------

def _card_digits(digits: str, before: str) -> bool:
    return (13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn_ok(digits)
            and not _REFERENCE_WORDS.search(before))


def _ssn_parts_ok(area: str, group: str, serial: str) -> bool:
    return not (area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000")


def _company_said(text: str, start: int) -> bool:
    return bool(_COMPANY.search(_clause_before(text, start)))


def _clause_before(text: str, start: int, width: int = 60) -> str:
    """The words before ``start`` back to the start of the sentence (at most ``width`` chars)."""
    window = text[max(0, start - width):start]
    cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "), window.rfind("; "))
    return window[cut + 1:] if cut >= 0 else window


# --- written numbers ----------------------------------------------------------------------------

def _is_card(match: re.Match[str], text: str) -> bool:
    if "(" in match.group() or match.group().startswith("+"):
        return False
    return _card_digits(re.sub(r"\D", "", match.group()), _before(text, match))


def _is_ssn(match: re.Match[str], text: str) -> bool:
    if not _ssn_parts_ok(match.group(1), match.group(3), match.group(4)):
        return False
    if _REFERENCE_WORDS.search(_before(text, match)):
        return False
    # Spaced or bare digits are a weaker shape: accept them only near words that announce an SSN.
    if match.group(2) == "-":
        return True
    context = _clause_before(text, match.start()) if not match.group(2) else _around(text, match)
    return bool(_SSN_WORDS.search(context))


def _is_nino(match: re.Match[str], text: str) -> bool:
    prefix = match.group(1).upper()
    if prefix in _NINO_BAD_PREFIX or prefix[0] in "DFIQUV" or prefix[1] in "DFIOQUV":
        return False
    # Upper-case letters only: lower-case lookalikes in chat are product codes far more often.
    return match.group(1).isupper() and match.group(5).isupper()


def _iban_matches(text: str) -> list[tuple[int, int]]:
    """IBAN candidates, trimmed from the end to the longest prefix that passes mod-97 (a spoken or
    typed IBAN is often followed by another upper-case word or number)."""
    found = []
    for match in _IBAN.finditer(text):
        groups = re.finditer(r"[A-Z0-9]+", match.group(), re.I)
        ends = [match.start() + g.end() for g in groups]
        for end in reversed(ends):
            candidate = text[match.start():end]
            compact = re.sub(r"\s", "", candidate)
            if len(compact) >= 15 and _iban.is_valid(compact.upper()):
                found.append((match.start(), end))
                break
    return found


def _is_phone(match: re.Match[str], text: str) -> bool:
    raw = match.group()
    return _phone_digits(re.sub(r"\D", "", raw), text, match.start(), plus=raw.startswith("+"), raw=raw)


def _phone_digits(digits: str, text: str, start: int, *, plus: bool, raw: str | None = None) -> bool:
    before = text[max(0, start - 30):start]
    if not 10 <= len(digits) <= 15 or _REFERENCE_WORDS.search(before) or _company_said(text, start):
        return False
    if plus:
        return True
    if digits.startswith("0"):
        # National formats (UK 0xxxx..., FR 0x xx xx xx xx, DE 0xxx...): 10 or 11 digits, DE to 12.
        return len(digits) in (10, 11, 12)
    if raw is None:  # spoken: a run of ten or more digit words is a phone number unless a reference
        return len(digits) <= 13
    # Bare ten-digit runs are phone numbers only when the words around say so.
    return bool(_NANP.match(raw)) or (len(digits) == 10 and bool(_PHONE_WORDS.search(before)))


def _before(text: str, match: re.Match[str], width: int = 30) -> str:
    return text[max(0, match.start() - width):match.start()]


def _around(text: str, match: re.Match[str], width: int = 40) -> str:
    return text[max(0, match.start() - width):match.end() + width]


def _always(match: re.Match[str], text: str) -> bool:
    return True


def _not_company(match: re.Match[str], text: str) -> bool:
    return not _company_said(text, match.start())


def _personal_email(match: re.Match[str], text: str) -> bool:
    local = re.split(r"@| at ", match.group(), maxsplit=1)[0].lower()
    return (local not in _NOT_A_MAILBOX and not _ROLE_MAILBOX.match(match.group())
            and _not_company(match, text))


# "The portal is at northwind.example.com": the word before "at" is no mailbox.
_NOT_A_MAILBOX = frozenset({
    "is", "are", "was", "were", "be", "been", "it", "its", "that", "this", "here", "there", "me", "us",
    "you", "him", "her", "them", "we", "they", "i", "online", "site", "website", "portal", "page", "app",
    "available", "live", "look", "looking", "go", "log", "logged", "find", "found", "see", "shop", "order"})


# --- spoken digits ------------------------------------------------------------------------------

_DIGIT_WORDS = {"zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
                "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_DIGIT_TOKEN = re.compile(r"\+?\d+|[A-Za-z]+")
_GAP = re.compile(r"[ ,-]{0,3}")


def _spoken_runs(text: str) -> list[tuple[int, int, str]]:
    """Runs of spoken digits (digit words, "oh", "double"/"triple" X, "hundred" after a digit,
    digit groups), joined by spaces, commas or hyphens: (start, end, digits). Only runs with at
    least one word: written runs are _NUMBER_RUN's."""
    runs: list[tuple[int, int, str]] = []
    tokens = [(m.start(), m.end(), m.group()) for m in _DIGIT_TOKEN.finditer(text)]
    i = 0
    while i < len(tokens):
        start, digits, end, words, repeat, j = tokens[i][0], "", tokens[i][0], 0, 0, i
        while j < len(tokens):
            t_start, t_end, token = tokens[j]
            if j > i and not _GAP.fullmatch(text[end:t_start]):
                break
            low = token.lower()
            if low == "plus" and j == i:
                pass
            elif low in ("double", "triple"):
                repeat = 2 if low == "double" else 3
            elif low in _DIGIT_WORDS:
                digits += _DIGIT_WORDS[low] * (repeat or 1)
                repeat, words = 0, words + 1
            elif low == "hundred" and digits and not repeat:
                digits += "00"
                words += 1
            elif token.lstrip("+").isdigit() and not repeat:
                digits += token.lstrip("+")
            else:
                break
            end = t_end
            j += 1
        # a dangling "double" at the end is not part of the run
        if repeat:
            end = tokens[j - 1][0] if j - 1 > i else end
            end = len(text[:end].rstrip(" ,-"))
        if words and len(digits) >= 9:
            runs.append((start, end, digits))
            i = j
        else:
            i += 1
    return runs


def _spoken_findings(text: str) -> list[tuple[str, int, int]]:
    found = []
    for start, end, digits in _spoken_runs(text):
        before = text[max(0, start - 30):start]
        if _card_digits(digits, before):
            found.append(("card", start, end))
        elif (len(digits) == 9 and _ssn_parts_ok(digits[:3], digits[3:5], digits[5:])
              and _SSN_WORDS.search(_clause_before(text, start)) and not _REFERENCE_WORDS.search(before)):
            found.append(("ssn", start, end))
        elif _phone_digits(digits, text, start, plus=_led_by_plus(text, start)):
            found.append(("phone", start, end))
    return found


def _led_by_plus(text: str, start: int) -> bool:
    return text[start] == "+" or text[start:start + 4].lower() == "plus"


# --- dates of birth -----------------------------------------------------------------------------

_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
          r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|januar|februar|märz|mai|juni|juli|oktober|"
          r"dezember|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre)\.?")
_ORDINAL_WORD = (r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                 r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
                 r"thirtieth|twenty[ -](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
                 r"thirty[ -]first)")
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th|\.)?|{_ORDINAL_WORD})"
_UNITS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TENS = (r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
         r"thirty|forty|fifty|sixty|seventy|eighty|ninety)")
_SPOKEN_YEAR = (rf"(?:(?:nineteen|twenty) (?:oh {_UNITS}|{_TENS}(?:[ -]{_UNITS})?|hundred)"
                rf"|two thousand(?: and)?(?: {_TENS}| {_UNITS})?)")
_YEAR = rf"(?:\d{{4}}|'\d{{2}}|{_SPOKEN_YEAR}|{_TENS}(?:[ -]{_UNITS})?)"
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{2}-\d{2}"
    rf"|(?:the )?{_DAY}(?: of)? {_MONTH},?(?: {_YEAR})?"
    rf"|{_MONTH} (?:the )?{_DAY},?(?: {_YEAR})?"
    rf"|(?:the )?{_ORDINAL_WORD} of the {_ORDINAL_WORD},? {_YEAR}"
    rf"|(?<=\bborn in ){_YEAR}"
    r")(?![\w/-])", re.I)
_BIRTH = re.compile(r"date of birth|birth ?date|d\.?o\.?b\b|\bborn\b|birthday|geburtsdatum|geboren|"
                    r"date de naissance|\bnée?\b", re.I)


def _is_dob(match: re.Match[str], text: str) -> bool:
    """A date is a date of birth when a birth word comes shortly before it in the same sentence
    ("d.o.b. 05.11.1982" too: abbreviation dots do not end the sentence)."""
    window = text[max(0, match.start() - 50):match.start()]
    births = list(_BIRTH.finditer(window))
    gap = window[births[-1].end():] if births else ""
    return bool(births) and len(gap) <= 30 and not _SENTENCE_BREAK.search(gap)


_SENTENCE_BREAK = re.compile(r"[?!;]|\.\s+[A-Z]")


# --- postal addresses ---------------------------------------------------------------------------

_UNIT = r"(?:(?:flat|unit|apt|apartment|suite|house|plot|door|h\.)(?: ?no\.?)?|no\.)\s?\d+[a-z]?"
_STREET_SUFFIX = (r"(?:street|st|road|rd|avenue|ave|lane|ln|close|drive|dr|way|grove|crescent|cres|court|ct|"
                  r"place|pl|terrace|gardens|boulevard|blvd|parade|square|sq|hill|row|mews|walk|green|rise|"
                  r"view|approach|circle|highway|hwy|parkway|esplanade|quay|wharf|vale|estate|marg|nagar|"
                  r"colony|sector|layout|residency)")
_NOT_STREET_WORD = (r"(?:on|the|to|a|an|and|for|i|it|was|is|in|at|of|my|your|you|we|they|he|she|that|this|"
                    r"then|but|or|so|with|by|from|up|minutes?|hours?|days?|weeks?|months?|years?|times?|"
                    r"items?|pounds?|dollars?|euros?|boxes|parcels?|calls?|people|more|less|left|right)")
_STREET_WORD = rf"(?!{_NOT_STREET_WORD}\b)[a-zà-ÿ][a-zà-ÿ'’.-]*"
_EN_STREET = (rf"(?:{_UNIT},? )?(?:\d{{1,4}}[a-z]?/)?\d{{1,5}}[a-z]?,? (?-i:The )?"
              rf"(?:{_STREET_WORD} ){{0,3}}{_STREET_SUFFIX}\b")
_FR_STREET = (r"\d{1,4}(?: ?(?:bis|ter))?,? (?:rue|avenue|av\.|boulevard|bd|place|allée|chemin|impasse|quai|"
              r"cours|route)(?: (?:de la|de l['’]|du|des|de|d['’]|la|le))?(?: [a-zà-ÿ'’-]+){1,3}")
_DE_STREET = (r"(?:(?:am|an der|im|in der|auf der|zum|zur) )?[a-zäöüß][a-zäöüß-]*"
              r"(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee)? \d{1,4}[a-z]?"
              r"(?=,? \d{5} )")
_DE_SUFFIXED = r"[a-zäöüß][a-zäöüß-]*(?:straße|strasse|str\.|weg|allee|platz|gasse) \d{1,4}[a-z]?\b"
_UNIT_START = rf"{_UNIT},"  # "Flat 302, Sai Residency, Andheri East, Mumbai 400069": needs a postcode
_STREET = re.compile(
    rf"(?<![\w£$€.,:/-])(?:{_EN_STREET}|{_FR_STREET}|{_DE_STREET}|{_DE_SUFFIXED}|{_UNIT_START})", re.I)
_POSTCODE = re.compile(
    r"(?:[a-z]{1,2}\d[a-z\d]? ?\d[a-z]{2}"  # UK
    r"|(?:al|ak|az|ar|ca|co|ct|de|dc|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|nm|ny|"
    r"nc|nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy) \d{5}(?:-\d{4})?"  # US
    r"|(?:nsw|vic|qld|sa|wa|tas|nt|act) \d{4}"  # AU
    r"|[ac-fhknprtv-y]\d[\dw] ?[ac-fhknprtv-y\d]{4}"  # IE Eircode
    r"|\d{5}(?: [a-zäöüßà-ÿ][a-zäöüßà-ÿ-]+)+"  # DE, FR: 10115 Berlin
    r"|\d{6}|\d{3} \d{3})(?![\w-])", re.I)  # IN PIN
_PLACE = r"(?:co\.|apt\.?|[a-zà-ÿ0-9][a-zà-ÿ0-9'’-]*)"
_SEGMENT = re.compile(rf",? ({_PLACE}(?: {_PLACE}){{0,3}})", re.I)


def _address_matches(text: str) -> list[tuple[int, int]]:
    found = []
    for match in _STREET.finditer(text):
        end, last_postcode, segments = match.end(), None, 0
        cursor = end
        while segments < 5:
            seg = _SEGMENT.match(text, cursor)
            if seg is None:
                break
            postcode = _postcode_end(text, seg.start(1), seg.end(1))
            segments += 1
            cursor = seg.end()
            if postcode is not None:
                last_postcode = postcode
                break
        if last_postcode is not None:
            end = last_postcode
        elif match.group().rstrip(",").lower().startswith(_UNIT_PREFIXES) and match.group().endswith(","):
            continue  # a unit with no street and no postcode is not an address
        else:
            end = _capitalised_places(text, match.end())
        found.append((match.start(), end))
    return found


def _postcode_end(text: str, start: int, end: int) -> int | None:
    """Where a postcode among the words of text[start:end] ends ("Leeds LS6 2AB", "V95 X2Y3 now")."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:end])]
    for first in range(len(words)):
        for last in range(min(len(words), first + 3), first, -1):
            if _POSTCODE.fullmatch(text, start + words[first][0], start + words[last - 1][1]):
                return start + words[last - 1][1]
    return None


_UNIT_PREFIXES = ("flat", "unit", "apt", "apartment", "suite", "house", "plot", "door", "no")
_CAPITAL_PLACE = re.compile(r", ((?:Co\. )?[A-Z][a-zà-ÿ'’-]+(?: [A-Z][a-zà-ÿ'’-]+){0,2})(?=[\s,.;!?]|$)")


def _capitalised_places(text: str, end: int) -> int:
    """Extend a street with up to two comma-led, capitalised place names ("18 Harbour Street,
    Cobh, Co. Cork")."""
    for _ in range(2):
        place = _CAPITAL_PLACE.match(text, end)
        if place is None:
            break
        end = place.end()
    return end


# --- the detectors, in order --------------------------------------------------------------------

Finder = Callable[[str], list[tuple[str, int, int]]]


def _pattern(kind: str, pattern: re.Pattern[str], accept: Callable[[re.Match[str], str], bool],
             needs: re.Pattern[str] | None = None) -> Finder:
    """``needs``: a cheap test without which the (slower) pattern cannot match or be accepted."""
    def find(text: str) -> list[tuple[str, int, int]]:
        if needs is not None and not needs.search(text):
            return []
        return [(kind, m.start(), m.end()) for m in pattern.finditer(text) if accept(m, text)]
    return find


_HAS_DIGIT = re.compile(r"\d")
_HAS_IBAN_HEAD = re.compile(r"[A-Za-z]{2}\d{2}")
_HAS_DIGIT_WORD = re.compile(r"\b(?:zero|oh|nought|one|two|three|four|five|six|seven|eight|nine)\b", re.I)
_HAS_SPOKEN_EMAIL = re.compile(r" at ", re.I)


def _addresses(text: str) -> list[tuple[str, int, int]]:
    if not _HAS_DIGIT.search(text):
        return []
    return [("address", start, end) for start, end in _address_matches(text)
            if not _company_said(text, start)]


def _ibans(text: str) -> list[tuple[str, int, int]]:
    if not _HAS_IBAN_HEAD.search(text):
        return []
    return [("iban", start, end) for start, end in _iban_matches(text)]


def _spoken(text: str) -> list[tuple[str, int, int]]:
    return _spoken_findings(text) if _HAS_DIGIT_WORD.search(text) else []


# Order matters: an earlier detector claims its span first (an IBAN before its digits can be read
# as a phone number, a date of birth before a street number, a card before a phone).
_DETECTORS: tuple[Finder, ...] = (
    _pattern("email", _EMAIL, _personal_email),
    _pattern("email", _SPOKEN_EMAIL, _personal_email, needs=_HAS_SPOKEN_EMAIL),
    _ibans,
    _pattern("dob", _DATE, _is_dob, needs=_BIRTH),
    _addresses,
    _pattern("card", _NUMBER_RUN, _is_card, needs=_HAS_DIGIT),
    _pattern("ssn", _SSN, _is_ssn, needs=_HAS_DIGIT),
    _pattern("ssn", _BARE_SSN, _is_ssn, needs=_HAS_DIGIT),
    _pattern("nino", _NINO, _is_nino, needs=_HAS_DIGIT),
    _pattern("phone", _NUMBER_RUN, _is_phone, needs=_HAS_DIGIT),
    _spoken,
)


def find_pii(text: str, *, utterance: int = 0) -> list[Span]:
    """PII spans in ``text`` (offsets into the original), non-overlapping, in order."""
    if not _MAYBE_PII.search(text):
        return []
    spans: list[Span] = []
    for finder in _DETECTORS:
        for kind, start, end in finder(text):
            if _overlaps(spans, start, end):
                continue
            spans.append(Span(utterance=utterance, start=start, end=end, kind=kind, text=text[start:end]))
    return sorted(spans, key=lambda s: s.start)


def _overlaps(spans: list[Span], start: int, end: int) -> bool:
    return any(start < s.end and s.start < end for s in spans)


def redact(text: str, *, utterance: int = 0) -> Redaction:
    """Replace each PII span by its placeholder. Returned spans index the *redacted* text (what is
    stored) and keep the kind, never the original value. The one redactor: live events, the
    listener, STA transcript fetches, the sync and API input all store what this returns."""
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
