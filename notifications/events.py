"""Bug-mail: what happens to an incident is told at once, like Bugzilla's mail on every change.

compliance.signals announces each event (filed, comment, question, report, field change) inside
the transaction of the change; `on_incident_event` turns it into Findings and resolves them with
the sweep's own `actions.notification_rows`, so an event and a reminder reach people by one rule:

- who: the reporter, the assignee, the CC list, the incident's watchers and the watchers of its CA
  owner, the CA's representatives; a question goes to the asked person (or the CA's
  representatives) as "Question for you"; a new security-sensitive or unconfirmed incident goes to
  staff too (staff triage it). Nobody is mailed their own change.
- what they may see: every recipient passes accounts.permissions for the incident (security-
  sensitive ones: staff, the CA's representatives, reporter, assignee, CC) and, for a private
  comment, for that comment; everyone else gets no row at all.
- how: each person's choice for the event's category (immediate, digest, none); rows commit with
  the change and immediate ones are queued after commit (a broker that is down leaves them pending,
  and the next sweep queues them).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from accounts import permissions as perm
from compliance import signals
from notifications.finders import Finding
from notifications.models import Delivery, Kind, Notification, Reason, SubjectType

logger = logging.getLogger(__name__)

# Field keys of incident history rows, as people read them in a mail.
FIELD_LABELS = {
    "title": "Title",
    "status": "Status",
    "resolution": "Resolution",
    "whiteboard": "Whiteboard",
    "next_update": "Next update",
    "assignee": "Assignee",
    "security_sensitive": "Security-sensitive",
    "ca_owner": "CA owner",
    "source": "Source",
    "became_aware_at": "Became aware",
    "cc": "CC list",
    "depends_on": "Depends on",
    "blocks": "Blocks",
    "duplicate_of": "Duplicate of",
    "see_also": "See also",
}


def _name(actor: Any) -> str:
    from history.models import SYSTEM

    return actor.get_username() if getattr(actor, "pk", None) else SYSTEM


def _audience(incident) -> tuple[tuple[int, str], ...]:
    """The people named on the incident, with why: one query (the CC list, the one incident watch)."""
    named: list[tuple[int, str]] = []
    if incident.reporter_id:
        named.append((incident.reporter_id, Reason.REPORTER))
    if incident.assignee_id:
        named.append((incident.assignee_id, Reason.ASSIGNED_TO))
    named += [(pk, Reason.CC) for pk in incident.cc.values_list("pk", flat=True)]
    return tuple(named)


def _representatives(ca_owner_id: int | None) -> list[int]:
    from accounts.models import User

    if not ca_owner_id:
        return []
    through = User.represented_owners.through
    return list(through.objects.filter(caowner_id=ca_owner_id).values_list("user_id", flat=True))


def _shown(field: str, value: Any) -> str:
    """A stored choice key as its label (source "third_party" reads "Third party reported")."""
    from compliance.models import Incident

    choices = {"status": Incident.Status, "resolution": Incident.Resolution, "source": Incident.Source}.get(field)
    text = str(value or "")
    return str(dict(choices.choices).get(text, text)) if choices is not None and text else text


def _change_lines(changes) -> str:
    lines = []
    for event in changes:
        label = FIELD_LABELS.get(event.field, event.field.replace("_", " ").capitalize())
        old, new = _shown(event.field, event.old), _shown(event.field, event.new)
        lines.append(f"{label}: {old or '(none)'} → {new or '(none)'}")
    return "\n".join(lines)


def findings_for(event: signals.IncidentEvent) -> list[Finding]:
    incident = event.incident
    title = f"Bug {incident.number}: {incident.title}"
    url = incident.get_absolute_url()
    actor_id = getattr(event.actor, "pk", None)
    who = _name(event.actor)
    common = dict(
        due_at=event.at, title=title, ca_owner_id=incident.ca_owner_id, incident_id=incident.pk,
        incident_owner_id=incident.ca_owner_id, security_sensitive=incident.security_sensitive,
        watchers=True, user_reasons=_audience(incident),
        exclude_user_ids=frozenset({actor_id} if actor_id else ()), thread=f"incident-{incident.pk}",
    )
    comment = event.comment
    if event.kind == signals.FILED:
        sensitive = " It is security-sensitive: only those allowed to see it get this mail." if incident.security_sensitive else ""
        first = incident.comments.order_by("created_at", "pk").values_list("body", flat=True).first() or ""
        owner = incident.ca_owner.name if incident.ca_owner_id else "no CA owner"
        return [Finding(
            kind=Kind.INCIDENT_FILED, subject_type=SubjectType.INCIDENT, subject_id=incident.pk, url=url,
            body=f"{who} filed bug {incident.number} for {owner} ({incident.get_status_display()}).{sensitive}\n\n{first}",
            staff=incident.security_sensitive or incident.status == incident.Status.UNCONFIRMED, **common,
        )]
    if event.kind == signals.CHANGED:
        return [Finding(
            kind=Kind.INCIDENT_CHANGED, subject_type=SubjectType.CHANGE, subject_id=event.changes[0].pk, url=url,
            body=f"{who} changed bug {incident.number}:\n\n{_change_lines(event.changes)}", **common,
        )]
    anchor = f"{url}#c{comment.pk}"
    seen_as = (perm.can_view_comment.__name__, comment) if comment.is_private else None
    if event.kind == signals.REPORT:
        report = event.report
        return [Finding(
            kind=Kind.REPORT_POSTED, subject_type=SubjectType.COMMENT, subject_id=comment.pk, url=anchor,
            body=f"{who} posted the {report.get_kind_display().lower()}, version {report.version}:\n\n{comment.body}",
            seen_as=seen_as, **common,
        )]
    private = " (private: root program staff only)" if comment.is_private else ""
    said = f"{who} wrote a {comment.get_kind_display().lower()}{private}:\n\n{comment.body}"
    if event.kind == signals.QUESTION:
        question = event.question
        asked = [question.asked_user_id] if question.asked_user_id else _representatives(incident.ca_owner_id)
        whom = question.asked_user.get_username() if question.asked_user_id else f"{incident.ca_owner}'s representatives"
        ask = Finding(
            kind=Kind.QUESTION_ASKED, subject_type=SubjectType.COMMENT, subject_id=comment.pk, url=anchor,
            body=f"{who} asked {whom} a question; please answer within 7 days (the incident's page has the "
                 f"answer form):\n\n{comment.body}",
            **{**common, "ca_owner_id": None, "watchers": False,
               "user_reasons": tuple((pk, Reason.ASKED) for pk in asked)},
        )
        rest = Finding(
            kind=Kind.COMMENT_ADDED, subject_type=SubjectType.COMMENT, subject_id=comment.pk, url=anchor,
            body=said, **{**common, "exclude_user_ids": common["exclude_user_ids"] | set(asked)},
        )
        return [ask, rest]
    return [Finding(
        kind=Kind.COMMENT_ADDED, subject_type=SubjectType.COMMENT, subject_id=comment.pk, url=anchor,
        body=said, seen_as=seen_as, **common,
    )]


def store_and_queue(findings: list[Finding], *, at, what: str) -> list[Notification]:
    """Store the rows in the caller's transaction; queue the immediate ones after commit (robust: a
    broker or mail failure there is logged, never an error for the person who acted). A failure to
    make the rows is logged and must not undo the comment or change that caused them."""
    from notifications import actions

    try:
        with transaction.atomic():
            made = Notification.objects.bulk_create(actions.notification_rows(findings=findings, run=None, created_at=at))
    except Exception:
        logger.exception("notifications: could not make the mails of %s", what)
        return []
    ids = [row.pk for row in made if row.state == Notification.State.PENDING and row.delivery == Delivery.IMMEDIATE]
    if ids:
        transaction.on_commit(lambda: actions.broker_available() and actions.enqueue_sends(ids), robust=True)
    return made


def on_incident_event(sender, *, event: signals.IncidentEvent, **kwargs) -> list[Notification]:
    return store_and_queue(findings_for(event), at=event.at, what=f"{event.kind} on incident {event.incident.pk}")


def on_verification_requested(sender, *, request, **kwargs) -> list[Notification]:
    """The auditor is not a user: the row holds the address; the link is made when the mail is sent."""
    statement = request.statement
    finding = Finding(
        kind=Kind.VERIFICATION_REQUEST, subject_type=SubjectType.VERIFICATION_REQUEST, subject_id=request.pk,
        due_at=request.created_at, title=f"Verification request for {statement.ca_owner}'s audit statement",
        emails=(request.sent_to,), email_reason=Reason.AUDITOR,
    )
    return store_and_queue([finding], at=request.created_at, what=f"verification request {request.pk}")


def on_password_reset_requested(sender, *, user, event, **kwargs) -> list[Notification]:
    """Account mail: to the address (every request is mailed, whatever the person chose for news),
    one row per request (its history row is the subject); the link is made when it is sent."""
    finding = Finding(
        kind=Kind.PASSWORD_RESET, subject_type=SubjectType.ACCOUNT_EVENT, subject_id=event.pk, due_at=event.at,
        title="Reset your Rootwatch password", emails=(user.email,), email_reason=Reason.ACCOUNT,
    )
    return store_and_queue([finding], at=event.at, what=f"password reset of user {user.pk}")


def connect() -> None:
    from accounts import signals as account_signals
    from audits import signals as audit_signals

    account_signals.password_reset_requested.connect(on_password_reset_requested, dispatch_uid="notifications.reset")

    signals.incident_event.connect(on_incident_event, dispatch_uid="notifications.events")
    audit_signals.verification_requested.connect(on_verification_requested, dispatch_uid="notifications.verification")
