"""Session-wide generated records and their pandas frame (generation is seeded and pure)."""

import pytest

from tests.unit.analytics.generate import generate
from tests.unit.analytics.reference import frame


@pytest.fixture(scope="session")
def records():
    return generate(seed=7)


@pytest.fixture(scope="session")
def df(records):
    return frame(records)
