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
        """The transcript document behind a pre-signed URL (our token is not sent there)."""
        return self._t.download(url)

    def transcript(self, conversation_id: str, communication_id: str) -> Any:
        """Both steps at once; None when the host has no transcript for the communication."""
        url = self.transcript_url(conversation_id, communication_id)
        return self.download_transcript(url) if url else None
