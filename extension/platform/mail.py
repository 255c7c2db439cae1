"""Plain mail for every capability: the SMTP settings of this deployment (None when mail is
not configured). Sending is ``connectors.mail.send_mail``; what to send is each capability's."""

from __future__ import annotations

from connectors.mail import SmtpSettings
from extension.platform import context


def smtp_settings() -> SmtpSettings | None:
    settings = context.settings()
    if not settings.smtp_host:
        return None
    return SmtpSettings(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
                        username=settings.smtp_user, password=settings.smtp_password,
                        starttls=settings.smtp_starttls)
