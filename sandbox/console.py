"""GET /sandbox/: a plain HTML page (no scripts, no external assets) that refreshes itself.

GET /sandbox/console: a stand-in for the Genesys Cloud console, framing Coachwire's panels the
way Genesys frames a client app (the URL template with its gc* parameters, the iframe's sandbox
attribute); open it on an origin of another site than Coachwire's (e.g. ``localhost`` when
Coachwire is on ``127.0.0.1``) so the frame is cross-site as in production. ``?popup=1`` frames
the panels with ``gcUsePopupAuth=true`` (an identity provider that refuses to be framed: the
panel signs in through a popup); "Sign in as someone else" sends the frame to the person picker
again (agent, supervisor, or the tenant's Coachwire admin)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, render_template_string, request

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


# --- the console that frames Coachwire's panels, as Genesys Cloud does -----------------------

# Coachwire's panel views, as its client apps would be installed (one app per view)
CONSOLE_VIEWS = (("home", "Coaching home"), ("my-performance", "My performance"),
                 ("agents", "Agents"), ("trends", "Trends"), ("settings", "Coachwire settings"))
# a client app's URL template (PANELS.md §1): the console fills the gc* parameters
URL_TEMPLATE = ("{panels}/panels/{view}?gcHostOrigin={{{{gcHostOrigin}}}}"
                "&gcTargetEnv={{{{gcTargetEnv}}}}&gcLangTag={{{{gcLangTag}}}}"
                "&gcUsePopupAuth={{{{gcUsePopupAuth}}}}")
# the sandbox attribute Genesys puts on a client app's iframe (never allow-top-navigation)
FRAME_SANDBOX = ("allow-forms allow-modals allow-popups allow-popups-to-escape-sandbox "
                 "allow-same-origin allow-scripts allow-downloads")
TARGET_ENV = "sandbox"
LANG_TAGS = ("en-us", "en-gb", "de-de", "fr-fr")

CONSOLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox console · {{ label }}</title>
<style>html,body{height:100%;margin:0}body{font:14px system-ui,sans-serif;display:flex;
flex-direction:column}header{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;
padding:.5rem 1rem;background:#1d2530;color:#fff}header a{color:#fff}nav ul{display:flex;
flex-wrap:wrap;gap:.25rem .75rem;list-style:none;margin:0;padding:0}
nav a[aria-current]{font-weight:bold}iframe{flex:1;border:0;width:100%;min-height:20rem}</style>
</head><body>
<header><strong>Sandbox console</strong>
<nav aria-label="Apps"><ul>{% for v, l in views %}<li><a href="?view={{ v }}&lang={{ lang }}{{ keep }}"
{% if v == view %}aria-current="page"{% endif %}>{{ l }}</a></li>{% endfor %}</ul></nav>
<a href="?view={{ view }}&lang={{ lang }}{{ keep }}&signin=1" data-testid="switch-person">Sign in as
someone else (agent, supervisor, admin)</a>
<a href="?view={{ view }}&lang={{ lang }}{{ '' if popup else '&popup=1' }}" data-testid="popup-toggle">
Popup sign-in: {{ 'on' if popup else 'off' }} (gcUsePopupAuth)</a></header>
{% if src %}<iframe title="{{ label }}" src="{{ src }}" sandbox="{{ sandbox }}"
allow="clipboard-write" data-testid="panel-frame"></iframe>
{% else %}<main><p>Coachwire's panels are not set: start the sandbox with
<code>--panels-url http://127.0.0.1:5000/t/&lt;tenant&gt;</code>.</p></main>{% endif %}
</body></html>"""


def panel_url(panels: str, view: str, *, host_origin: str, lang: str,
              popup: bool = False) -> str:
    """The client app URL for ``view`` with the gc* parameters filled in, as Genesys does
    (``popup``: the org's identity provider refuses to be framed, so gcUsePopupAuth=true)."""
    url = URL_TEMPLATE.format(panels=panels.rstrip("/"), view=view)
    values = {"gcHostOrigin": host_origin, "gcTargetEnv": TARGET_ENV, "gcLangTag": lang,
              "gcUsePopupAuth": "true" if popup else "false"}
    for name, value in values.items():
        url = url.replace("{{" + name + "}}", quote(value, safe=""))
    return url


def sign_in_url(panel: str) -> str:
    """Coachwire's sign-on start for ``panel``: the frame goes to the host's person picker
    again (a new session replaces the one the frame had)."""
    parts = urlsplit(panel)
    tenant_base = panel.split("/panels/", 1)[0]
    back = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{tenant_base}/sso/start?next={quote(back, safe='')}"


@bp.get("/sandbox/console")
def panels_console():
    """A Genesys-like console on this host's origin framing one of Coachwire's panels."""
    views = dict(CONSOLE_VIEWS)
    view = request.args.get("view", "home")
    view = view if view in views else "home"
    lang = request.args.get("lang", LANG_TAGS[0])
    lang = lang if lang in LANG_TAGS else LANG_TAGS[0]
    popup = request.args.get("popup") == "1"
    panels = state().config.panels_url
    src = ""
    if panels:
        host_origin = f"{request.scheme}://{request.host}"
        src = panel_url(panels, view, host_origin=host_origin, lang=lang, popup=popup)
        if request.args.get("signin"):
            src = sign_in_url(src)
    return render_template_string(CONSOLE_PAGE, views=CONSOLE_VIEWS, view=view,
                                  label=views[view], lang=lang, src=src,
                                  sandbox=FRAME_SANDBOX, popup=popup,
                                  keep="&popup=1" if popup else "")
