"""The Genesys Cloud manifests stay true to the reference and to the code.

- every topic named in topics.json exists in the reference's notificationTopics;
- oauth-client.json is what build_permissions.py derives from the connectors today, every
  permission it grants belongs to an operation the connectors call, and every such operation
  is covered by its grant;
- the static call scan misses nothing the connectors really send (checked by running them);
- every panel URL carries the host's template tokens and maps to a tenant panel route of the
  app; the manifests use Genesys's keys; the sign-on client is a PKCE code client.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.conftest import REFERENCE, ROOT

MANIFESTS = ROOT / "manifests" / "genesys-cloud"
REFERENCE_JSON = REFERENCE / "genesys-cloud-api.json"
PANEL_FILES = ("panel-home.json", "panel-agents.json", "panel-my-performance.json",
               "panel-trends.json", "panel-settings.json", "interaction-widget.json")
# the page each manifest frames (the pages land from several helpers: the test matches the
# app's url_map, where the shell's generic /t/<tenant_id>/panels/<view> answers until they do)
PANEL_PAGES = {"panel-home.json": "home", "panel-agents.json": "agents",
               "panel-my-performance.json": "my-performance", "panel-trends.json": "trends",
               "panel-settings.json": "settings", "interaction-widget.json": "interaction"}
HOST_TOKENS = ("{{gcHostOrigin}}", "{{gcTargetEnv}}", "{{gcLangTag}}", "{{gcUsePopupAuth}}")
PUBLIC = "https://coachwire.example"
TENANT = "acme-eu"
# Genesys's interaction-widget media filter: values seen in Genesys's own blueprints and
# integration samples (call, chat, webmessaging, open) and its admin docs (callback, email, ...)
COMMUNICATION_TYPES = {"call", "callback", "chat", "email", "message", "open", "socialexpression",
                       "video", "webmessaging"}
SANDBOX_FLAGS = {"allow-forms", "allow-modals", "allow-popups", "allow-popups-to-escape-sandbox",
                 "allow-same-origin", "allow-scripts", "allow-downloads"}

pytestmark = pytest.mark.skipif(not REFERENCE_JSON.exists(), reason="no Genesys reference")


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_permissions",
                                                  MANIFESTS / "build_permissions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE_JSON.read_text())


def manifest(name: str) -> dict:
    return json.loads((MANIFESTS / name).read_text())


def topic_names(document: dict) -> list[str]:
    listener = [e["topic"] for entries in document["listener"].values() for e in entries]
    control = [e["topic"] for e in document["control"]]
    others = [e["topic"] for key in ("webhook", "not_subscribed") for e in document[key]["topics"]]
    return listener + control + others


def test_every_topic_is_a_reference_topic(reference):
    known = {t["topic"] for t in reference["notificationTopics"]}
    names = topic_names(manifest("topics.json"))
    assert names and not [n for n in names if n not in known]


def test_the_heartbeat_topic_is_the_one_the_reference_describes():
    assert manifest("topics.json")["heartbeat"] == "channel.metadata"
    assert 'topicName: "channel.metadata"' in (REFERENCE / "genesys-cloud-api.md").read_text()


def test_listener_topics_have_at_most_one_id_and_per_conversation_ones_go_by_webhook():
    listener = manifest("topics.json")["listener"]
    assert all("{id}" not in e["topic"] for e in listener["org"])
    assert all(e["topic"].count("{id}") == 1 and e["topic"].startswith("v2.users.{id}.")
               for e in listener["user"])
    webhook = [e["topic"] for e in manifest("topics.json")["webhook"]["topics"]]
    assert all("conversation" in t and "{id}" in t for t in webhook)


def test_oauth_client_manifest_is_what_the_builder_derives_today(reference):
    built = builder.build(reference, builder.connector_calls())
    assert manifest("oauth-client.json") == built, (
        "stale: run python manifests/genesys-cloud/build_permissions.py")


def test_every_granted_permission_belongs_to_an_operation_the_connectors_call(reference):
    used = builder.used_operations(reference, builder.connector_calls())
    listed = {p for op in used for p in op["permissions"]["list"]}
    granted = manifest("oauth-client.json")["role"]["permissions"]
    assert granted and not [p for p in granted if p not in listed]


def test_every_operation_the_connectors_call_is_covered_by_the_grant(reference):
    granted = set(manifest("oauth-client.json")["role"]["permissions"])
    for op in builder.used_operations(reference, builder.connector_calls()):
        mode, needed = op["permissions"]["mode"], set(op["permissions"]["list"])
        if mode == "ALL":
            assert needed <= granted, op["path"]
        elif mode == "ANY" and needed:
            assert needed & granted, op["path"]


def test_permission_policies_group_the_same_permissions():
    role = manifest("oauth-client.json")["role"]
    flattened = sorted(f"{p['domain']}:{p['entityName']}:{a}"
                       for p in role["permissionPolicies"] for a in p["actionSet"])
    assert flattened == role["permissions"]


def _run_every_connector_method() -> set[tuple[str, str]]:
    """(method, reference path) of what the sub-clients really send, via the contract scenarios."""
    from connectors.genesys import GenesysClient
    from connectors.ratelimit import BucketSpec, InMemoryTokenBucket
    from tests.contract.reference import find_operation
    from tests.contract.test_genesys_bodies import API, DOWNLOADS, LOGIN, SCENARIOS, canned

    seen: set[tuple[str, str]] = set()

    def api(request):
        path = urlsplit(request.url).path
        seen.add((request.method, find_operation(request.method, path)["path"]))
        return 200, {"Content-Type": "application/json"}, json.dumps(canned(path))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(f"{LOGIN}/oauth/token", json={"access_token": "t", "expires_in": 3600})
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(API) + "/.*"), callback=api)
            mock.add(method, re.compile(re.escape(DOWNLOADS) + "/.*"), json={})
        client = GenesysClient(api_base=API, login_base=LOGIN, client_id="c", client_secret="s",
                               tenant_key="k", sleep=lambda s: None,
                               bucket=InMemoryTokenBucket(BucketSpec(capacity=999,
                                                                     per_second=999)))
        for attr, name, args, kwargs in SCENARIOS:
            result = getattr(getattr(client, attr), name)(*args, **kwargs)
            if inspect.isgenerator(result):
                list(result)
    return seen


def test_the_static_scan_misses_no_call_the_connectors_really_make(reference):
    scanned = {(op["method"], op["path"])
               for op in builder.used_operations(reference, builder.connector_calls())}
    missed = _run_every_connector_method() - scanned
    assert not missed, f"build_permissions.py does not see: {sorted(missed)}"


def panel_urls() -> dict[str, str]:
    return {name: manifest(name)["config"]["properties"]["url"] for name in PANEL_FILES}


def installed(url: str) -> str:
    return url.replace("${COACHWIRE_PUBLIC_URL}", PUBLIC).replace("${COACHWIRE_TENANT}", TENANT)


def test_panel_urls_carry_the_host_tokens_and_name_the_tenant_panel_pages():
    for name, url in panel_urls().items():
        assert url.startswith("${COACHWIRE_PUBLIC_URL}/t/${COACHWIRE_TENANT}/panels/"), name
        assert urlsplit(installed(url)).path == f"/t/{TENANT}/panels/{PANEL_PAGES[name]}", name
        assert all(token in url for token in HOST_TOKENS), name
    query = parse_qs(urlsplit(panel_urls()["interaction-widget.json"]).query)
    assert query["gcConversationId"] == ["{{gcConversationId}}"]
    assert not [n for n, u in panel_urls().items()
                if "gcConversationId" in u and n != "interaction-widget.json"]


def test_panels_run_sandboxed_with_what_the_client_app_sdk_needs():
    for name in PANEL_FILES:
        flags = manifest(name)["config"]["properties"]["sandbox"].split(",")
        assert set(flags) == SANDBOX_FLAGS, name  # PANELS.md section 1, and popups for sign-on
        assert "allow-top-navigation" not in flags, name  # a panel must not navigate the console


def test_manifests_use_the_keys_genesys_reads():
    """queueIdFilterList (not queues), advanced.icon (not iconImage), a valid media filter."""
    for name in PANEL_FILES:
        doc = manifest(name)
        props, advanced = doc["config"]["properties"], doc["config"]["advanced"]
        assert not {"queues", "iconImage", "conversationId"} & set(props), name
        assert advanced["icon"]["vector"].startswith("${COACHWIRE_PUBLIC_URL}/"), name
        assert props["groups"], name
        if name == "interaction-widget.json":
            assert doc["integrationType"]["id"] == "embedded-client-app-interaction-widget"
            assert isinstance(props["queueIdFilterList"], list)
            kinds = props["communicationTypeFilter"].split(",")
            assert kinds and set(kinds) <= COMMUNICATION_TYPES, kinds
            assert "displayType" not in props
        else:
            assert doc["integrationType"]["id"] == "embedded-client-app"
            assert props["displayType"] in ("standalone", "widget")
            assert "queueIdFilterList" not in props and "communicationTypeFilter" not in props


def _route(app, url: str):
    """The rule and arguments ``url`` (an installed manifest URL) reaches, else None."""
    try:
        return app.url_map.bind("coachwire.example").match(urlsplit(url).path, method="GET")
    except (NotFound, MethodNotAllowed):
        return None


@pytest.mark.parametrize("name", PANEL_FILES)
def test_every_panel_url_is_a_tenant_panel_route_of_the_app(app, name):
    url = installed(panel_urls()[name])
    found = _route(app, url)
    assert found is not None, url
    endpoint, args = found
    assert args.get("tenant_id") == TENANT, (endpoint, args)
    # either the page's own route or the shell's generic one, which answers its view
    if "view" in args:
        from extension.platform import shell

        assert args["view"] == PANEL_PAGES[name] and args["view"] in shell.PANEL_VIEWS


def test_a_url_outside_the_panels_is_not_taken_for_a_panel(app):
    """The route check above can fail: a made-up page matches no tenant panel rule."""
    assert _route(app, f"{PUBLIC}/t/{TENANT}/nowhere/home") is None
    assert _route(app, f"{PUBLIC}/panels/home") is None


def test_the_icon_is_served_by_the_app(app):
    icon = manifest("panel-home.json")["config"]["advanced"]["icon"]["vector"]
    response = app.test_client().get(urlsplit(installed(icon)).path)
    assert response.status_code == 200 and b"<svg" in response.data


def test_the_sign_on_client_is_a_pkce_code_client_with_the_exact_callback(reference, app):
    """The sign-on client: Authorization Code with PKCE (no secret is sent), the redirect URI
    Coachwire's callback answers, the scopes users/me and tokens/me need."""
    model = reference["models"]["OrgOAuthClient"]
    client = manifest("sign-on-client.json")["client"]
    grant = client["authorizedGrantType"]
    # the reference's enum (SDK typings) predates the PKCE type its own description names
    assert grant in model["enums"]["authorizedGrantType"] or (
        grant == "PKCE" and "PKCE-Enabled Code" in model["descriptions"]["authorizedGrantType"])
    assert grant not in ("TOKEN", "CLIENT-CREDENTIALS")  # implicit is closed; no person there
    from extension.platform import shell

    assert client["registeredRedirectUri"] == ["${COACHWIRE_PUBLIC_URL}" + shell.CALLBACK_PATH]
    assert _route(app, installed(client["registeredRedirectUri"][0])) is not None
    assert {"users:readonly", "authorization:readonly", "groups:readonly"} <= set(client["scope"])
    assert "roleDivisions" not in client  # roles apply to client-credentials clients only
    calls = {(c["method"], c["path"]) for c in manifest("sign-on-client.json")["calls"]}
    assert calls == {("GET", "/api/v2/tokens/me"), ("GET", "/api/v2/users/me")}


