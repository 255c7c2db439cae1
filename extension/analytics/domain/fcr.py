"""First-contact resolution (FCR): the rule, the customer key, nothing stored or fetched here.

An interaction is resolved at first contact when the same customer makes no repeat contact on
the same inquiry within the window (N days, per tenant, default 7) after it ended:

* contacts are ordered by (ended_at, conversation id), so equal timestamps still have an order;
* a later contact of the same (customer key, inquiry) that ended at most N days after this one
  (``later.ended_at - this.ended_at <= window``, the boundary is a repeat) makes it ``False``;
* with no such contact it is ``True`` once the window has passed (``now >= ended_at + window``)
  and ``None`` ("not yet known") before that;
* without a customer key or an inquiry there is nothing to match on: ``None``.

Only the next contact in that order matters: any later one within the window implies that the
next one is within it too. The result for a contact depends on its group and on ``now`` only,
so evaluating contacts in any arrival order gives the same values.

The customer key is an HMAC-SHA256 of the normalised address under a per-tenant secret, prefixed
with the tenant id: the same number hashes differently in two tenants, and the raw address is
never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 90
# values hosts put in ani/address fields when the caller is not identified: never one customer
ANONYMOUS = frozenset({"anonymous", "unknown", "private", "restricted", "unavailable", "withheld",
                       "sip:anonymous@anonymous.invalid"})
_PHONE_JUNK = re.compile(r"[\s().\-/]")


@dataclass(frozen=True)
class Contact:
    conversation_id: str
    customer_key: str | None
    inquiry: str | None
    ended_at: datetime


def window_for(days: int) -> timedelta:
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"the FCR window must be a whole number of days in 1..{MAX_WINDOW_DAYS}")
    return timedelta(days=days)


def fcr_values(contacts: Iterable[Contact], *, window: timedelta, now: datetime) -> dict[str, bool | None]:
    """FCR of every given contact, judged against the others given (give whole groups)."""
    result: dict[str, bool | None] = {}
    groups: dict[tuple[str, str], list[Contact]] = {}
    for contact in contacts:
        if contact.customer_key and contact.inquiry:
            groups.setdefault((contact.customer_key, contact.inquiry), []).append(contact)
        else:
            result[contact.conversation_id] = None
    for members in groups.values():
        members.sort(key=lambda c: (c.ended_at, c.conversation_id))
        for this, after in zip(members, [*members[1:], None], strict=True):
            result[this.conversation_id] = judge(this, after, window=window, now=now)
    return result


def judge(this: Contact, after: Contact | None, *, window: timedelta, now: datetime) -> bool | None:
    """FCR of ``this`` given the next contact of its group (or None when there is none)."""
    if after is not None and after.ended_at - this.ended_at <= window:
        return False
    return True if now >= this.ended_at + window else None


def normalize_address(raw: str | None) -> str | None:
    """One spelling per customer address: e-mail lower-cased, phone digits with a leading +,
    ``tel:``/``sip:`` prefixes dropped; empty and anonymous values are None."""
    if raw is None:
        return None
    value = raw.strip().lower()
    for prefix in ("tel:", "sip:", "mailto:"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    if not value or value in ANONYMOUS or raw.strip().lower() in ANONYMOUS:
        return None
    if "@" in value and not _looks_like_phone(value.split("@", 1)[0]):
        return value
    number = _PHONE_JUNK.sub("", value.split("@", 1)[0].split(";", 1)[0])
    if number.startswith("00"):
        number = "+" + number[2:]
    digits = number.lstrip("+")
    if digits.isdigit():
        return "+" + digits if number.startswith("+") else digits
    return value


def _looks_like_phone(local: str) -> bool:
    return bool(local) and _PHONE_JUNK.sub("", local).lstrip("+").isdigit()


def customer_key(*, tenant_id: str, secret: bytes, address: str | None) -> str | None:
    """A salted hash of the customer's address, or None when there is no usable address."""
    normalized = normalize_address(address)
    if normalized is None:
        return None
    message = f"{tenant_id}\x00{normalized}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def customer_address(*, direction: str | None, ani: str | None = None, dnis: str | None = None,
                     address_from: str | None = None, address_to: str | None = None) -> str | None:
    """The customer's side of a session: who called/wrote in (inbound) or who was reached
    (outbound). Live detail events and analytics sessions carry the same four fields."""
    outbound = (direction or "").lower() == "outbound"
    candidates = (address_to, dnis) if outbound else (address_from, ani)
    for candidate in candidates:
        if normalize_address(candidate) is not None:
            return candidate
    return None
