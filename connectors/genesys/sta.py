"""Speech and text analytics: per-conversation sentiment, empathy and transcripts."""

from __future__ import annotations

from typing import Any

from connectors.http import Transport

BASE = "/api/v2/speechandtextanalytics/conversations"


class StaClient:
    def __init__(self, transport: Transport):
        self._t = transport

    def conversation_metrics(self, conversation_id: str) -> dict[str, Any]:
        """ConversationMetrics: sentimentScore/-Trend (-100..100), empathy, talk ratios."""
        return self._t.request("GET", f"{BASE}/{conversation_id}")

    def sentiments(self, conversation_id: str) -> dict[str, Any]:
        """SentimentData: positive and negative sentiment reasons."""
        return self._t.request("GET", f"{BASE}/{conversation_id}/sentiments")

    def transcript_url(self, conversation_id: str, communication_id: str) -> str:
        """The pre-signed URL of one communication's transcript (short-lived)."""
        path = f"{BASE}/{conversation_id}/communications/{communication_id}/transcripturl"
        return (self._t.request("GET", path) or {}).get("url") or ""

    def download_transcript(self, url: str) -> Any:
        """The transcript document behind a pre-signed URL. The URL is not a Genesys API host
        (an S3 bucket in production; the sandbox may serve it from its own address), so it is
        fetched by a transport without a token provider: our bearer token is never sent there,
        whatever host the URL names. Same session, timeouts and retry policy."""
        return Transport(url, session=self._t.session).request("GET", url)

    def transcript(self, conversation_id: str, communication_id: str) -> Any:
        """Both steps at once; None when the host gives no URL. A transcript not produced yet is
        ``NotFound`` (404) and a tenant without STA access ``Forbidden`` (403), as typed errors."""
        url = self.transcript_url(conversation_id, communication_id)
        return self.download_transcript(url) if url else None
