"""Speech and text analytics transcripts: the pre-signed transcript URL and the document behind it.

* ``GET /api/v2/speechandtextanalytics/conversations/{conversationId}/communications/
  {communicationId}/transcripturl`` -> ``TranscriptUrl`` ``{url}`` (the reference's only field).
* ``GET /sandbox/sta/transcripts/<token>`` stands in for the S3 object behind that URL: the STA
  transcript document ``{organizationId, conversationId, communicationId, mediaType, startTime,
  transcripts: [{transcriptId, language, phrases: [{text, startTimeMs, duration: {milliseconds},
  participantPurpose}]}]}``. Like S3 with a pre-signed URL, it refuses a request that also
  carries an ``Authorization`` header (400), so a client leaking its bearer token fails here.

Controls (``POST /sandbox/control/sta``): register transcripts from generated notification
messages (``messages``: the transcription event becomes the document; it is served for the
transcription's ``communicationId`` and the ``user.end`` ``sessionId``) or as ready documents
(``documents``); ``notReadyCalls`` makes the first n URL requests per conversation answer 404 (a
transcript not produced yet); ``mode`` ``on`` | ``forbidden`` (403, no STA licence).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from flask import Blueprint, current_app, jsonify, request

from sandbox.errors import ApiError, bad_request, error_response, not_found
from sandbox.ids import stable_id

bp = Blueprint("sandbox_sta", __name__)
PATH = ("/api/v2/speechandtextanalytics/conversations/<conversation_id>/communications/"
        "<communication_id>/transcripturl")
PURPOSES = {"INTERNAL": "internal", "EXTERNAL": "external"}


@dataclass
class StaState:
    documents: dict[str, dict] = field(default_factory=dict)  # conversation id -> document
    communications: dict[str, set[str]] = field(default_factory=dict)  # conversation id -> ids
    not_ready: dict[str, int] = field(default_factory=dict)  # conversation id -> 404s left
    urls: dict[str, str] = field(default_factory=dict)  # download token -> conversation id
    mode: str = "on"
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def sta_state() -> StaState:
    return current_app.extensions.setdefault("sandbox_sta", StaState())


def document_from_messages(messages: list[dict]) -> tuple[dict, set[str]] | None:
    """The STA document of one conversation's generated messages, and its communication ids."""
    by_kind = {m["topicName"].rsplit(".", 1)[-1]: m["eventBody"] for m in messages}
    body = by_kind.get("transcription")
    if body is None:
        return None
    start = body.get("transcriptionStartTimeMs") or body.get("sessionStartTimeMs") or 0
    phrases = [{"text": alt["transcript"], "startTimeMs": start + alt["offsetMs"],
                "duration": {"milliseconds": alt["durationMs"]},
                "participantPurpose": PURPOSES.get(item["channel"], item["channel"].lower())}
               for item in body.get("transcripts") or [] for alt in item["alternatives"][:1]]
    ids = {body["communicationId"]}
    if "end" in by_kind and by_kind["end"].get("sessionId"):
        ids.add(by_kind["end"]["sessionId"])
    document = {"organizationId": body.get("organizationId"), "conversationId": body["conversationId"],
                "communicationId": body["communicationId"], "mediaType": "call", "startTime": start,
                "transcripts": [{"transcriptId": stable_id(body["conversationId"], "sta-transcript"),
                                 "language": "en-us", "phrases": phrases}]}
    return document, ids


@bp.post("/sandbox/control/sta")
def control():
    body = request.get_json(silent=True) or {}
    s = sta_state()
    registered = 0
    grouped: dict[str, list[dict]] = {}
    for message in body.get("messages") or []:
        grouped.setdefault((message.get("eventBody") or {}).get("conversationId"), []).append(message)
    pairs = [found for msgs in grouped.values() if (found := document_from_messages(msgs))]
    for document in body.get("documents") or []:
        if not isinstance(document, dict) or not document.get("conversationId"):
            raise bad_request("every document needs a conversationId")
        pairs.append((document, {document.get("communicationId")} - {None}))
    mode = str(body.get("mode", s.mode))
    if mode not in ("on", "forbidden"):
        raise bad_request("mode must be on or forbidden")
    with s.lock:
        for document, ids in pairs:
            cid = document["conversationId"]
            s.documents[cid] = document
            s.communications.setdefault(cid, set()).update(ids)
            s.not_ready[cid] = int(body.get("notReadyCalls", 0))
            registered += 1
        s.mode = mode
    return jsonify(registered=registered, mode=mode)


@bp.get("/sandbox/control/sta")
def control_state():
    s = sta_state()
    with s.lock:
        return jsonify(mode=s.mode, calls=s.calls, conversations=sorted(s.documents))


@bp.get(PATH)
def transcript_url(conversation_id: str, communication_id: str):
    s = sta_state()
    with s.lock:
        s.calls += 1
        if s.mode == "forbidden":
            raise ApiError(403, "not.authorized",
                           "You are not authorized to perform the requested action.")
        if communication_id not in s.communications.get(conversation_id, set()):
            raise not_found("Transcript")
        if s.not_ready.get(conversation_id, 0) > 0:
            s.not_ready[conversation_id] -= 1
            raise not_found("Transcript")
        token = secrets.token_urlsafe(16)
        s.urls[token] = conversation_id
    return jsonify(url=f"{request.host_url}sandbox/sta/transcripts/{token}?X-Amz-Expires=600")


@bp.get("/sandbox/sta/transcripts/<token>")
def download(token: str):
    if request.headers.get("Authorization"):
        return error_response(400, "InvalidArgument",
                              "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                              "parameter or the Authorization header should be specified")
    s = sta_state()
    with s.lock:
        cid = s.urls.get(token)
        document = s.documents.get(cid) if cid else None
    if document is None:
        raise not_found("Transcript")
    return jsonify(document)
