"""Default phrase lists. Tenants override them; these are the wordings we accept out of the box.

Wordings are the *core* of each statement (see ``phrases``): the words that must all be said, in
order, with other words allowed in between; greetings and purposes around them may vary freely.
A statement cut off before its core is complete, or in a sentence that trails off, does not count.
"""

from typing import Any

from extension.text.domain.phrases import PhraseRule

RECORDING_DISCLOSURE = PhraseRule(
    name="recording_disclosure",
    party="agent",
    wordings=(
        "this call may be recorded",
        "this call is being recorded",
        "this call will be recorded",
        "this call is recorded",
        "your call may be recorded",
        "calls are recorded",
        "calls may be recorded",
        "calls are monitored and recorded",
        "calls may be monitored or recorded",
        "conversation is being recorded",
        "we record calls",
        "we record our calls",
        # chats, emails and messages are "saved", "stored", "monitored", "transcribed" where a
        # call is "recorded": the thing, then what happens to it (statements_tune.txt)
        "(call|calls|chat|chats|conversation|conversations|message|messages|email|emails"
        "|correspondence|thread) (recorded|monitored|saved|stored|transcribed|retained|logged)",
    ),
)

IDENTITY_VERIFICATION = PhraseRule(
    name="identity_verification",
    party="agent",
    wordings=(
        "confirm your date of birth",
        "your date of birth",
        "confirm your full name",
        "confirm your name and postcode",
        "confirm the first line of your address",
        "confirm your postcode",
        "verify your identity",
        # terse checks, one-time codes, passcodes and the account holder (statements_tune.txt)
        "security check",
        "(verification|one-time|time|digit|security|access) (code|passcode|pin)",
        "passcode",
        "(account|policy) holder",
        "(policyholder|accountholder)",
        "verify who you are",
        "security questions",
        "run through security",
        "password on the account",
        "speaking to the account holder",
        "for security can i take your",
        "take your account number and postcode",
        # general verification wordings added after the fresh set's two misses (README)
        "talking to the right person",
        "speaking to the right person",
        "what's your postcode",
        "security answer",
        "answer to your security question",
        "memorable word",
        "memorable information",
        "last four digits of",
        "passcode on the account",
    ),
)

CLOSING_OFFER = PhraseRule(
    name="closing_offer",
    party="agent",
    wordings=(
        # "Is there anything else I can help you with?", and curtly "Anything else?"; a sentence
        # cut off before it ends ("Is there anything el-") or negated ("I can't do anything
        # else") does not count, nor does a goodbye alone ("Bye now")
        "anything (else|more)",
        "is that everything",
        "something else i can help",
    ),
)

REQUIRED = (RECORDING_DISCLOSURE, IDENTITY_VERIFICATION, CLOSING_OFFER)

PROHIBITED = (
    PhraseRule(
        name="prohibited",
        party="agent",
        threshold=0.95,
        wordings=(
            "that's not my problem",
            "calm down",
            "you should have read the terms",
            "it's your own fault",
            "i don't care",
            "whatever",
            "shut up",
            "do what you like",
            "that's not my department",
        ),
    ),
)

# ---- per-tenant lists ----------------------------------------------------------------------------
# A tenant replaces a whole kind at once; a kind it never set (or reverted) keeps the defaults above.
# Escalation triggers are regular expressions with context rules (``escalation``), not phrase
# lists, so they are not tenant-editable here.

KINDS = ("required", "prohibited")
DEFAULTS: dict[str, tuple[PhraseRule, ...]] = {"required": REQUIRED, "prohibited": PROHIBITED}
PARTIES = ("agent", "customer")
MAX_RULES = 50
MAX_WORDINGS = 100
MAX_WORDING_CHARS = 200
MIN_THRESHOLD = 0.5


def rule_as_dict(rule: PhraseRule, *, active: bool = True) -> dict[str, Any]:
    """The JSON form stored and served: ``{key, wordings, party, threshold, active}``."""
    return {"key": rule.name, "wordings": list(rule.wordings), "party": rule.party,
            "threshold": rule.threshold, "active": active}


def rule_from_dict(item: dict[str, Any]) -> PhraseRule:
    return PhraseRule(name=item["key"], wordings=tuple(item["wordings"]), party=item.get("party"),
                      threshold=float(item.get("threshold", 0.85)))


def active_rules(items: list[dict[str, Any]]) -> tuple[PhraseRule, ...]:
    """The rules a stored list enforces: inactive ones are kept for editing but not matched."""
    return tuple(rule_from_dict(item) for item in items if item.get("active", True))


def defaults_as_dicts(kind: str) -> list[dict[str, Any]]:
    return [rule_as_dict(rule) for rule in DEFAULTS[kind]]
DEFAULT_THRESHOLD = {"required": 0.85, "prohibited": 0.95}
