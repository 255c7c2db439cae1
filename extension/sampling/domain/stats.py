"""How much a handful of reviews says about an agent: margins of error and required sample sizes.

Definitions (QA scores on 0-100, so margins are in points):

* The population is the agent's interactions in the period (``N``); the estimate is the mean QA
  score of the ``n`` reviewed ones. Sampling is without replacement, so the standard error carries
  the finite-population correction ``FPC = sqrt((N - n) / (N - 1))``; reviewing all ``N`` leaves
  no sampling error.
* ``margin = q * sd / sqrt(n) * FPC``. With ``n >= 2`` scores, ``sd`` is the sample standard
  deviation (``n - 1`` denominator) and ``q`` the two-sided Student t quantile with ``n - 1``
  degrees of freedom. With fewer than two scores there is no observed spread, so ``sd`` is the
  plan's prior SD treated as known and ``q`` the normal quantile; with no score and no prior the
  margin is infinite.
* ``required_sample`` is the smallest ``n`` (at least 2, at most ``N``) whose t-based margin with
  the given SD is within the target: it starts from Cochran's normal approximation
  ``n0 = (z * sd / margin)^2``, ``n = n0 / (1 + (n0 - 1) / N)`` and steps up until the t margin
  fits, so a reviewer who reaches the reported size (and sees the same spread) meets the target.

The t quantile is computed here (scipy is not a dependency): the exact finite series for the
two-sided t distribution function with integer degrees of freedom (Abramowitz & Stegun 26.7.3-4)
inverted by bisection, and the Cornish-Fisher expansion above 300 degrees of freedom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist, stdev
from typing import Any

__all__ = ["AgentPrecision", "agent_precision", "margin_of_error", "normal_quantile", "precision_table",
           "required_sample", "t_quantile"]


def normal_quantile(confidence: float) -> float:
    """Two-sided normal critical value: P(|Z| <= z) = confidence."""
    return NormalDist().inv_cdf((1 + confidence) / 2)


def _abs_t_cdf(t: float, df: int) -> float:
    """P(|T| <= t) for Student t with integer ``df`` (A&S 26.7.3 odd, 26.7.4 even)."""
    theta = math.atan(t / math.sqrt(df))
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term = total = 1.0
        for j in range(1, df // 2):
            term *= (2 * j - 1) / (2 * j) * cos2
            total += term
        return sin * total
    if df == 1:
        return 2 * theta / math.pi
    term = total = math.cos(theta)
    for k in range(3, df - 1, 2):
        term *= (k - 1) / k * cos2
        total += term
    return 2 / math.pi * (theta + sin * total)


@lru_cache(maxsize=4096)
def t_quantile(confidence: float, df: int) -> float:
    """Two-sided Student t critical value: P(|T| <= t) = confidence with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("the t distribution needs at least one degree of freedom")
    if df > 300:
        return _cornish_fisher(normal_quantile(confidence), df)
    low, high = 0.0, 1.0
    while _abs_t_cdf(high, df) < confidence:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if _abs_t_cdf(middle, df) < confidence else (low, middle)
        if high - low < 1e-13 * high:
            break
    return (low + high) / 2


def _cornish_fisher(z: float, df: int) -> float:
    """t quantile from the normal one; error below 1e-10 for df > 300."""
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def _fpc(n: int, population: int) -> float:
    if population <= 1 or n >= population:
        return 0.0 if n >= population else 1.0
    return math.sqrt((population - n) / (population - 1))


def _margin(sd: float, *, n: int, population: int, quantile: float) -> float:
    return quantile * sd / math.sqrt(n) * _fpc(n, population)


def margin_of_error(scores: Sequence[float], *, population: int, confidence: float = 0.95,
                    prior_sd: float | None = None) -> float:
    """Half-width of the confidence interval for the agent's mean QA score (see module doc)."""
    n = len(scores)
    if population < n:
        raise ValueError(f"population {population} is smaller than the {n} scores")
    if n >= 2:
        return _margin(stdev(scores), n=n, population=population, quantile=t_quantile(confidence, n - 1))
    if n == 0 or prior_sd is None:
        return math.inf if n == 0 or population > 1 else 0.0
    return _margin(prior_sd, n=n, population=population, quantile=normal_quantile(confidence))


def required_sample(sd: float, *, population: int, margin: float, confidence: float = 0.95) -> int:
    """Smallest sample (with FPC) whose t-based margin is at most ``margin`` (see module doc)."""
    if margin <= 0:
        raise ValueError("the target margin must be positive")
    if population <= 2:
        return max(population, 0)
    z = normal_quantile(confidence)
    n0 = (z * sd / margin) ** 2
    n = max(2, math.ceil(n0 / (1 + (n0 - 1) / population)))
    while n < population and _margin(sd, n=n, population=population,
                                     quantile=t_quantile(confidence, n - 1)) > margin:
        n += 1
    return min(n, population)


@dataclass(frozen=True)
class AgentPrecision:
    """One agent's line in the plan report."""

    agent_id: Any
    population: int  # interactions in the period
    sampled: int  # chosen for review this period (including already sampled ones)
    scored: int  # QA scores available
    sd: float  # SD used: observed with >= 2 scores, else the plan's prior
    sd_source: str  # "observed" or "prior"
    margin: float  # at the scored size
    projected_margin: float  # once every sampled interaction is scored, with the same SD
    required: int  # sample needed for the target margin
    additional_needed: int  # required minus sampled, never negative

    @property
    def meets_target(self) -> bool:
        return self.additional_needed == 0


def agent_precision(agent_id: Any, *, scores: Sequence[float], population: int, sampled: int,
                    margin: float, confidence: float, prior_sd: float) -> AgentPrecision:
    """The report line for one agent; ``sampled`` is clipped into [len(scores), population]."""
    sampled = min(max(sampled, len(scores)), population)
    observed = len(scores) >= 2
    sd = stdev(scores) if observed else prior_sd
    needed = required_sample(sd, population=population, margin=margin, confidence=confidence)
    return AgentPrecision(
        agent_id=agent_id, population=population, sampled=sampled, scored=len(scores), sd=sd,
        sd_source="observed" if observed else "prior",
        margin=margin_of_error(scores, population=population, confidence=confidence, prior_sd=prior_sd),
        projected_margin=_projected(sd, n=sampled, population=population, confidence=confidence),
        required=needed, additional_needed=max(0, needed - sampled),
    )


def _projected(sd: float, *, n: int, population: int, confidence: float) -> float:
    """Margin at ``n`` scores with spread ``sd``: t from two scores on, normal for one."""
    if n == 0:
        return math.inf
    quantile = t_quantile(confidence, n - 1) if n >= 2 else normal_quantile(confidence)
    return _margin(sd, n=n, population=population, quantile=quantile)


def precision_table(counts: Mapping[Any, tuple[int, int]], scores: Mapping[Any, Sequence[float]], *,
                    margin: float, confidence: float, prior_sd: float) -> list[AgentPrecision]:
    """Report lines for agents given ``{agent: (population, sampled)}`` and their scores."""
    return [agent_precision(agent, scores=scores.get(agent, ()), population=population, sampled=sampled,
                            margin=margin, confidence=confidence, prior_sd=prior_sd)
            for agent, (population, sampled) in counts.items()]
