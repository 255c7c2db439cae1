"""Performance-alert settings per tenant: threshold rules, cool-down, email and webhook delivery.

Checked field by field (``SettingsError`` names the field), audited, and the webhook secret is
shown once: only its SecretBox token is stored. Raising and delivery are in ``alert_delivery``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from connectors.webhooks import url_problem
from extension.analytics.domain import alerts as rules_domain
from extension.analytics.domain.kpis import METRICS
from extension.analytics.models.delivery import AlertSettings
from extension.platform import audit, context
from extension.platform.crypto import SecretBox
from extension.platform.tenants import new_webhook_secret, tenant_timezone


class SettingsError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def settings_for(session: Session, tenant_id: str) -> AlertSettings:
    """The tenant's settings, or unsaved defaults (email on, no webhook, no rules, 72 h)."""
    return session.get(AlertSettings, tenant_id) or AlertSettings(
        tenant_id=tenant_id, rules=[], cooldown_hours=72, email_enabled=True)


def _check_rules(rules: Any) -> list[dict]:
    if not isinstance(rules, list):
        raise SettingsError("rules", "must be a list of {rule_id, metric, op, value, subject}")
    checked = []
    for index, rule in enumerate(rules):
        where = f"rules.{index}"
        if not isinstance(rule, dict) or not isinstance(rule.get("rule_id"), str) or not rule["rule_id"]:
            raise SettingsError(f"{where}.rule_id", "required, a non-empty string")
        if rule.get("metric") not in METRICS:
            raise SettingsError(f"{where}.metric", f"one of {', '.join(METRICS)}")
        if rule.get("op") not in rules_domain.OPERATORS:
            raise SettingsError(f"{where}.op", f"one of {', '.join(rules_domain.OPERATORS)}")
        if isinstance(rule.get("value"), bool) or not isinstance(rule.get("value"), int | float):
            raise SettingsError(f"{where}.value", "a number")
        if rule.get("subject", "agent") not in ("agent", "team"):
            raise SettingsError(f"{where}.subject", "agent or team")
        checked.append({"rule_id": rule["rule_id"], "metric": rule["metric"], "op": rule["op"],
                        "value": float(rule["value"]), "subject": rule.get("subject", "agent")})
    if len({r["rule_id"] for r in checked}) != len(checked):
        raise SettingsError("rules", "rule_id values must be unique")
    return checked


_URL = re.compile(r"^https://[^\s/]+(/\S*)?$")
_LOOPBACK_URL = re.compile(r"^http://[^\s/]+(/\S*)?$")  # with webhook_allow_loopback only


def update_settings(session: Session, box: SecretBox, *, tenant_id: str, changes: dict[str, Any],
                    actor: str) -> tuple[AlertSettings, str | None]:
    """Apply ``changes`` (rules, cooldown_hours, email_enabled, webhook_url, rotate_secret).

    Returns the settings and the new webhook secret when one was made (shown once: only its
    SecretBox token is stored). A webhook URL without a secret gets one. Audited.
    """
    tenant_timezone(session, tenant_id)
    settings = settings_for(session, tenant_id)
    if "rules" in changes:
        settings.rules = _check_rules(changes["rules"])
    if "cooldown_hours" in changes:
        hours = changes["cooldown_hours"]
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 24 * 90:
            raise SettingsError("cooldown_hours", "an integer from 1 to 2160")
        settings.cooldown_hours = hours
    if "email_enabled" in changes:
        if not isinstance(changes["email_enabled"], bool):
            raise SettingsError("email_enabled", "true or false")
        settings.email_enabled = changes["email_enabled"]
    if "webhook_url" in changes:
        url = changes["webhook_url"]
        loopback = bool(context.settings().extra.get("webhook_allow_loopback", False))
        if url is not None and (not isinstance(url, str) or len(url) > 2000
                                or not (_URL.match(url) or (loopback and _LOOPBACK_URL.match(url)))):
            raise SettingsError("webhook_url", "an https:// URL, or null to stop webhook delivery")
        if url is not None and (problem := url_problem(url, allow_loopback=loopback)):
            raise SettingsError("webhook_url", problem)
        settings.webhook_url = url
    secret = None
    if changes.get("rotate_secret") or (settings.webhook_url and not settings.webhook_secret_enc):
        secret = new_webhook_secret()
        settings.webhook_secret_enc = box.seal(secret)
    session.add(settings)
    audit.record(session, tenant_id=tenant_id, actor=actor, action="alerts.settings_updated",
                 subject_type="alert_settings", subject_id=tenant_id,
                 details={"changed": sorted(k for k in changes if k != "rotate_secret"),
                          "secret_rotated": secret is not None, "rules": len(settings.rules or []),
                          "webhook": bool(settings.webhook_url), "email": settings.email_enabled})
    session.flush()
    return settings, secret


def settings_view(settings: AlertSettings) -> dict[str, Any]:
    """Settings as shown to admins: never the secret, only whether one is set."""
    return {"rules": settings.rules or [], "cooldown_hours": settings.cooldown_hours,
            "email_enabled": settings.email_enabled, "webhook_url": settings.webhook_url,
            "webhook_secret_set": bool(settings.webhook_secret_enc)}
