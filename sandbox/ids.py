"""Deterministic identifiers: every id in the world comes from the seeded RNG, so the
sandbox served with seed 7 and the event generator run with seed 7 agree on ids."""

from __future__ import annotations

import random
import uuid


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stable_id(*parts: object) -> str:
    """A name-based id for things derived from other ids (e.g. a webhook message id)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox:" + ":".join(map(str, parts))))
