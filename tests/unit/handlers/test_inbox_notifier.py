"""The inbox writer's drain notifications: the first at once, later ones gathered, none lost."""

from handlers.inbox import _Notifier


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(interval: float = 0.02):
    sent: list[set[str]] = []
    clock = Clock()
    return _Notifier(sent.append, interval, clock=clock), sent, clock


def test_the_first_commit_after_a_quiet_spell_is_sent_at_once():
    notifier, sent, _ = make()
    assert notifier.due_in() is None
    notifier.add(["acme"])
    assert sent == [{"acme"}] and notifier.due_in() is None


def test_commits_within_the_interval_are_gathered_and_sent_together_when_due():
    notifier, sent, clock = make()
    notifier.add(["acme"])
    clock.now += 0.005
    notifier.add(["acme", "globex"])
    clock.now += 0.005
    notifier.add(["initech"])
    assert sent == [{"acme"}]
    assert abs(notifier.due_in() - 0.01) < 1e-9
    notifier.flush_if_due()
    assert sent == [{"acme"}]  # not due yet
    clock.now += 0.01
    assert notifier.due_in() < 1e-9
    notifier.flush_if_due()
    assert sent == [{"acme"}, {"acme", "globex", "initech"}]
    assert notifier.due_in() is None


def test_a_forced_flush_sends_what_was_gathered_at_once():
    notifier, sent, _ = make()
    notifier.add(["acme"])
    notifier.add(["globex"])
    notifier.flush(force=True)
    assert sent == [{"acme"}, {"globex"}]
    notifier.flush(force=True)
    assert sent == [{"acme"}, {"globex"}]  # nothing gathered, nothing sent


def test_a_failing_send_is_logged_and_does_not_stop_the_writer(caplog):
    clock = Clock()
    calls = []

    def send(tenant_ids):
        calls.append(tenant_ids)
        raise ConnectionError("redis is down")

    notifier = _Notifier(send, 0.02, clock=clock)
    notifier.add(["acme"])
    assert calls == [{"acme"}] and "enqueue after commit failed" in caplog.text
    clock.now += 1
    notifier.add(["acme"])
    assert len(calls) == 2
