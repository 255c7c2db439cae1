"""What every /api/v1 view shares: query parsing into problems, paging, scope, JSON out.

Hostile input is screened once here, for every view (:func:`screen_request` runs before each
/api/v1 request; :func:`parse` and :func:`parse_body` check what the schemas loaded): NUL
characters and lone surrogates in path, query and JSON strings (PostgreSQL refuses them),
JSON nested deeper than ``MAX_DEPTH``, integers beyond 64 bits and non-finite numbers, paging
offsets past ``MAX_OFFSET``, and dates outside ``MIN_YEAR``..``MAX_YEAR`` (date arithmetic would
overflow). Each is a 4xx problem naming the field, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import date, datetime

from flask import Response, request
from marshmallow import Schema, ValidationError, fields

from extension.platform.api.schemas import MAX_YEAR, MIN_YEAR
from extension.platform.errors import field_errors
from extension.platform.problems import Problem

PREFIX = "/api/v1/"
MAX_DEPTH = 32  # JSON bodies of this API nest a few levels; anything deeper is refused
MAX_INT = 2**63 - 1  # the widest integer the database stores (BIGINT)
MAX_OFFSET = 10_000_000  # far past any real listing; bigger offsets overflow the SQL OFFSET
_BAD_CHARS = "must not contain NUL characters or lone surrogates"


def _bad_text(value: str) -> bool:
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


def screen_request() -> None:
    """Before every /api/v1 view: refuse NUL characters and lone surrogates in path segments
    and query parameters (400 naming each), and screen a JSON body (:func:`_screen_json`)."""
    if not request.path.startswith(PREFIX):
        return
    errors = [{"field": name, "message": f"Path segment {_BAD_CHARS}."}
              for name, value in (request.view_args or {}).items()
              if isinstance(value, str) and _bad_text(value)]
    errors += [{"field": name, "message": f"Query parameter {_BAD_CHARS}."}
               for name, value in request.args.items(multi=True) if _bad_text(name) or _bad_text(value)]
    if errors:
        raise Problem(400, "Bad Request", "Invalid path or query parameters.", errors=errors)
    if request.is_json and request.content_length != 0 and request.method in ("POST", "PUT", "PATCH"):
        _screen_json()


def _load_json():
    try:
        return request.get_json(silent=True)
    except RecursionError as exc:  # the parser's own stack: thousands of levels
        raise _too_deep("_body") from exc


def _too_deep(field: str) -> Problem:
    return Problem(400, "Bad Request", f"The JSON body nests deeper than {MAX_DEPTH} levels.",
                   errors=[{"field": field, "message": f"Nested deeper than {MAX_DEPTH} levels."}])


def _screen_json() -> None:
    """Walk the parsed body without recursion: too deep is 400, bad strings (values or keys),
    integers beyond 64 bits and non-finite numbers are 422, each naming its dotted path."""
    data = _load_json()
    if data is None:
        return  # not JSON at all: parse_body answers 400 as before
    errors: list[dict] = []
    stack: list[tuple[object, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(path or "_body")
        if isinstance(value, dict):
            for key, inner in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _bad_text(key):
                    errors.append({"field": path or "_schema", "message": f"A key {_BAD_CHARS}."})
                stack.append((inner, where, depth + 1))
        elif isinstance(value, list):
            stack.extend((inner, f"{path}.{i}" if path else str(i), depth + 1)
                         for i, inner in enumerate(value))
        elif isinstance(value, str) and _bad_text(value):
            errors.append({"field": path or "_schema", "message": f"Text {_BAD_CHARS}."})
        elif isinstance(value, bool):
            continue
        elif ((isinstance(value, int) and abs(value) > MAX_INT)
              or (isinstance(value, float) and not math.isfinite(value))):
            errors.append({"field": path or "_schema", "message": "Number out of range."})
    if errors:
        raise Problem(422, "Unprocessable Content", "The body has invalid fields.",
                      errors=sorted(errors, key=lambda e: e["field"]))


def _bounds(schema: Schema, data, prefix: str = "") -> list[dict]:
    """Loaded values out of range, named by their request field (``data_key``): days and
    instants outside MIN_YEAR..MAX_YEAR, integers beyond 64 bits."""
    errors: list[dict] = []
    if not isinstance(data, dict):
        return errors
    for name, value in data.items():
        field = schema.fields.get(name)
        where = f"{prefix}{(field.data_key if field is not None and field.data_key else name)}"
        errors += _value_bounds(field, value, where)
    return errors


def _value_bounds(field, value, where: str) -> list[dict]:
    if isinstance(value, date) and not MIN_YEAR <= value.year <= MAX_YEAR:
        return [{"field": where, "message": f"Must be within the years {MIN_YEAR} to {MAX_YEAR}."}]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return [{"field": where, "message": "Number out of range."}]
    if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        if isinstance(value, dict):
            return _bounds(field.schema, value, f"{where}.")
        if isinstance(value, list):
            return [e for i, item in enumerate(value) for e in _bounds(field.schema, item, f"{where}.{i}.")]
    if isinstance(value, list | tuple):
        inner = getattr(field, "inner", None)
        return [e for i, item in enumerate(value) for e in _value_bounds(inner, item, f"{where}.{i}")]
    return []


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
    instance = schema()
    try:
        loaded = instance.load(request.args.to_dict())
    except ValidationError as exc:
        raise Problem(400, "Bad Request", "Invalid query parameters.",
                      errors=field_errors(exc.messages)) from exc
    if errors := _bounds(instance, loaded):
        raise Problem(400, "Bad Request", "Invalid query parameters.", errors=errors)
    return loaded


def parse_body(schema: type[Schema] | Schema, *, partial: bool = False) -> dict:
    """The request's JSON body through ``schema``, or a problem: 415 if it is not JSON, 400 if it
    does not parse, 422 naming each invalid field by its dotted path (``groups.0.weight``)."""
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "Send the body as application/json.")
    data = _load_json()
    if data is None:
        raise Problem(400, "Bad Request", "The body is not valid JSON.")
    instance = schema() if isinstance(schema, type) else schema
    try:
        loaded = instance.load(data, partial=partial)
    except ValidationError as exc:
        raise Problem(422, "Unprocessable Content", "The body has invalid fields.",
                      errors=field_errors(exc.messages)) from exc
    if errors := _bounds(instance, loaded):
        raise Problem(422, "Unprocessable Content", "The body has invalid fields.", errors=errors)
    return loaded


def offset_of(args: dict) -> int:
    cursor = args.get("cursor")
    if not cursor:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise Problem(400, "Bad Request", "Invalid cursor.",
                      errors=[{"field": "cursor", "message": "Not a cursor this API issued."}]) from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
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
