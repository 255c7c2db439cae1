"""Default phrase lists. Tenants override them; these are the wordings we accept out of the box.

Wordings are the *core* of each statement (see ``phrases``): the words that must all be said, in
order, with other words allowed in between; greetings and purposes around them may vary freely.
A statement cut off before its core is complete, or in a sentence that trails off, does not count.
"""

from extension.domain.text.phrases import PhraseRule

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
        "security questions",
        "run through security",
        "password on the account",
        "speaking to the account holder",
        "for security can i take your",
        "take your account number and postcode",
    ),
)

REQUIRED = (RECORDING_DISCLOSURE, IDENTITY_VERIFICATION)

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
