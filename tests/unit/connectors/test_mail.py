import smtplib

import pytest

from connectors import mail
from connectors.errors import Forbidden, Invalid, Transient
from connectors.mail import SmtpSettings, send_mail


class FakeSMTP:
    """Replaces smtplib.SMTP at the socket seam: records what a real server would see."""

    instances = []
    fail_with = None

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.tls = False
        self.login_as = None
        self.sent = []
        self.closed = False
        FakeSMTP.instances.append(self)

    def starttls(self, context):
        self.tls = context is not None

    def login(self, user, password):
        if FakeSMTP.fail_with == "auth":
            raise smtplib.SMTPAuthenticationError(535, b"bad credentials")
        self.login_as = (user, password)

    def send_message(self, message):
        if isinstance(FakeSMTP.fail_with, Exception):
            raise FakeSMTP.fail_with
        self.sent.append(message)

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True


@pytest.fixture
def smtp(monkeypatch):
    FakeSMTP.instances, FakeSMTP.fail_with = [], None
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


SETTINGS = SmtpSettings(
    host="smtp.example", sender="coachwire@example.com", username="u", password="p", timeout=7
)


def test_sends_plain_and_html_with_starttls_login_and_timeout(smtp):
    message_id = send_mail(
        SETTINGS,
        to=["sup@example.com"],
        subject="Book a session",
        text="Please book",
        html="<p>Please book</p>",
    )
    [server] = smtp.instances
    assert (server.host, server.port, server.timeout) == ("smtp.example", 587, 7)
    assert server.tls and server.login_as == ("u", "p") and server.closed
    [message] = server.sent
    assert message["Message-ID"] == message_id
    assert message["To"] == "sup@example.com"
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "text/html"]


def test_plain_only_without_tls_or_login(smtp):
    settings = SmtpSettings(host="localhost", sender="a@b.c", port=25, starttls=False)
    send_mail(settings, to=["x@y.z"], subject="s", text="t")
    [server] = smtp.instances
    assert not server.tls and server.login_as is None
    assert server.sent[0].get_content_type() == "text/plain"


def test_password_is_not_in_the_settings_repr():
    assert "p'" not in repr(SETTINGS).split("username")[1]


def test_auth_failure_is_forbidden_and_closes_the_socket(smtp):
    smtp.fail_with = "auth"
    with pytest.raises(Forbidden):
        send_mail(SETTINGS, to=["a@b.c"], subject="s", text="t")
    assert smtp.instances[0].closed


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (smtplib.SMTPResponseException(451, b"try later"), Transient),
        (smtplib.SMTPResponseException(554, b"rejected"), Invalid),
        (smtplib.SMTPRecipientsRefused({"x@y.z": (550, b"no such user")}), Invalid),
        (smtplib.SMTPServerDisconnected("gone"), Transient),
        (TimeoutError("slow"), Transient),
    ],
)
def test_smtp_failures_map_to_typed_errors(smtp, failure, error):
    smtp.fail_with = failure
    with pytest.raises(error):
        send_mail(SETTINGS, to=["x@y.z"], subject="s", text="t")


def test_no_recipients_is_invalid(smtp):
    with pytest.raises(Invalid):
        send_mail(SETTINGS, to=[], subject="s", text="t")
    assert smtp.instances == []
