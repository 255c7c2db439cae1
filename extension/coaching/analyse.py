"""A stable way into the text analytics and the trigger policy: utterances or transcripts in,
everything production decides about them out.

For admins trying phrase lists and policies, and for acceptance runs (``flask text analyse``,
``POST /api/v1/text/analyse``). Each item goes through the code production runs: the one PII
redactor, the sentiment model the pipeline uses, the tenant's phrase lists and escalation rules
(``extension.text.domain.analysis``), the per-party conversation score the pipeline computes,
and the tenant's trigger policy (``extension.coaching.domain.policies.evaluate``) over the facts
the pipeline builds. Nothing is stored and nothing is sent.

Items (``docs/text.md`` has the full shape):
- an utterance ``{"id", "party": "agent"|"customer", "channel", "text"}``;
- a transcript ``{"id", "channel", "turns": [{"speaker": "agent"|"customer", "text"}]}``.

Offsets: ``pii`` spans index the *original* text of the utterance or turn; every other span
indexes the redacted text (``redacted``), which is what Coachwire would store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from extension.coaching.domain import policies
from extension.text.domain.analysis import TextConfig, analyze_transcript
from extension.text.domain.escalation import find_escalations
from extension.text.domain.phrases import required_statements
from extension.text.domain.pii import find_pii, redact
from extension.text.domain.recognition import praise_for_agent
from extension.text.domain.sentiment import SentimentModel
from extension.text.domain.spans import Utterance
from extension.text.domain.utterance_sentiment import label_from_score, party_scores, utterance_sentiment

PARTIES = ("agent", "customer")
CHANNELS = ("voice", "chat", "email", "message", "social")
MAX_ITEMS = 500
MAX_TURNS = 400
MAX_TEXT = 5_000  # characters per utterance or turn


def analyse_items(items: Iterable[Mapping[str, Any]], *, model: SentimentModel, config: TextConfig,
                  policy: dict[str, Any]) -> list[dict[str, Any]]:
    """One result per (already validated) item, in order."""
    return [(_transcript if "turns" in item else _utterance)(item, model=model, config=config,
                                                              policy=policy)
            for item in items]


def _pii(text: str, **where: Any) -> list[dict[str, Any]]:
    return [{**where, "kind": s.kind, "start": s.start, "end": s.end} for s in find_pii(text)]


def _utterance(item: Mapping[str, Any], *, model: SentimentModel, config: TextConfig,
               policy: dict[str, Any]) -> dict[str, Any]:
    party, text = item["party"], item["text"]
    clean = Utterance(party=party, text=redact(text).text)
    scored = utterance_sentiment([clean], model=model)[0]
    rules = [r for r in config.required if r.party in (None, party)]
    return {
        "id": item["id"], "kind": "utterance", "party": party, "channel": item.get("channel"),
        "redacted": clean.text, "pii": _pii(text),
        "sentiment": {"score": scored["score"], "label": scored["label"]},
        "escalation": _escalation(find_escalations([clean], config.escalation)),
        "required": {name: {"present": c["present"], "spans": [s.as_dict() for s in c["spans"]]}
                     for name, c in required_statements([clean], rules).items()},
    }


def _transcript(item: Mapping[str, Any], *, model: SentimentModel, config: TextConfig,
                policy: dict[str, Any]) -> dict[str, Any]:
    turns = [Utterance(party=t["speaker"], text=t["text"]) for t in item["turns"]]
    analysis = analyze_transcript(turns, model=model, config=config)
    redacted = [Utterance(party=u["party"], text=u["text"]) for u in analysis["utterances"]]
    scores = party_scores(redacted, model=model)
    facts = {"customer_sentiment": scores["customer"], "agent_sentiment": scores["agent"],
             "channel": item.get("channel"),
             "transcript": " ".join(u.text for u in redacted) or None,
             "agent_praised": bool(praise_for_agent(redacted)) if redacted else None}
    outcomes = policies.evaluate(policy, {k: v for k, v in facts.items() if v is not None})
    return {
        "id": item["id"], "kind": "transcript", "channel": item.get("channel"),
        "turns": [{"speaker": u.party, "redacted": u.text, "sentiment": {"score": s["score"],
                                                                         "label": s["label"]}}
                  for u, s in zip(redacted, analysis["sentiment"]["utterances"], strict=True)],
        "pii": [p for index, turn in enumerate(turns) for p in _pii(turn.text, turn=index)],
        "parties": {party: _party(scores[party]) for party in PARTIES},
        "escalation": analysis["escalation"],
        "required": analysis["compliance"],
        "prohibited": analysis["prohibited"],
        "decisions": [{"rule": o.rule_id, "action": o.action, "reasons": list(o.reasons)}
                      for o in outcomes],
    }


def _party(score: float | None) -> dict[str, Any] | None:
    """A party's conversation score (the pipeline's length-weighted mean) and its label."""
    return None if score is None else {"score": round(score, 4), "label": label_from_score(score)}


def _escalation(spans: list) -> dict[str, Any]:
    return {"present": bool(spans), "spans": [s.as_dict() for s in spans]}
