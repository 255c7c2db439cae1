"""GenesysClient: one tenant's authenticated, rate-limited access to the Platform API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis
import requests

from connectors.genesys.analytics import AnalyticsClient
from connectors.genesys.auth import client_credentials
from connectors.genesys.coaching import CoachingClient
from connectors.genesys.notifications import NotificationsClient
from connectors.genesys.quality import QualityClient
from connectors.genesys.recognition import RecognitionClient
from connectors.genesys.sta import StaClient
from connectors.genesys.users import UsersClient
from connectors.genesys.wfm import WfmClient
from connectors.http import Transport
from connectors.ratelimit import InMemoryTokenBucket, RedisTokenBucket, TokenBucket
from connectors.tokens import MemoryTokenCache, RedisTokenCache

_process_bucket: InMemoryTokenBucket | None = None
_process_bucket_lock = threading.Lock()


def process_bucket() -> InMemoryTokenBucket:
    """Without Redis, all clients of one process share a bucket, so two clients built for the
    same tenant still respect one limit. Created on first use, not at import."""
    global _process_bucket
    with _process_bucket_lock:
        if _process_bucket is None:
            _process_bucket = InMemoryTokenBucket()
        return _process_bucket


class GenesysClient:
    """Sub-clients: users, coaching, wfm, sta, quality, analytics, notifications, recognition."""

    def __init__(
        self,
        *,
        api_base: str,
        login_base: str,
        client_id: str,
        client_secret: str,
        tenant_key: str,
        redis: redis.Redis | None = None,
        session: requests.Session | None = None,
        bucket: TokenBucket | None = None,
        token_cache: MemoryTokenCache | RedisTokenCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
    ):
        token = client_credentials(
            login_base=login_base,
            client_id=client_id,
            client_secret=client_secret,
            cache=token_cache or (RedisTokenCache(redis) if redis is not None else None),
            session=session,
            sleep=sleep,
        )
        if bucket is None:
            bucket = RedisTokenBucket(redis) if redis is not None else process_bucket()
        self.transport = Transport(
            api_base,
            token_provider=token,
            bucket=bucket,
            bucket_key=f"genesys:{tenant_key}",
            max_attempts=max_attempts,
            session=session,
            sleep=sleep,
        )
        self.users = UsersClient(self.transport)
        self.coaching = CoachingClient(self.transport)
        self.wfm = WfmClient(self.transport, sleep=sleep)
        self.sta = StaClient(self.transport)
        self.quality = QualityClient(self.transport)
        self.analytics = AnalyticsClient(self.transport)
        self.notifications = NotificationsClient(self.transport)
        self.recognition = RecognitionClient(self.transport)
