"""Writes for notifications: the sweep, claiming and sending, digests, preferences, watches.

Exactly once: the sweep inserts rows that are unique per (subject, kind, due date,
recipient) and ignores conflicts, so sweeps in any number and order make each row once;
a sender claims a row with a compare-and-set (`UPDATE ... WHERE state='pending'`) and
mails only if its UPDATE changed exactly one row, so a retry, a second worker or a second
sweep never mails it twice. A failed send puts the row back to pending with an
exponential backoff (never lost); after MAX_ATTEMPTS it is marked failed for staff to see.

The one window left: a worker that dies after the SMTP server accepted a mail and before
the row is marked sent. Its claim goes stale and the sweep puts it back to pending after
stale_claim_after() (2 minutes), so that mail may go out twice: at least once, rather than lost.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import permissions as perm
from audits.actions.overdue import overdue_statement_incidents_file
from config.errors import DomainError, NotPermitted
from notifications import finders, sweep_sql
from notifications.models import (
    Category,
    Delivery,
    Kind,
    Notification,
    NotificationPreference,
    Reason,
    SweepRun,
    Watch,
    category_of,
)
from notifications.tokens import unsubscribe_token, user_for_unsubscribe_token  # noqa: F401 (views and tests use them here)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)


def stale_claim_after() -> timedelta:
    """How long a claim may stay unfinished before the sweep hands its row to another worker
    (NOTIFICATION_STALE_CLAIM_SECONDS, default 2 minutes: well above one SMTP conversation's EMAIL_TIMEOUT)."""
    from django.conf import settings

    return timedelta(seconds=settings.NOTIFICATION_STALE_CLAIM_SECONDS)


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: 1, 2, 4, ... minutes, at most 6 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def default_delivery(user: Any) -> str:
    """Staff hear of every overdue deadline: a daily digest unless they choose otherwise."""
    return Delivery.DIGEST if user.is_staff else Delivery.IMMEDIATE


def delivery_for(user: Any, kind: str = "") -> str:
    """The user's choice for the category of `kind` (reminders when no kind is given)."""
    pref = getattr(user, "notification_preference", None)
    category = category_of(kind) if kind else Category.REMINDERS
    if category == Category.REMINDERS:
        return pref.delivery if pref is not None else default_delivery(user)
    chosen = (pref.by_category or {}).get(category) if pref is not None else None
    return chosen if chosen in Delivery.values else Delivery.IMMEDIATE


def deliveries_for(user: Any) -> dict[str, str]:
    """Every category's current choice, for the settings page."""
    return {category: delivery_for(user, kind) for category, kind in _KIND_OF_CATEGORY.items()}


_KIND_OF_CATEGORY = {Category.REMINDERS: "", **{category_of(k): k for k in Kind.values if category_of(k) != Category.REMINDERS}}


# --- The sweep ---------------------------------------------------------------------------


def sweep_run(*, now: datetime | None = None, enqueue: bool = True) -> SweepRun:
    """Run every finder as of `now`, make the notifications that are new, and queue mail.

    Each finder runs in its own savepoint: one that fails (a source app half-built, a bad
    row) is recorded in the run's errors and the others still run.
    """
    started = timezone.now()
    as_of = now or started
    run = SweepRun.objects.create(job=SweepRun.Job.SWEEP, as_of=as_of, started_at=started)
    findings: list[finders.Finding] = []
    errors: list[str] = []
    try:
        # A statement overdue becomes its compliance incident, once (audits.actions.overdue: each in its
        # own transaction), before the reminders are found; the sweep still reminds of it.
        overdue_statement_incidents_file(now=as_of)
    except Exception as exc:  # the reminders still run
        logger.exception("notifications: filing incidents for overdue audit statements failed")
        errors.append(f"overdue_statement_incidents_file: {type(exc).__name__}: {exc}"[:500])
    for finder in finders.FINDERS:
        try:
            with transaction.atomic():
                findings.extend(finder(now=as_of))
        except Exception as exc:  # one broken source must not stop the reminders of the others
            logger.exception("notifications: finder %s failed", finder.__name__)
            errors.append(f"{finder.__name__}: {type(exc).__name__}: {exc}"[:500])
    with transaction.atomic():
        # The database expands each finding to its audience and inserts the rows that are new: two
        # statements however many findings and rows (notifications.sweep_sql). The few findings a
        # per-person rule of accounts.permissions must judge (security-sensitive incidents, statements,
        # distrust) are resolved here by notification_rows, in fixed queries.
        judged = [f for f in findings if not sweep_sql.set_based(f)]
        rows = notification_rows(findings=judged, run=run, created_at=started)
        sweep_sql.insert_findings([f for f in findings if sweep_sql.set_based(f)], run=run, created_at=started,
                                  rows=rows)
        released = claims_release_stale(now=started)
        run.found = len(findings)
        run.created = run.notifications.count()
        run.by_kind = dict(sorted(Counter(f.kind for f in findings).items()))
        if released:
            run.by_kind["stale_claims_released"] = released
        run.errors = errors
        to_send = list(
            Notification.objects.sendable(now=timezone.now(), delivery=Delivery.IMMEDIATE)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)
        )
        run.sent = len(to_send)
        run.finished_at = timezone.now()
        run.save()
        if enqueue and to_send:
            transaction.on_commit(lambda: enqueue_sends(to_send))
    return run


