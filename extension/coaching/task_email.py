"""Email for tasks a person must act on (e.g. schedule a coaching session by hand).

Sent as an effect job after the task is committed; the task records the send, so a retry after a
crash between sending and recording can at worst repeat one email, never lose it.
"""

from __future__ import annotations

from typing import cast

from connectors.errors import ConnectorError, Transient
from connectors.mail import send_mail
from extension.coaching.models import Task
from extension.platform import audit
from extension.platform.db import get_db
from extension.platform.mail import smtp_settings
from extension.platform.queue import get_dispatcher, job

ACTOR = "system:notify"


def dispatch_task_email(task_id: int) -> None:
    if get_dispatcher().claim_flag(f"effect:task-email:{task_id}", 60):
        get_dispatcher().enqueue(email_task, task_id)


def _message(task: Task) -> tuple[str, str]:
    details = task.details
    calls = "\n".join(f"  - conversation {cid}" for cid in details.get("conversation_ids", []))
    text = (f"{task.title}.\n\nAgent: {details.get('agent_id')}\nFlagged interactions:\n{calls}\n\n"
            "Open the Coachwire supervisor panel to pick a time.\n")
    return "Coaching to schedule by hand", text


@job(queue="effects", retries=4, intervals=(10, 60, 300, 1800))
def email_task(task_id: int) -> str:
    with get_db().session() as session:
        task = session.get(Task, task_id)
        if task is None or (task.details.get("email") or {}).get("status") == "sent":
            return "skipped"
        recipient, settings = task.details.get("email_to"), smtp_settings()
        subject, text = _message(task)
    if not recipient or settings is None:
        return _record(task_id, {"status": "not_sent", "why": "no recipient or SMTP not configured"})
    try:
        message_id = send_mail(settings, to=[recipient], subject=subject, text=text)
    except Transient:
        raise
    except ConnectorError as exc:
        return _record(task_id, {"status": "failed", "why": f"{type(exc).__name__}: {exc}"[:300]})
    return _record(task_id, {"status": "sent", "message_id": message_id})


def _record(task_id: int, email: dict) -> str:
    with get_db().session() as session:
        task = cast(Task, session.get(Task, task_id))  # the job's own task: it exists
        task.details = {**task.details, "email": email}
        audit.record(session, tenant_id=task.tenant_id, actor=ACTOR, action=f"task.email_{email['status']}",
                     subject_type="task", subject_id=str(task_id), details=email)
    return email["status"]
