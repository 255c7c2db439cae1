"""The ceiling for the ingest bench: a bare Flask app that reads the body and answers 204.

Same path, same server (the Procfile's web command) as Coachwire's receiver, so the ratio
between the two is what Coachwire's verify/parse/normalize/commit costs.
"""

from __future__ import annotations

from flask import Flask, request

app = Flask(__name__)


@app.post("/webhooks/<tenant_id>")
def receive(tenant_id: str):
    request.get_data(cache=False)
    return "", 204


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
