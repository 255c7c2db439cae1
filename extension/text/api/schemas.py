"""Marshmallow schemas of the interaction text-analytics endpoint (responses)."""

from __future__ import annotations

from marshmallow import Schema, fields


class TextSpan(Schema):
    utterance = fields.Integer()
    start = fields.Integer()
    end = fields.Integer()
    kind = fields.String()
    text = fields.String()
    detail = fields.Dict()


class InteractionTextAnalyticsOut(Schema):
    conversation_id = fields.String()
    agent_id = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    analysed_at = fields.DateTime()
    summary = fields.Dict()
    utterances = fields.List(fields.Dict(), metadata={"description": "Redacted text; offsets index it"})
    pii = fields.List(fields.Nested(TextSpan))
    sentiment = fields.Dict()
    coaching_flag = fields.Boolean()
    key_phrases = fields.List(fields.Dict())
    compliance = fields.Dict()
    prohibited = fields.List(fields.Nested(TextSpan))
    escalation = fields.Dict()
    timing = fields.Dict()
