"""flask commands of coaching: ``tenants set-policy`` (added to the platform's tenants group) and
``text analyse`` (the stable way into the detectors and the trigger policy)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from extension.platform.cli import tenant_or_fail, tenants_cli
from extension.platform.db import get_db


@tenants_cli.command("set-policy")
@click.argument("tenant_id")
@click.argument("policy_file", type=click.File("r"))
def set_policy(tenant_id, policy_file):
    """Replace the tenant's trigger policy with a validated JSON document."""
    from extension.coaching import policies as policy_service

    try:
        document = json.load(policy_file)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="POLICY_FILE") from exc
    with get_db().session() as session:
        issues = policy_service.set_policy(session, tenant_or_fail(session, tenant_id), document)
    if issues:
        for issue in issues:
            click.echo(f"{issue.path}: {issue.message}", err=True)
        raise click.ClickException("policy rejected; nothing changed")
    click.echo(f"policy of {tenant_id} updated")


text_cli = AppGroup("text", help="Text analytics: try the detectors and the trigger policy.")


@text_cli.command("analyse")
@click.option("--tenant", "tenant_id", required=True, help="Whose phrase lists and policy to use")
@click.option("--in", "source", type=click.File("r"), required=True,
              help="JSON Lines: utterances {id, party, channel, text} or transcripts "
                   "{id, channel, turns: [{speaker, text}]}")
@click.option("--out", "target", type=click.File("w"), default="-", show_default=True,
              help="JSON Lines: one result per item, in order (docs/text.md)")
def analyse(tenant_id, source, target):
    """Run items through the production detectors and TENANT's policy; nothing is stored.

    Every line is checked before anything runs: a bad line names its number and field."""
    from marshmallow import ValidationError

    from extension.coaching.api.analyse import ItemIn, run
    from extension.platform.errors import field_errors

    schema, items, seen = ItemIn(), [], set()
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item = schema.load(json.loads(line))
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"line {number}: not JSON ({exc.msg})") from exc
        except ValidationError as exc:
            problems = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors(exc.messages))
            raise click.ClickException(f"line {number}: {problems}") from exc
        if item["id"] in seen:
            raise click.ClickException(f"line {number}: id {item['id']!r} repeats an earlier line")
        seen.add(item["id"])
        items.append(item)
    with get_db().session() as session:
        tenant_or_fail(session, tenant_id)
        results = run(session, tenant_id, items)
    for result in results:
        target.write(json.dumps(result, ensure_ascii=False) + "\n")
    click.echo(f"analysed {len(results)} item(s) with {tenant_id}'s lists and policy", err=True)
