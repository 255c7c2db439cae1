"""Which service handles which normalized event type (the router the worker dispatches on)."""

from __future__ import annotations

from extension.coaching import interactions
from extension.quality import host_evaluations
from handlers.router import Router

router = Router()


@router.register("conversation.ended")
def conversation_ended(event, context) -> None:
    interactions.apply_ended(context, event.data)


@router.register("conversation.sentiment")
def conversation_sentiment(event, context) -> None:
    interactions.apply_sentiment(context, event.data)


@router.register("conversation.transcript")
def conversation_transcript(event, context) -> None:
    interactions.apply_transcript(context, event.data)


@router.register("evaluation.changed")
def evaluation_changed(event, context) -> None:
    """A Genesys evaluation changed: mirror it into Coachwire's evaluations."""
    host_evaluations.apply_changed(context.session, tenant_id=context.tenant_id, data=event.data)


def handle(event, context) -> bool:
    """Run the event's handlers; False when nothing handles its type (the row is `ignored`)."""
    found = list(router.handlers_for(event))
    for handler in found:
        handler(event, context)
    return bool(found)