def test_manifest_files_are_valid_json():
    for path in Path(MANIFESTS).glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict), path.name


def test_the_builder_refuses_a_call_the_reference_does_not_know(reference):
    source = ('BASE = "/api/v2/quality"\n'
              'class C:\n'
              '    def go(self, x):\n'
              '        return self._t.request("POST", f"{BASE}/coaching/{x}/appointments")\n')
    calls = builder.calls_in_module(source)
    assert calls == {("POST", "/api/v2/quality/coaching/{}/appointments")}
    with pytest.raises(ValueError, match="not in the reference"):
        builder.used_operations(reference, calls)


def test_the_oauth_client_is_an_org_oauth_client_as_the_reference_spells_it(reference):
    """Grant types are spelled with a hyphen (CLIENT-CREDENTIALS), and roleDivisions hold
    RoleDivision objects (roleId, divisionId), not names."""
    model = reference["models"]["OrgOAuthClient"]
    client = manifest("oauth-client.json")["client"]
    assert set(client) <= set(model["fields"]), set(client) - set(model["fields"])
    assert client["authorizedGrantType"] in model["enums"]["authorizedGrantType"]
    assert client["authorizedGrantType"] == "CLIENT-CREDENTIALS"
    role_division = reference["models"]["RoleDivision"]
    for entry in client["roleDivisions"]:
        assert set(entry) == set(role_division["fields"]) == set(role_division["required"])
