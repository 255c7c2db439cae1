"""GET /sandbox/: a plain HTML page (no scripts, no external assets) that refreshes itself."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from sandbox.state import state, world

bp = Blueprint("sandbox_console", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{{ refresh }}">
<title>Coachwire sandbox host</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f4f4f4}</style>
</head><body>
<h1>Sandbox host (seed {{ seed }})</h1>
<p>{{ agents }} agents in {{ teams }} teams; {{ conversations }} generated conversations;
scheduleslots: {{ controls.slots_mode }};
throttled calls left: {{ controls.throttle_remaining }}.</p>
<h2>Coaching appointments ({{ appointments|length }})</h2>
<table><tr><th>Agent</th><th>Facilitator</th><th>Start (UTC)</th><th>Minutes</th><th>Status</th>
<th>Conversations</th><th>Name</th></tr>
{% for a in appointments %}<tr><td>{{ names(a.attendees) }}</td>
<td>{{ name(a.facilitator.id) }}</td>
<td>{{ a.dateStart }}</td><td>{{ a.lengthInMinutes }}</td><td>{{ a.status }}</td>
<td>{{ a.conversations|map(attribute='id')|join(', ') }}</td><td>{{ a.name }}</td></tr>
{% else %}<tr><td colspan="7">None yet</td></tr>{% endfor %}</table>
<h2>Recognitions ({{ recognitions|length }})</h2>
<table><tr><th>Recipient</th><th>Type</th><th>Title</th><th>Context</th><th>Created</th></tr>
{% for r in recognitions %}<tr><td>{{ name(r.recipient.id) }}</td><td>{{ r.type }}</td>
<td>{{ r.title }}</td><td>{{ r.contextType or '' }} {{ r.contextId or '' }}</td>
<td>{{ r.dateCreated }}</td></tr>
{% else %}<tr><td colspan="5">None yet</td></tr>{% endfor %}</table>
</body></html>"""


@bp.get("/sandbox/")
def console():
    w = world()
    with w.lock:
        appointments = sorted(w.appointments.values(), key=lambda a: a["dateStart"])
        recognitions = sorted(w.recognitions.values(), key=lambda r: r["dateCreated"])
        conversations = len(w.conversations)

    def name(user_id: str) -> str:
        person = w.people.get(user_id)
        return person.name if person else user_id

    return render_template_string(
        PAGE, refresh=5, seed=w.seed, agents=len(w.agents), teams=len(w.teams),
        conversations=conversations, controls=state().controls, appointments=appointments,
        recognitions=recognitions, name=name,
        names=lambda refs: ", ".join(name(r["id"]) for r in refs))
