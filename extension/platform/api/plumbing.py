"""What every /api/v1 view shares: query parsing into problems, paging, scope, JSON out."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime

from flask import Response, request
from marshmallow import Schema, ValidationError

from extension.platform.problems import Problem


def documented(*, summary: str, query: type[Schema] | None = None, response: type[Schema] | None,
               tag: str = "analytics", body: type[Schema] | None = None, status: int = 200,
               problems: dict[str, str] | None = None):
    """Attach the OpenAPI description to a view (read by extension.platform.api.openapi).

    ``body`` is the JSON request schema (write operations), ``status`` the success code (201 for
    a create, 204 for no content with ``response=None``), ``problems`` extra error codes such as
    ``{"409": "Not in a state that allows it", "422": "Invalid body"}``.
    """

    def decorator(view):
        view.openapi = {"summary": summary, "query": query, "response": response, "tag": tag,
                        "permission": getattr(view, "permission", None), "doc": view.__doc__,
                        "body": body, "status": status, "problems": problems or {}}
        return view

    return decorator


def parse(schema: type[Schema]) -> dict:
    """The request's query string through ``schema``, or a 400 problem naming each field."""
    try:
        return schema().load(request.args.to_dict())
    except ValidationError as exc:
        raise Problem(400, "Bad Request", "Invalid query parameters.", errors=_flatten(exc.messages)) from exc


def parse_body(schema: type[Schema] | Schema, *, partial: bool = False) -> dict:
    """The request's JSON body through ``schema``, or a problem: 415 if it is not JSON, 400 if it
    does not parse, 422 naming each invalid field by its dotted path (``groups.0.weight``)."""
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "Send the body as application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise Problem(400, "Bad Request", "The body is not valid JSON.")
    instance = schema() if isinstance(schema, type) else schema
    try:
        return instance.load(data, partial=partial)
    except ValidationError as exc:
        raise Problem(422, "Unprocessable Content", "The body has invalid fields.",
                      errors=_flatten(exc.messages)) from exc


def _flatten(messages, prefix: str = "") -> list[dict]:
    if isinstance(messages, list):
        return [{"field": prefix or "_schema", "message": str(m)} for m in messages]
    errors = []
    for name, inner in messages.items():
        errors += _flatten(inner, f"{prefix}.{name}" if prefix else str(name))
    return errors


def offset_of(args: dict) -> int:
    cursor = args.get("cursor")
    if not cursor:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise Problem(400, "Bad Request", "Invalid cursor.",
                      errors=[{"field": "cursor", "message": "Not a cursor this API issued."}]) from exc
    if not isinstance(offset, int) or offset < 0:
        raise Problem(400, "Bad Request", "Invalid cursor.",
                      errors=[{"field": "cursor", "message": "Not a cursor this API issued."}])
    return offset


def page(rows: list, *, limit: int, offset: int) -> tuple[list, str | None]:
    """Rows fetched with ``limit + 1`` -> (this page, next cursor or None)."""
    if len(rows) <= limit:
        return rows, None
    token = base64.urlsafe_b64encode(json.dumps({"o": offset + limit}).encode()).decode()
    return rows[:limit], token


def _default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def respond(body: dict, status: int = 200) -> Response:
    """JSON with ISO-8601 dates (Flask's default would write RFC 822 dates)."""
    return Response(json.dumps(body, default=_default), status=status, mimetype="application/json")
