"""Test and demo controls under /sandbox/control/... and the JSON state for tests.
No auth here on purpose: the sandbox only ever listens on a developer's machine or in CI."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from flask import Blueprint, jsonify, request

from sandbox.errors import bad_request
from sandbox.events import conversation_metrics
from sandbox.generate import plan
from sandbox.state import state, world
from sandbox.world import build_world

bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")


@bp.post("/control/throttle")
def throttle():
    body = request.get_json(silent=True) or {}
    with state().lock:
        state().controls.throttle_remaining = int(body.get("count", 1))
        state().controls.retry_after = int(body.get("retryAfter", 1))
    return jsonify(throttleRemaining=state().controls.throttle_remaining)


@bp.post("/control/scheduleslots")
def scheduleslots():
    mode = str((request.get_json(silent=True) or {}).get("mode", "on"))
    if mode not in ("on", "404", "501"):
        raise bad_request("mode must be on, 404 or 501")
    state().controls.slots_mode = mode
    return jsonify(mode=mode)


@bp.post("/control/wfm")
def wfm_async():
    """{"processing": n}: the next n agent-schedule queries answer status Processing."""
    count = (request.get_json(silent=True) or {}).get("processing", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise bad_request("processing must be a non-negative integer")
    with state().lock:
        state().controls.wfm_processing = count
    return jsonify(processing=count)


@bp.get("/downloads/<operation>")
def download(operation: str):
    """A pre-signed download of a WFM result (the host's download service stand-in)."""
    from flask import current_app

    found = current_app.extensions.get("sandbox.downloads", {}).get(operation)
    if found is None:
        raise bad_request("no such download")
    return jsonify(found)


@bp.post("/control/users/<user_id>/state")
def user_state(user_id: str):
    """{"state": "active"|"inactive"|"deleted"}: a user leaves (or rejoins) the org."""
    wanted = (request.get_json(silent=True) or {}).get("state")
    if wanted not in ("active", "inactive", "deleted"):
        raise bad_request("state must be active, inactive or deleted")
    person = world().people.get(user_id)
    if person is None:
        raise bad_request("no such user")
    with state().lock:
        person.state = wanted
    return jsonify(id=user_id, state=wanted)


@bp.post("/control/websockets/drop")
def drop_websockets():
    channel_id = (request.get_json(silent=True) or {}).get("channelId")
    return jsonify(dropped=state().hub.drop_sockets(channel_id))


@bp.post("/control/channels/expire")
def expire_channels():
    channel_id = (request.get_json(silent=True) or {}).get("channelId")
    state().hub.expire(state().now(), channel_id)
    return jsonify(expired=channel_id or "all")


@bp.post("/control/reset")
def reset():
    s = state()
    with s.lock:
        s.world = build_world(seed=s.world.seed, now=s.world.created)
        s.controls.throttle_remaining, s.controls.slots_mode = 0, "on"
        s.controls.faults = []
    for channel_id in list(s.hub.channels):
        s.hub.remove(channel_id)
    return jsonify(reset=True, seed=s.world.seed)


@bp.post("/control/conversations")
def register_conversations():
    """Store STA metrics for generated conversations (the CLI calls this before delivering)."""
    return jsonify(registered=record(_messages()))


@bp.post("/control/publish")
def publish():
    messages = _messages()
    record(messages)
    delivered = sum(state().hub.publish_message(m) for m in messages)
    return jsonify(published=len(messages), delivered=delivered)


@bp.post("/control/generate")
def generate():
    """Generate conversations and push them to subscribed WebSockets in the background."""
    body = request.get_json(silent=True) or {}
    planned = plan(world(), seed=int(body.get("seed", world().seed)),
                   count=int(body.get("count", 10)), rate=float(body.get("rate", 5)),
                   step=float(body.get("stepSeconds", 0.05)), start=state().now())
    record([p.message for p in planned])
    worker = threading.Thread(target=_push_all, args=(state(), planned), daemon=True)
    worker.start()
    return jsonify(planned=len(planned)), 202


@bp.get("/state.json")
def state_json():
    w = world()
    with w.lock:
        return jsonify(seed=w.seed, appointments=list(w.appointments.values()),
                       recognitions=list(w.recognitions.values()),
                       conversations=len(w.conversations), controls=vars(state().controls),
                       channels=_channels_summary(),
                       people={p.id: {"name": p.name, "email": p.email, "role": p.role}
                               for p in w.people.values()})


def record(messages: list[dict]) -> int:
    complete = {cid: msgs for cid, msgs in _by_conversation(messages).items() if len(msgs) == 4}
    with world().lock:
        for cid, msgs in complete.items():
            world().conversations[cid] = conversation_metrics(msgs)
    return len(complete)


def _by_conversation(messages: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for message in messages:
        grouped[message["eventBody"].get("conversationId")].append(message)
    return grouped


def _push_all(s, planned) -> None:
    began = time.monotonic()
    for item in planned:
        wait = item.due - (time.monotonic() - began)
        if wait > 0:
            time.sleep(wait)
        s.hub.publish_message(item.message)


def _messages() -> list[dict]:
    body = request.get_json(silent=True) or {}
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise bad_request("messages must be a list of notification messages")
    return messages


def _channels_summary() -> list[dict]:
    hub = state().hub
    with hub.lock:
        return [{"id": c.id, "topics": c.topics, "sockets": len(c.sockets),
                 "expires": c.expires.isoformat()} for c in hub.channels.values()]
