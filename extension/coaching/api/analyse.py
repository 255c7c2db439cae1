"""POST /api/v1/text/analyse: utterances or transcripts through the production detectors and the
caller tenant's phrase lists and trigger policy (``extension.coaching.analyse``). Admin-only,
bounded, nothing stored; the call itself is audited (what was asked, not the text)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.coaching import analyse as service
from extension.coaching.automation import tenant_policy
from extension.platform import audit
from extension.platform.api.plumbing import documented, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import SETTINGS_WRITE
from extension.platform.db import get_db
from extension.platform.models.tenants import Tenant
from extension.text import phrase_lists, scoring

bp = Blueprint("api_text_analyse", __name__, url_prefix="/api/v1")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


class TurnIn(Schema):
    speaker = fields.String(required=True, validate=validate.OneOf(service.PARTIES))
    text = fields.String(required=True, validate=[validate.Length(min=1, max=service.MAX_TEXT),
                                                  _not_blank])


class ItemIn(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    channel = fields.String(load_default=None, allow_none=True,
                            validate=validate.OneOf(service.CHANNELS))
    party = fields.String(validate=validate.OneOf(service.PARTIES),
                          metadata={"description": "An utterance's speaker (with text)"})
    text = fields.String(validate=[validate.Length(min=1, max=service.MAX_TEXT), _not_blank],
                         metadata={"description": "An utterance (with party); or give turns"})
    turns = fields.List(fields.Nested(TurnIn), validate=validate.Length(min=1, max=service.MAX_TURNS),
                        metadata={"description": "A transcript's turns, in order"})

    @validates_schema
    def _one_shape(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("text" in data) == ("turns" in data):
            raise ValidationError("Give either text (an utterance) or turns (a transcript).", "text")
        if "text" in data and "party" not in data:
            raise ValidationError("An utterance needs its party (agent or customer).", "party")
        if "turns" in data and "party" in data:
            raise ValidationError("A transcript names the speaker per turn, not a party.", "party")


class AnalyseIn(Schema):
    items = fields.List(fields.Nested(ItemIn), required=True,
                        validate=validate.Length(min=1, max=service.MAX_ITEMS))

    @validates_schema
    def _distinct_ids(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        for index, item in enumerate(data.get("items") or []):
            if item["id"] in seen:
                raise ValidationError({"items": {index: {"id": ["Repeats an earlier item's id."]}}})
            seen.add(item["id"])


class AnalyseOut(Schema):
    results = fields.List(fields.Dict(), metadata={"description": "One per item, in order (docs/text.md)"})


def run(session, tenant_id: str, items: list[dict]) -> list[dict]:
    """The tenant's lists and policy, the pipeline's model: the CLI and the API share this."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(tenant_id)
    config = phrase_lists.text_config(session, tenant_id)
    policy = tenant_policy(tenant)
    return service.analyse_items(items, model=scoring._model(), config=config, policy=policy)


@bp.post("/text/analyse")
@documented(summary="Try the text analytics and the trigger policy on utterances or transcripts",
            body=AnalyseIn, response=AnalyseOut, tag="text",
            problems={"422": "Invalid body (the field is named)"})
@require(SETTINGS_WRITE)
def analyse():
    """Each item through the production code paths with the caller tenant's phrase lists and
    trigger policy: sentiment per utterance and per party, escalation, required statements,
    prohibited phrases, policy decisions with reasons, PII spans (offsets into the original
    text). Nothing is stored; the call is audited with the item count."""
    body = parse_body(AnalyseIn)
    principal = current_principal()
    with get_db().session() as session:
        results = run(session, principal.tenant_id, body["items"])
        audit.record(session, tenant_id=principal.tenant_id, actor=f"person:{principal.person_id}",
                     action="text.analysed", subject_type="tenant", subject_id=principal.tenant_id,
                     details={"items": len(body["items"])})
    return respond({"results": results})
