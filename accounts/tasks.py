from celery import shared_task


@shared_task(name="accounts.tasks.ping", queue="default")
def ping() -> str:
    """A no-op task: proves a worker consumes the queue (used by /healthz checks and tests)."""
    return "pong"
