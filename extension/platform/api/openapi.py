"""GET /api/v1/openapi.json: the OpenAPI 3 document, built from the routes and their schemas.

Each /api/v1 view carries its description (extension.platform.api.plumbing.documented); the document
is generated from the app's URL map, so a route cannot exist without appearing here.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, jsonify

from extension.platform.api.plumbing import screen_request
from extension.platform.api.schemas import CsvList, ProblemDetails

bp = Blueprint("api_openapi", __name__, url_prefix="/api/v1")
# hostile input (NUL, lone surrogates, deep or out-of-range JSON) is refused before any view
bp.before_app_request(screen_request)
PREFIX = "/api/v1"
_PROBLEMS = {"400": "Invalid query parameters (errors name each field)",
             "401": "Missing, invalid or expired bearer token", "403": "Role or scope does not allow it",
             "404": "No such agent or team in this tenant"}


@bp.get("/openapi.json")
def openapi():
    spec = current_app.extensions.get("coachwire.openapi")
    if spec is None:
        spec = current_app.extensions["coachwire.openapi"] = build(current_app)
    return jsonify(spec)


def build(app) -> dict:
    marshmallow = MarshmallowPlugin()
    spec = APISpec(title="Coachwire API", version="1", openapi_version="3.0.3", plugins=[marshmallow],
                   info={"description": "Tenant-scoped analytics; errors are application/problem+json."})
    marshmallow.map_to_openapi_type(CsvList, "string", None)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    # the panels' own calls: the panel session cookie, with the CSRF token on unsafe methods
    spec.components.security_scheme("panelSession", {
        "type": "apiKey", "in": "cookie", "name": "__Host-coachwire",
        "description": "Panel session (no Authorization header). Unsafe methods also need the "
                       "X-CSRF-Token header and Sec-Fetch-Site: same-origin."})
    spec.components.schema("ProblemDetails", schema=ProblemDetails)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(PREFIX) and rule.endpoint != "api_openapi.openapi":
            view = app.view_functions[rule.endpoint]
            spec.path(path=openapi_path(rule.rule), operations=_operations(rule, view))
    spec.path(path=f"{PREFIX}/openapi.json", operations={"get": {
        "summary": "This document", "tags": ["meta"],
        "responses": {"200": {"description": "OpenAPI 3 document"}}}})
    return spec.to_dict()


def openapi_path(rule: str) -> str:
    """Flask's ``/agents/<agent_id>`` as OpenAPI's ``/agents/{agent_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _operations(rule, view) -> dict:
    meta = getattr(view, "openapi", None)
    if meta is None:
        raise RuntimeError(f"{rule.rule} has no OpenAPI description; decorate it with @documented")
    parameters = [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                  for name in sorted(rule.arguments)]
    if meta["query"] is not None:
        parameters.append({"in": "query", "schema": meta["query"]})
    status = str(meta.get("status", 200))
    if meta["response"] is None:
        responses: dict[str, dict[str, Any]] = {status: {"description": "Done"}}
    else:
        responses = {status: {"description": "OK",
                              "content": {"application/json": {"schema": meta["response"]}}}}
    for status, text in {**_PROBLEMS, **meta.get("problems", {})}.items():
        responses[status] = {"description": text,
                             "content": {"application/problem+json": {"schema": "ProblemDetails"}}}
    operation = {"summary": meta["summary"], "description": meta["doc"] or "", "tags": [meta["tag"]],
                 "parameters": parameters, "responses": responses,
                 "security": [{"bearerAuth": []}, {"panelSession": []}],
                 "x-permission": meta["permission"]}
    if meta.get("body") is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": meta["body"]}}}
    return {method.lower(): operation for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}
