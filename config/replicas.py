"""Read replicas for the read-only surfaces: the REST APIs' reads, the feeds and the CSV export.

Set DATABASE_REPLICA_URL (a PostgreSQL streaming replica of DATABASE_URL) and every GET or HEAD request to
/api/v1/, /rest/, /feeds/ and /incidents/export.csv reads from it; everything else (pages people work on,
every write, every request that may write, the worker and beat) uses the primary. A replica lags the
primary by a moment, so a REST client that writes and reads back at once may read the older row; pages
never do. Without the variable there is no "replica" database and this changes nothing.
"""

from __future__ import annotations

import contextvars

from django.conf import settings

REPLICA = "replica"
READ_ONLY_PREFIXES = ("/api/v1/", "/rest/", "/feeds/", "/incidents/export.csv")
_on_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("rootwatch_on_replica", default=False)


def reads_on_replica(method: str, path: str) -> bool:
    return REPLICA in settings.DATABASES and method in ("GET", "HEAD") and path.startswith(READ_ONLY_PREFIXES)


class ReplicaRouter:
    """Reads go to the replica only inside a request ReadsOnReplica marked; writes always to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if _on_replica.get() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, copied

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica gets the primary's schema by replication


class ReadsOnReplica:
    """Middleware: mark the read-only requests (reads_on_replica) for the router, for their whole run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not reads_on_replica(request.method, request.path_info):
            return self.get_response(request)
        token = _on_replica.set(True)
        try:
            response = self.get_response(request)
            if getattr(response, "streaming", False):
                # A streamed CSV or feed reads as it is sent, after this returns: keep it on the replica.
                response.streaming_content = _marked(response.streaming_content)
            return response
        finally:
            _on_replica.reset(token)


def _marked(chunks):
    token = _on_replica.set(True)
    try:
        yield from chunks
    finally:
        _on_replica.reset(token)
