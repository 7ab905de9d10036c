"""Celery tasks: just another interface to notifications.actions. They take ids and own only retries."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from notifications import actions


@shared_task(name=actions.SWEEP_TASK, queue="notifications", acks_late=True)
def sweep() -> dict:
    run = actions.sweep_run()
    return {"run": run.pk, "found": run.found, "created": run.created, "queued": run.sent, "errors": len(run.errors)}


@shared_task(
    name=actions.SEND_TASK, bind=True, queue="notifications", acks_late=True, max_retries=actions.MAX_ATTEMPTS
)
def send(self, notification_id: int) -> str:
    try:
        result = actions.notification_send(notification_id=notification_id)
    except actions.SendFailed as exc:
        if exc.retry_in is None or self.request.is_eager or exc.retry_in.total_seconds() >= settings.CELERY_VISIBILITY_TIMEOUT:
            # Eager runs (no broker), given-up rows, and delays longer than Redis keeps a task reserved (a
            # countdown past the visibility timeout is handed out again and again): the row stays pending
            # with its next attempt time, and the sweep queues it once that time has come.
            return "failed"
        raise self.retry(countdown=exc.retry_in.total_seconds(), exc=exc) from exc
    return "sent" if result.sent else "not claimed"


@shared_task(name=actions.DIGEST_TASK, queue="notifications", acks_late=True)
def digest() -> dict:
    run = actions.digest_run()
    return {"run": run.pk, "users": run.found, "mails": run.sent, "errors": len(run.errors)}
