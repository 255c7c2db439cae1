"""The FCR rule and the customer key (extension.analytics.domain.fcr), pure."""

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from extension.analytics.domain import fcr

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
LATE = T0 + timedelta(days=60)  # every window has passed


def c(cid, minutes=0.0, *, key="k1", inquiry="billing", days=0.0):
    return fcr.Contact(cid, key, inquiry, T0 + timedelta(days=days, minutes=minutes))


def test_a_repeat_within_the_window_makes_the_earlier_contact_not_resolved():
    values = fcr.fcr_values([c("a"), c("b", days=3)], window=WEEK, now=LATE)
    assert values == {"a": False, "b": True}


def test_a_repeat_at_exactly_n_days_is_a_repeat_and_one_millisecond_later_is_not():
    exact = fcr.fcr_values([c("a"), c("b", days=7)], window=WEEK, now=LATE)
    after = fcr.fcr_values([c("a"), fcr.Contact("b", "k1", "billing", T0 + WEEK + timedelta(milliseconds=1))],
                           window=WEEK, now=LATE)
    assert exact["a"] is False
    assert after["a"] is True


def test_other_inquiries_and_other_customers_are_not_repeats():
    values = fcr.fcr_values([c("a"), c("b", days=1, inquiry="tech"), c("x", days=1, key="k2")],
                            window=WEEK, now=LATE)
    assert values == {"a": True, "b": True, "x": True}


def test_not_yet_known_until_the_window_has_passed():
    contacts = [c("a")]
    assert fcr.fcr_values(contacts, window=WEEK, now=T0 + WEEK - timedelta(seconds=1)) == {"a": None}
    assert fcr.fcr_values(contacts, window=WEEK, now=T0 + WEEK) == {"a": True}
    # a repeat makes it known (False) at once, whatever the clock says
    assert fcr.fcr_values([c("a"), c("b", days=1)], window=WEEK, now=T0 + timedelta(days=1)) == {
        "a": False, "b": None}


def test_no_key_or_no_inquiry_cannot_be_judged():
    values = fcr.fcr_values([c("a", key=None), c("b", inquiry=None), c("c")], window=WEEK, now=LATE)
    assert values == {"a": None, "b": None, "c": True}


def test_equal_end_times_are_ordered_by_conversation_id():
    values = fcr.fcr_values([c("b"), c("a")], window=WEEK, now=LATE)
    assert values == {"a": False, "b": True}


def test_arrival_order_does_not_matter():
    rng = random.Random(5)
    contacts = [c(f"c{i}", days=rng.choice([0, 1, 6.5, 7, 7.0001, 15, 20]), key=rng.choice(["k1", "k2"]),
                  inquiry=rng.choice(["billing", "tech"])) for i in range(12)]
    expected = fcr.fcr_values(contacts, window=WEEK, now=T0 + timedelta(days=10))
    for _ in range(20):
        shuffled = contacts[:]
        rng.shuffle(shuffled)
        assert fcr.fcr_values(shuffled, window=WEEK, now=T0 + timedelta(days=10)) == expected


def test_matches_a_brute_force_reading_of_the_rule():
    rng = random.Random(11)
    contacts = [c(f"c{i:02d}", minutes=rng.randint(0, 30 * 24 * 60), key=rng.choice(["k1", "k2", None]),
                  inquiry=rng.choice(["billing", "tech", None])) for i in range(60)]
    now = T0 + timedelta(days=20)
    got = fcr.fcr_values(contacts, window=WEEK, now=now)
    for this in contacts:
        if this.customer_key is None or this.inquiry is None:
            assert got[this.conversation_id] is None
            continue
        repeats = [o for o in contacts if o is not this and (o.customer_key, o.inquiry) == (
            this.customer_key, this.inquiry) and (o.ended_at, o.conversation_id) > (
            this.ended_at, this.conversation_id) and o.ended_at - this.ended_at <= WEEK]
        want = False if repeats else (True if now >= this.ended_at + WEEK else None)
        assert got[this.conversation_id] is want, this


@pytest.mark.parametrize("days", [0, -1, 91, 1.5, True])
def test_window_must_be_whole_days_in_range(days):
    with pytest.raises(ValueError):
        fcr.window_for(days)


def test_window_for_default():
    assert fcr.window_for(fcr.DEFAULT_WINDOW_DAYS) == WEEK


@pytest.mark.parametrize(("raw", "normalized"), [
    ("tel:+44 7700 900-123", "+447700900123"),
    ("0044 7700 900123", "+447700900123"),
    ("sip:+447700900123@edge.example;user=phone", "+447700900123"),
    ("Jo.Baker@Example.COM", "jo.baker@example.com"),
    ("mailto:jo@example.com", "jo@example.com"),
    ("tel:anonymous", None), ("Anonymous", None), ("", None), ("  ", None), (None, None),
])
def test_addresses_are_normalized(raw, normalized):
    assert fcr.normalize_address(raw) == normalized


def test_customer_key_is_a_salted_hash_never_the_address():
    secret = b"s" * 32
    key = fcr.customer_key(tenant_id="acme", secret=secret, address="tel:+447700900123")
    assert key == fcr.customer_key(tenant_id="acme", secret=secret, address="+44 7700 900123")
    assert "7700900123" not in key and len(key) == 64
    assert key != fcr.customer_key(tenant_id="globex", secret=secret, address="tel:+447700900123")
    assert key != fcr.customer_key(tenant_id="acme", secret=b"t" * 32, address="tel:+447700900123")
    assert fcr.customer_key(tenant_id="acme", secret=secret, address="tel:anonymous") is None


@pytest.mark.parametrize(("direction", "expected"), [
    ("inbound", "tel:+1555"), ("INBOUND", "tel:+1555"), ("outbound", "tel:+1777"), (None, "tel:+1555")])
def test_customer_side_depends_on_direction(direction, expected):
    assert fcr.customer_address(direction=direction, ani="tel:+1555", dnis="tel:+1777") == expected


def test_customer_side_prefers_addresses_and_skips_anonymous():
    assert fcr.customer_address(direction="inbound", ani="tel:+1555", address_from="a@b.c") == "a@b.c"
    assert fcr.customer_address(direction="inbound", ani="tel:anonymous") is None
    assert fcr.customer_address(direction="inbound", address_from="", ani="tel:+1555") == "tel:+1555"


def test_every_permutation_of_three_contacts_agrees():
    contacts = [c("a"), c("b", days=7), c("c", days=14.5)]
    results = {tuple(sorted(fcr.fcr_values(list(p), window=WEEK, now=LATE).items()))
               for p in itertools.permutations(contacts)}
    assert results == {(("a", False), ("b", True), ("c", True))}
