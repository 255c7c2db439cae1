"""The ceilings for the ingest bench: endpoints that read the body and answer 204.

Same path, same server (the Procfile's web command) as Coachwire's receiver.

- `app`: a bare Flask app. The issue's baseline: the ratio to it is what Coachwire's
  verify/parse/normalize/commit costs, measured against a framework endpoint.
- `wsgi_app`: the same without Flask, reading the body through werkzeug's stream as Coachwire's
  receiver does (handlers/webhooks.py answers in front of Flask). Coachwire's ratio to it is the
  cost of its own work alone, with no framework saving in it: printed beside the first.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.wsgi import get_input_stream

app = Flask(__name__)


@app.post("/webhooks/<tenant_id>")
def receive(tenant_id: str):
    request.get_data(cache=False)
    return "", 204


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


def wsgi_app(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/webhooks/"):
        get_input_stream(environ, max_content_length=2 * 1024 * 1024).read()
        start_response("204 No Content", [])
        return []
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "16")])
    return [b'{"status":"ok"}\n']