# The tasks by name: notifications.tasks calls these actions, so importing it here would close a
# circle. NotificationsConfig.ready() imports the tasks module, so every process has them registered.
SWEEP_TASK = "notifications.tasks.sweep"
SEND_TASK = "notifications.tasks.send"
DIGEST_TASK = "notifications.tasks.digest"


def _task(name: str):
    from celery import current_app

    return current_app.tasks[name]


def broker_available() -> bool:
    """A one-second ping, so a web request never waits on kombu's connection retries when Redis is down."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return True  # eager mode: tasks run in the process
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return True
    except Exception:
        return False


def sweep_enqueue(*, actor: Any) -> bool:
    """Queue a sweep now (the staff page's button). False when the broker is down: the next beat run catches up."""
    if not perm.can_run_sweep(actor):
        raise NotPermitted("Only root program staff start a sweep.")
    if not broker_available():
        return False
    try:
        _task(SWEEP_TASK).apply_async(retry=False)
        return True
    except Exception as exc:
        logger.warning("notifications: could not queue a sweep: %s", exc)
        return False


def enqueue_sends(ids: Iterable[int]) -> int:
    """Queue one send task per row; a broker that is down is logged, and the next sweep catches up."""
    queued = 0
    send = _task(SEND_TASK)
    for pk in ids:
        try:
            send.apply_async((pk,), retry=False)
            queued += 1
        except Exception as exc:  # kombu/redis connection errors: the row stays pending
            logger.warning("notifications: could not queue notification %s (%s); the next sweep retries", pk, exc)
            break
    return queued


def notification_rows(*, findings: list[finders.Finding], run: SweepRun | None, created_at: datetime) -> list[Notification]:
    """Resolve every finding's audience to rows, in a fixed number of queries for all findings.

    Representatives, staff, watches, users (with their preferences) and what those users
    represent are each one query. A security-sensitive incident reaches only those
    accounts.permissions lets see it, whoever else watches or is named on it.
    """
    from django.db.models import Q

    from accounts.models import User

    if not findings:
        return []
    owner_ids = {f.ca_owner_id for f in findings if f.ca_owner_id} | {
        f.extra.get("incident_owner_id") for f in findings if f.extra.get("incident_owner_id")
    }
    reps: dict[int, set[int]] = defaultdict(set)
    if owner_ids:
        through = User.represented_owners.through
        for owner_id, user_id in through.objects.filter(caowner_id__in=owner_ids).values_list("caowner_id", "user_id"):
            reps[owner_id].add(user_id)
    watch_owner: dict[int, set[int]] = defaultdict(set)
    if owner_ids:
        for user_id, owner_id in Watch.objects.filter(ca_owner_id__in=owner_ids).values_list("user_id", "ca_owner_id"):
            watch_owner[owner_id].add(user_id)

    wanted: set[int] = set()
    for f in findings:
        wanted |= set(f.user_ids) | {user_id for user_id, _ in f.user_reasons}
    wanted |= {u for s in reps.values() for u in s}
    wanted |= {u for s in watch_owner.values() for u in s}
    need_staff = any(f.staff for f in findings) or any(f.security_sensitive for f in findings)
    user_q = Q(pk__in=wanted) | Q(is_staff=True) if need_staff else Q(pk__in=wanted)
    users = {
        u.pk: u
        for u in User.objects.filter(user_q, is_active=True).select_related("notification_preference")
    }
    staff_ids = {pk for pk, u in users.items() if u.is_staff}
    perm.load_represented_owner_ids(users.values())
    # The incidents themselves, with their CC lists, so a security-sensitive one is judged by the
    # same rule as its page (reporter, assignee, CC list): two queries for all findings.
    sensitive_ids = {f.incident_id for f in findings if f.security_sensitive and f.incident_id}
    seen_incidents = {}
    if sensitive_ids:
        from compliance.models import Incident

        seen_incidents = {i.pk: i for i in Incident.objects.filter(pk__in=sensitive_ids).prefetch_related("cc")}

    rows: list[Notification] = []
    for f in findings:
        owner_id = f.ca_owner_id or f.extra.get("incident_owner_id")
        reasons: dict[int, set[str]] = defaultdict(set)
        for user_id in f.user_ids:
            reasons[user_id].add(Reason.NAMED)
        for user_id, reason in f.user_reasons:
            reasons[user_id].add(reason)
        if f.ca_owner_id:
            for user_id in reps.get(f.ca_owner_id, set()):
                reasons[user_id].add(Reason.CA_REPRESENTATIVE)
        if f.watchers:
            for user_id in watch_owner.get(owner_id, set()) if owner_id else ():
                reasons[user_id].add(Reason.WATCH)
        if f.staff:
            for user_id in staff_ids:
                reasons[user_id].add(Reason.STAFF)
        audience = set(reasons) - f.exclude_user_ids
        if f.security_sensitive:
            # A question to a named person leaves out the CA's representatives (ca_owner_id None),
            # but who may see the incident still depends on its CA owner.
            incident = seen_incidents.get(f.incident_id) or _IncidentSeen(
                ca_owner_id=f.incident_owner_id or owner_id, security_sensitive=True)
            audience = {u for u in audience if u in users and perm.can_view_incident(users[u], incident)}
        if f.seen_as is not None:
            rule, subject = f.seen_as
            allowed = getattr(perm, rule)
            audience = {u for u in audience if u in users and allowed(users[u], subject)}
        for user_id in sorted(audience):
            user = users.get(user_id)
            if user is None or not user.email:
                continue
            delivery = delivery_for(user, f.kind)
            rows.append(_row(f, run=run, created_at=created_at, recipient=user, email="", delivery=delivery,
                             reason=_reason_text(reasons[user_id])))
        for address in f.emails:
            rows.append(_row(f, run=run, created_at=created_at, recipient=None, email=address.lower(),
                             delivery=Delivery.IMMEDIATE, reason=f.email_reason))
    return rows


def _reason_text(reasons: set[str]) -> str:
    """The reasons in Reason's order, space-separated (as X-Bugzilla-Reason lists them)."""
    return " ".join(r for r in Reason.values if r in reasons)


@dataclass(frozen=True)
class _IncidentSeen:
    """What accounts.permissions.can_view_incident reads of an incident, as a finding carries it."""

    ca_owner_id: int | None
    security_sensitive: bool


def _row(f: finders.Finding, *, run, created_at, recipient, email, delivery, reason) -> Notification:
    thread = f.thread or (f"incident-{f.incident_id}" if f.incident_id else "")
    return Notification(
        subject_type=f.subject_type, subject_id=f.subject_id, kind=f.kind, due_date=f.due_date, due_at=f.due_at,
        recipient=recipient, email=email, title=f.title[:400], body=f.body, url=f.url[:500], delivery=delivery,
        reason=reason[:100], thread=thread[:60],
        state=Notification.State.SKIPPED if delivery == Delivery.NONE else Notification.State.PENDING,
        next_attempt_at=created_at, sweep_run=run, created_at=created_at,
    )


def claims_release_stale(*, now: datetime) -> int:
    """Claims older than stale_claim_after() belong to a worker that died: make them sendable again."""
    return Notification.objects.stale_claims(before=now - stale_claim_after()).update(
        state=Notification.State.PENDING, claim_token="", next_attempt_at=now,
        last_error="The worker sending it stopped before it finished; sent again.",
    )


# --- Sending -----------------------------------------------------------------------------


class SendFailed(Exception):
    """The mail did not go; the row is pending again and will be retried after `retry_in`."""

    def __init__(self, message: str, *, retry_in: timedelta | None):
        super().__init__(message)
        self.retry_in = retry_in


@dataclass(frozen=True)
class SendResult:
    claimed: bool
    sent: bool


def _claim(ids: list[int], *, now: datetime) -> tuple[str, int]:
    """Compare-and-set: pending -> claimed for the rows still pending and due. Returns (token, rows changed)."""
    token = secrets.token_hex(16)
    changed = Notification.objects.filter(
        pk__in=ids, state=Notification.State.PENDING, next_attempt_at__lte=now
    ).update(state=Notification.State.CLAIMED, claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    return token, changed


def _release(token: str, *, now: datetime, error: str) -> timedelta | None:
    """Back to pending with backoff (or failed after MAX_ATTEMPTS). Returns the delay, None when given up."""
    rows = list(Notification.objects.filter(claim_token=token, state=Notification.State.CLAIMED))
    retry_in: timedelta | None = None
    for row in rows:
        if row.attempts >= MAX_ATTEMPTS:
            row.state = Notification.State.FAILED
        else:
            retry_in = backoff(row.attempts)
            row.state = Notification.State.PENDING
            row.next_attempt_at = now + retry_in
        row.last_error = error[:2000]
        row.claim_token = ""
    Notification.objects.bulk_update(rows, ["state", "next_attempt_at", "last_error", "claim_token"])
    return retry_in


def _mark_sent(token: str, *, now: datetime) -> int:
    return Notification.objects.filter(claim_token=token, state=Notification.State.CLAIMED).update(
        state=Notification.State.SENT, sent_at=now, claim_token="", last_error=""
    )


def notification_send(*, notification_id: int, now: datetime | None = None) -> SendResult:
    """Claim one row and deliver it. Not atomic on purpose: the claim commits before the mail goes.

    Raises SendFailed (row pending again, with its retry delay) when delivery fails.
    """
    from notifications import emails

    now = now or timezone.now()
    token, changed = _claim([notification_id], now=now)
    if changed != 1:
        return SendResult(claimed=False, sent=False)
    row = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        if row.kind == Kind.VERIFICATION_FOLLOW_UP:
            _resend_verification_request(row.subject_id)
        elif row.kind == Kind.VERIFICATION_REQUEST:
            if not _send_verification_request(row):
                return SendResult(claimed=True, sent=False)
        elif row.kind == Kind.PASSWORD_RESET:
            if not _send_password_reset(row):
                return SendResult(claimed=True, sent=False)
        else:
            emails.send_notification(row)
    except Exception as exc:
        retry_in = _release(token, now=timezone.now(), error=f"{type(exc).__name__}: {exc}")
        logger.warning("notifications: sending %s failed (%s); retry in %s", notification_id, exc, retry_in)
        raise SendFailed(str(exc), retry_in=retry_in) from exc
    _mark_sent(token, now=timezone.now())
    return SendResult(claimed=True, sent=True)


def _send_verification_request(row: Notification) -> bool:
    """The auditor's mail, with a link made now (audits.actions.verification_mail). A request answered,
    replaced or expired before it went is not sent: the row is marked skipped, saying why."""
    from audits.actions import VerificationLinkError, verification_mail
    from notifications import emails

    try:
        message = verification_mail(row.subject_id)
    except VerificationLinkError as exc:
        _skip(row, exc.message)
        return False
    emails.send_outbox_message(message, row)
    return True


def _skip(row: Notification, why: str) -> None:
    Notification.objects.filter(pk=row.pk, state=Notification.State.CLAIMED).update(
        state=Notification.State.SKIPPED, claim_token="", last_error=why)


def _send_password_reset(row: Notification) -> bool:
    """The reset mail with a token made now (accounts.emails); skipped when the account can no longer
    reset or its address changed since the request."""
    from accounts.emails import password_reset_message
    from accounts.models import User
    from history.models import Event
    from notifications import emails

    event = Event.objects.filter(pk=row.subject_id, subject_type="accounts.user").first()
    user = User.objects.filter(pk=event.subject_id).first() if event is not None else None
    message = password_reset_message(user) if user is not None and user.email.lower() == row.email else None
    if message is None:
        _skip(row, "The account cannot reset its password any more, or its address changed; not sent.")
        return False
    emails.send_outbox_message(message, row)
    return True


def _resend_verification_request(statement_id: int) -> None:
    """The auditor follow-up is the audits feature's own request mail (a fresh verification link)."""
    from audits.actions import statement_request_verification
    from audits.models import AuditStatement

    statement = AuditStatement.objects.get(pk=statement_id)
    statement_request_verification(actor=None, statement=statement)


def digest_run(*, now: datetime | None = None) -> SweepRun:
    """Mail each digest reader one message with their pending reminders; one failing mail doesn't stop the rest."""
    started = timezone.now()
    now = now or started
    run = SweepRun.objects.create(job=SweepRun.Job.DIGEST, as_of=now, started_at=started)
    user_ids = sorted(set(
        Notification.objects.sendable(now=now, delivery=Delivery.DIGEST)
        .filter(recipient__isnull=False).values_list("recipient_id", flat=True)
    ))
    errors, sent, items = [], 0, 0
    for user_id in user_ids:
        try:
            items += digest_send(user_id=user_id, now=now)
            sent += 1
        except SendFailed as exc:
            errors.append(f"user {user_id}: {exc}"[:500])
    run.found = len(user_ids)
    run.created = items
    run.sent = sent
    run.errors = errors
    run.finished_at = timezone.now()
    run.save()
    return run


def digest_send(*, user_id: int, now: datetime | None = None) -> int:
    """Claim a user's pending digest rows (compare-and-set) and mail them as one message. Returns rows sent."""
    from notifications import emails

    now = now or timezone.now()
    ids = list(
        Notification.objects.sendable(now=now, delivery=Delivery.DIGEST)
        .filter(recipient_id=user_id).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    token, changed = _claim(ids, now=now)
    if not changed:
        return 0
    rows = list(Notification.objects.filter(claim_token=token).select_related("recipient").order_by("due_at", "pk"))
    try:
        emails.send_digest(rows[0].recipient, rows)
    except Exception as exc:
        retry_in = _release(token, now=timezone.now(), error=f"{type(exc).__name__}: {exc}")
        raise SendFailed(str(exc), retry_in=retry_in) from exc
    return _mark_sent(token, now=timezone.now())


# --- What users do -----------------------------------------------------------------------


@transaction.atomic
def preference_set(*, actor: Any, delivery: str | None = None, by_category: dict[str, str] | None = None
                   ) -> NotificationPreference:
    """Choose the delivery of reminders (`delivery`) and of any other category (`by_category`).
    Rows still waiting for mail follow the new choice of their category; "none" keeps them in the app only."""
    if not perm.can_manage_notifications(actor):
        raise NotPermitted("Sign in to choose how you get reminders.")
    chosen = dict(by_category or {})
    if delivery is not None:
        chosen[Category.REMINDERS] = delivery
    errors = {}
    for category, value in chosen.items():
        if category not in Category.values:
            errors[category] = [f"Unknown kind of notification {category!r}."]
        elif value not in Delivery.values:
            errors[category] = ["Choose one of the options."]
    if errors or not chosen:
        raise DomainError("Nothing was saved: choose a delivery for each kind of notification.",
                          errors=errors or {"delivery": ["Choose one of the options."]})
    pref, _ = NotificationPreference.objects.select_for_update().get_or_create(
        user=actor, defaults={"delivery": default_delivery(actor)}
    )
    pref.delivery = chosen.pop(Category.REMINDERS, pref.delivery)
    pref.by_category = {**(pref.by_category or {}), **chosen}
    pref.save(update_fields=["delivery", "by_category", "updated_at"])
    actor.notification_preference = pref
    pending = list(Notification.objects.filter(recipient=actor, state=Notification.State.PENDING).only("pk", "kind"))
    by_delivery: dict[str, list[int]] = defaultdict(list)
    for row in pending:
        by_delivery[delivery_for(actor, row.kind)].append(row.pk)
    for value, ids in by_delivery.items():
        rows = Notification.objects.filter(pk__in=ids)
        if value == Delivery.NONE:
            rows.update(delivery=value, state=Notification.State.SKIPPED)
        else:
            rows.update(delivery=value)
    return pref


def unsubscribe(*, token: str) -> NotificationPreference:
    """One click from an e-mail: stop all mail of every kind (still shown in the app)."""
    user = user_for_unsubscribe_token(token)
    return preference_set(actor=user, by_category={c: Delivery.NONE for c in Category.values})


@transaction.atomic
def watch_add(*, actor: Any, ca_owner) -> Watch:
    """Watch a CA owner (all its incidents and audits). One incident is watched by joining its CC
    list: compliance.actions.cc.cc_add."""
    if ca_owner is None:
        raise DomainError("Choose a CA owner to watch.")
    if not perm.can_manage_notifications(actor):
        raise NotPermitted("Sign in to watch a CA.")
    watch, _ = Watch.objects.get_or_create(user=actor, ca_owner=ca_owner)
    return watch


@transaction.atomic
def watch_remove(*, actor: Any, watch_id: int) -> None:
    if not perm.can_manage_notifications(actor):
        raise NotPermitted("Sign in to change what you watch.")
    deleted, _ = Watch.objects.filter(pk=watch_id, user_id=actor.pk).delete()
    if not deleted:
        raise DomainError("You do not watch that.")


def notifications_mark_read(*, actor: Any, ids: Iterable[int] | None = None) -> int:
    if not perm.can_manage_notifications(actor):
        raise NotPermitted("Sign in to read your notifications.")
    qs = Notification.objects.filter(perm.notification_visibility_q(actor)).unread()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
