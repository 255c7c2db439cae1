"""The events coaching handles: conversation facts merged into interactions, whose policy
decisions and coaching effects run at the end of each inbox batch (``interactions.finish``)."""

from __future__ import annotations

from typing import Any

from extension.coaching import interactions
from extension.platform.router import Router


def conversation_ended(event: Any, context: interactions.BatchContext) -> None:
    interactions.apply_ended(context, event.data)


def conversation_sentiment(event: Any, context: interactions.BatchContext) -> None:
    interactions.apply_sentiment(context, event.data)


def conversation_transcript(event: Any, context: interactions.BatchContext) -> None:
    interactions.apply_transcript(context, event.data)


def register(router: Router) -> None:
    router.add(conversation_ended, "conversation.ended")
    router.add(conversation_sentiment, "conversation.sentiment")
    router.add(conversation_transcript, "conversation.transcript")
