"""The webhook hot path's tenant config cache: one re-read per expiry, not one per thread."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet

from extension.platform import tenants
from extension.platform.crypto import SecretBox

BOX = SecretBox([Fernet.generate_key().decode()])


class SlowDirectory:
    """A session factory whose reads block until released and count themselves."""

    def __init__(self, status: str = "active") -> None:
        self.reads, self.status = 0, status
        self.entered, self.release = threading.Event(), threading.Event()
        self.release.set()

    def __call__(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get(self, _model, tenant_id):
        self.reads += 1
        self.entered.set()
        assert self.release.wait(5)
        return SimpleNamespace(id=tenant_id, status=self.status, inbound_secrets_enc=None,
                               api_keys_enc=None, timezone="UTC")


@pytest.fixture(autouse=True)
def _fresh_cache():
    tenants._cache.clear()
    tenants._refreshing.clear()
    yield
    tenants._cache.clear()
    tenants._refreshing.clear()


def _expire(tenant_id: str) -> None:
    expires, config = tenants._cache[tenant_id]
    tenants._cache[tenant_id] = (expires - tenants.CACHE_SECONDS - 1, config)


def test_a_fresh_entry_is_served_without_a_read():
    directory = SlowDirectory()
    first = tenants.load_config(directory, BOX, "t1")
    again = tenants.load_config(directory, BOX, "t1")
    assert directory.reads == 1
    assert again is first and first.status == "active"


def test_while_one_thread_rereads_an_expired_entry_the_others_get_the_old_one():
    directory = SlowDirectory()
    old = tenants.load_config(directory, BOX, "t1")
    _expire("t1")
    directory.status, directory.entered = "disabled", threading.Event()
    directory.release.clear()
    results = {}
    refresher = threading.Thread(target=lambda: results.setdefault(
        "refresher", tenants.load_config(directory, BOX, "t1")))
    refresher.start()
    assert directory.entered.wait(5)  # the refresher is inside its read
    others = [tenants.load_config(directory, BOX, "t1") for _ in range(5)]
    directory.release.set()
    refresher.join(5)
    assert directory.reads == 2  # the first load and one re-read, not six
    assert all(config is old for config in others)
    assert results["refresher"].status == "disabled"
    assert tenants.load_config(directory, BOX, "t1").status == "disabled"


def test_a_failed_reread_lets_the_next_caller_try_again():
    directory = SlowDirectory()
    tenants.load_config(directory, BOX, "t1")
    _expire("t1")

    def broken(*_args):
        raise RuntimeError("database down")

    directory.get = broken
    with pytest.raises(RuntimeError):
        tenants.load_config(directory, BOX, "t1")
    assert "t1" not in tenants._refreshing
    del directory.get  # the class method again
    assert tenants.load_config(directory, BOX, "t1").status == "active"


def test_invalidate_forces_a_read_at_once():
    directory = SlowDirectory()
    tenants.load_config(directory, BOX, "t1")
    directory.status = "disabled"
    tenants.invalidate("t1")
    assert tenants.load_config(directory, BOX, "t1").status == "disabled"
    assert directory.reads == 2
