"""Text analytics over transcripts: pure functions over utterances ``{party, text, offset_ms?,
duration_ms?}``, no I/O. Heavy libraries (rapidfuzz, yake, torch) load inside the modules that
need them, so importing this package stays cheap.

- ``pii``: the one redactor: cards (Luhn + scheme prefix), SSN, UK NI numbers, emails, phones,
  IBANs (mod-97), dates of birth, postal addresses; written or spoken
- ``phrases`` / ``phrase_lists``: fuzzy required statements (completion-checked) and prohibited phrases
- ``escalation``: manager / cancel / legal / regulator / complaint triggers with context rules
- ``utterance_sentiment``: per-utterance and per-party sentiment, the coaching flag
- ``learned``: MiniLM embeddings + logistic head (the ML extra); VADER is the fallback
- ``keyphrases`` (YAKE), ``timing`` (silence / over-talk), ``analysis`` (all of it, redaction first)
"""
