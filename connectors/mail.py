"""Outbound email over SMTP (coaching invitations, "please schedule by hand" tasks, digests)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from connectors.errors import ConnectorError, Forbidden, Invalid, Transient


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs or reprs
    starttls: bool = True
    use_ssl: bool = False  # implicit TLS (port 465) instead of STARTTLS
    timeout: float = 10.0


def build_message(
    settings: SmtpSettings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
) -> EmailMessage:
    """A plain-text message, with an HTML alternative when `html` is given."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, ", ".join(to), subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_mail(
    settings: SmtpSettings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
) -> str:
    """Send one message; returns its Message-ID. Raises Transient, Forbidden or Invalid."""
    if not to:
        raise Invalid("no recipients")
    message = build_message(
        settings, to=to, subject=subject, text=text, html=html, reply_to=reply_to
    )
    try:
        with _connect(settings) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise Forbidden("SMTP authentication failed", status=exc.smtp_code) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise Invalid("recipients refused", detail=", ".join(exc.recipients)) from None
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code) from None
    except (smtplib.SMTPException, OSError) as exc:  # OSError covers refusals and timeouts
        raise Transient(f"SMTP {type(exc).__name__}") from None
    return message["Message-ID"]


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.starttls and not settings.use_ssl:
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()  # the caller's `with` has not started yet, so close the socket here
        raise
    return smtp


def _by_code(code: int) -> ConnectorError:
    # 4xx replies are temporary by the SMTP contract (RFC 5321 4.2.1); 5xx are permanent.
    if 400 <= code < 500:
        return Transient("SMTP temporary failure", status=code)
    return Invalid("SMTP permanent failure", status=code)
