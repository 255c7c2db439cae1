"""The admin's privacy actions in the panels: the dry run, the export download, the erasure."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import select

from extension.platform.models.people import Person
from extension.privacy.models import Erasure
from tests.factories import add_people, panel_session
from tests.integration.privacy.conftest import ADDRESS, AGENT

FRAME = {"Sec-Fetch-Dest": "iframe", "Accept": "text/html"}


def _admin(app, client, db, world) -> dict[str, str]:
    add_people(db, world, [("padmin", "admin", None, None)])
    return panel_session(app, client, "padmin", tenant_id=world)


def test_the_dry_run_lists_what_an_erasure_would_do(app, client, db, world):
    _admin(app, client, db, world)
    page = client.get(f"/t/{world}/panels/settings/privacy?person={AGENT}", headers=FRAME)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "interaction_facts" in html and "Download the export" in html
    customer = client.get(f"/t/{world}/panels/settings/privacy", query_string={"customer": ADDRESS},
                          headers=FRAME)
    assert customer.status_code == 200 and "Rows about this subject" in customer.get_data(as_text=True)


def test_the_export_is_a_zip_of_every_class(app, client, db, world):
    headers = _admin(app, client, db, world)
    answer = client.post(f"/t/{world}/panels/settings/privacy/export", data={"person": AGENT},
                         headers={k: v for k, v in headers.items() if k != "HX-Request"})
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(answer.data)).namelist()
    assert "export.json" in names and "classes.csv" in names


def test_an_erasure_needs_the_confirmation_and_then_runs(app, client, db, world, run_jobs):
    headers = _admin(app, client, db, world)
    url = f"/t/{world}/panels/settings/privacy/erase"
    refused = client.post(url, data={"person": AGENT}, headers=headers)
    assert refused.status_code == 400
    with db.session() as session:
        assert session.scalars(select(Erasure)).first() is None
    started = client.post(url, data={"person": AGENT, "confirm": "yes"}, headers=headers)
    assert started.status_code == 202 and "Erasure" in started.get_data(as_text=True)
    run_jobs()
    with db.session() as session:
        assert session.scalars(select(Erasure)).one().status == "done"
        assert session.get(Person, (world, AGENT)) is None


def test_a_supervisor_cannot_and_a_forged_post_changes_nothing(app, client, db, world):
    add_people(db, world, [("psup", "supervisor", None, None)])
    panel_session(app, client, "psup", tenant_id=world)
    assert client.get(f"/t/{world}/panels/settings/privacy?person={AGENT}", headers=FRAME).status_code == 403
    headers = _admin(app, client, db, world)
    del headers["X-CSRF-Token"]
    forged = client.post(f"/t/{world}/panels/settings/privacy/erase",
                         data={"person": AGENT, "confirm": "yes"}, headers=headers)
    assert forged.status_code == 403
    with db.session() as session:
        assert session.scalars(select(Erasure)).first() is None


def test_naming_no_one_or_both_is_a_400(app, client, db, world):
    _admin(app, client, db, world)
    base = f"/t/{world}/panels/settings/privacy"
    assert client.get(base, headers=FRAME).status_code == 400
    both = {"person": AGENT, "customer": ADDRESS}
    assert client.get(base, query_string=both, headers=FRAME).status_code == 400
