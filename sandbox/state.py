"""Runtime state around the world: configuration, issued tokens and the test controls."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app

from sandbox.world import World


@dataclass
class Config:
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    # person sign-on clients (Code Authorization with PKCE; no secret) and their codes' life
    sso_client_ids: tuple[str, ...] = ("sandbox-sso-client", "sandbox-sso-other")
    code_seconds: int = 120
    token_seconds: int = 86400
    heartbeat_seconds: float = 30.0
    channel_hours: float = 24.0
    max_appointment_minutes: int = 60
    graph_client_id: str = "graph-client"
    graph_client_secret: str = "graph-secret"
    google_client_id: str = "google-client"
    google_client_secret: str = "google-secret"
    google_refresh_token: str = "google-refresh"
    # the business unit's week rules (BusinessUnitSettingsResponse) and schedule length
    bu_start_day: str = "Monday"  # startDayOfWeek: Sunday..Saturday
    bu_time_zone: str = "Europe/London"  # timeZone (IANA)
    schedule_weeks: int = 1  # weekCount of each published schedule and forecast
    # share of agent-schedule queries answered asynchronously (seeded): half of them Processing
    # (no result), half with a downloadUrl; 0 answers every query inline
    wfm_async_rate: float = 0.0
    # Coachwire's panels for the console page (/sandbox/console): its base URL and tenant path,
    # e.g. http://127.0.0.1:5000/t/demo; empty = the console says how to set it
    panels_url: str = ""


@dataclass
class Controls:
    throttle_remaining: int = 0
    retry_after: int = 1
    slots_mode: str = "on"  # on | 404 | 501
    faults: list = field(default_factory=list)  # faults.FaultRule, armed by /sandbox/control/faults
    wfm_processing: int = 0  # the next n agent-schedule queries answer Processing


@dataclass
class SandboxState:
    world: World
    config: Config
    fixed_now: datetime | None = None
    controls: Controls = field(default_factory=Controls)
    tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # token -> (realm, exp)
    codes: dict[str, dict] = field(default_factory=dict)  # authorization code -> its grant
    # a person's token -> (user id, OAuth client id); client-credentials tokens are not here
    user_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    hub: object = None  # notifications.Hub, set by the notifications module

    def now(self) -> datetime:
        return self.fixed_now or datetime.now(UTC)

    def issue_token(self, realm: str) -> tuple[str, int]:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = (realm, self.now() + timedelta(seconds=self.config.token_seconds))
        return token, self.config.token_seconds

    def token_valid(self, token: str, realm: str) -> bool:
        with self.lock:
            entry = self.tokens.get(token)
        return bool(entry and entry[0] == realm and entry[1] > self.now())

    def take_throttle(self) -> int | None:
        """Consume one throttled call; the Retry-After to send, or None when not throttled."""
        with self.lock:
            if self.controls.throttle_remaining <= 0:
                return None
            self.controls.throttle_remaining -= 1
            return self.controls.retry_after


def state() -> SandboxState:
    return current_app.extensions["sandbox"]


def world() -> World:
    return state().world
