"""Notification API: channels, subscriptions and the channel WebSocket."""

from __future__ import annotations

import json
import queue
import socket

from flask import Blueprint, jsonify, request
from flask_sock import Sock

from sandbox.errors import bad_request, not_found
from sandbox.hub import DROP, Hub, heartbeat, topic_known
from sandbox.state import state
from sandbox.timeutil import iso

bp = Blueprint("sandbox_notifications", __name__, url_prefix="/api/v2/notifications")


def init_app(app) -> None:
    app.extensions["sandbox"].hub = Hub()
    sock = Sock(app)
    sock.route("/channels/<channel_id>")(serve_socket)
    app.register_blueprint(bp)


@bp.post("/channels")
def create_channel():
    channel = _hub().create(now=state().now(), hours=state().config.channel_hours)
    return jsonify(_channel_json(channel))


@bp.get("/channels")
def list_channels():
    now = state().now()
    with _hub().lock:
        live = [c for c in _hub().channels.values() if c.expires > now]
    return jsonify(entities=[_channel_json(c) for c in live])


@bp.get("/channels/<channel_id>/subscriptions")
def get_subscriptions(channel_id: str):
    return jsonify(entities=[_topic_json(t) for t in _channel(channel_id).topics])


@bp.post("/channels/<channel_id>/subscriptions")
def add_subscriptions(channel_id: str):
    return _subscribe(channel_id, replace=False)


@bp.put("/channels/<channel_id>/subscriptions")
def replace_subscriptions(channel_id: str):
    return _subscribe(channel_id, replace=True)


@bp.delete("/channels/<channel_id>/subscriptions")
def delete_subscriptions(channel_id: str):
    _hub().subscribe(_channel(channel_id), [], replace=True)
    return "", 204


def serve_socket(ws, channel_id: str) -> None:
    """Forward published messages; a heartbeat whenever nothing was sent for N seconds."""
    hub, now = _hub(), state().now
    channel = hub.get(channel_id, now())
    if channel is None:
        _hang_up(ws, 1008, "unknown or expired channel")
        return
    inbox = hub.attach(channel)
    try:
        _pump(ws, inbox, channel, now, state().config.heartbeat_seconds)
    finally:
        hub.detach(channel, inbox)


def _pump(ws, inbox: queue.Queue, channel, now, interval: float) -> None:
    while channel.expires > now():
        try:
            item = inbox.get(timeout=interval)
        except queue.Empty:
            item = heartbeat()
        if item is DROP:
            break
        ws.send(json.dumps(item))
    _hang_up(ws, 1000, "closing")


def _hang_up(ws, code: int, message: str) -> None:
    """Send the close frame, then shut the TCP connection down. Under the werkzeug server the
    socket's file objects keep it open after ws.close(), so without the shutdown a client can
    wait many seconds for the end of the closing handshake."""
    raw = ws.sock.dup()
    try:
        ws.close(reason=code, message=message)
        raw.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the peer went first
    finally:
        raw.close()


def _subscribe(channel_id: str, *, replace: bool):
    channel = _channel(channel_id)
    body = request.get_json(silent=True)
    if not isinstance(body, list) or not all(isinstance(t, dict) and t.get("id") for t in body):
        raise bad_request("The body must be a JSON array of ChannelTopic objects with an id")
    ignore = request.args.get("ignoreErrors", "false").lower() == "true"
    topics = [t["id"] for t in body]
    rejected = [t for t in topics if not topic_known(t) and "*" not in t]
    if rejected and not ignore:
        raise bad_request(f"Unknown or unsupported topics: {', '.join(rejected)}")
    _hub().subscribe(channel, [t for t in topics if t not in rejected], replace=replace)
    return jsonify(entities=[_topic_json(t, rejected=t in rejected) for t in topics])


def _topic_json(topic: str, *, rejected: bool = False) -> dict:
    if rejected:
        return {"id": topic, "state": "Rejected", "rejectionReason": "Topic not supported"}
    return {"id": topic, "state": "Permitted"}


def _channel_json(channel) -> dict:
    scheme = "wss" if request.scheme == "https" else "ws"
    return {"id": channel.id, "connectUri": f"{scheme}://{request.host}/channels/{channel.id}",
            "expires": iso(channel.expires)}


def _channel(channel_id: str):
    channel = _hub().get(channel_id, state().now())
    if channel is None:
        raise not_found("Channel")
    return channel


def _hub() -> Hub:
    return state().hub
