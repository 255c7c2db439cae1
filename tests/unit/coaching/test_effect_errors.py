"""Which host errors an effect retries later, and which fail it at once (issue 17)."""

import pytest

from connectors.errors import AuthExpired, Forbidden, Invalid, NotFound, RateLimited, Transient
from extension.coaching.booking import retryable


@pytest.mark.parametrize("error", [Transient("reset"), Transient("5xx", status=503),
                                   RateLimited("429", status=429),
                                   Invalid("timeout", status=408), Invalid("conflict", status=409)])
def test_transient_errors_and_408_409_are_retried_later(error):
    assert retryable(error)


@pytest.mark.parametrize("error", [Invalid("bad", status=400), AuthExpired("401", status=401),
                                   Forbidden("403", status=403), NotFound("404", status=404),
                                   Invalid("gone", status=410)])
def test_other_4xx_fail_at_once(error):
    assert not retryable(error)
