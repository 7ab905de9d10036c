"""Every write to incidents: one typed function per change, atomic, with its history rows.

Each function takes the acting user as `actor` (None: the system, e.g. a task or an import),
checks `accounts.permissions` (so the pages and the API cannot disagree), raises
`config.errors` domain errors for bad input (nothing is stored), writes history rows
(history.record: who, when, field, old, new) in the same transaction and refreshes the cached earliest
deadline. Notifications read the events after commit.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts import permissions as perm
from compliance import selectors as sel
from compliance import signals
from compliance.actions import cc, relations
from compliance.domain import markdown, reports
from compliance.domain import responses as resp
from compliance.domain.whiteboard import parse_whiteboard
from compliance.models import (
    AffectedCertificate,
    Assessment,
    Comment,
    Decision,
    Incident,
    IncidentHistory,
    IncidentRelation,
    IncidentTag,
    Question,
    ReportVersion,
)
from config import stale
from config.errors import DomainError, NotPermitted, TransitionError
from history import actions as history
from history import selectors as history_sel
from history.models import Event
from registry.models import CAOwner

UNSET: Any = object()

S = Incident.Status
R = Incident.Resolution

# The allowed status transitions (Bugzilla's workflow as the compliance component uses it).
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    S.UNCONFIRMED: frozenset({S.NEW, S.ASSIGNED, S.RESOLVED}),
    S.NEW: frozenset({S.ASSIGNED, S.RESOLVED}),
    S.ASSIGNED: frozenset({S.NEW, S.RESOLVED}),
    S.REOPENED: frozenset({S.NEW, S.ASSIGNED, S.RESOLVED}),
    S.RESOLVED: frozenset({S.REOPENED}),
}

REPORT_COMMENT_KIND = {
    reports.ReportKind.PRELIMINARY: Comment.Kind.PRELIMINARY_REPORT,
    reports.ReportKind.FULL: Comment.Kind.FULL_REPORT,
    reports.ReportKind.CLOSURE: Comment.Kind.CLOSURE_REPORT,
}
# Kinds a plain comment may have; reports, questions and answers have their own actions.
FREE_COMMENT_KINDS = (Comment.Kind.COMMENT, Comment.Kind.UPDATE)
DECISION_ACTIONS = {**resp.ACTIONS, "no_action": "No further action", "other": "Other (see note)"}
TITLE_MAX = 400


# ------------------------------------------------------------------------- helpers


def _name(actor: Any) -> str:
    return getattr(actor, "username", "") or "Rootwatch"


def _actor_id(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotPermitted(message)


def _sync_tags(incident: Incident, now: datetime) -> None:
    board = parse_whiteboard(incident.whiteboard or "", today=now.date())
    IncidentTag.objects.filter(incident=incident).exclude(tag__in=board.tags).delete()
    have = set(IncidentTag.objects.filter(incident=incident).values_list("tag", flat=True))
    IncidentTag.objects.bulk_create([IncidentTag(incident=incident, tag=t) for t in board.tags if t not in have])
    incident.next_update = board.next_update


def refresh_deadlines(incident: Incident, now: datetime | None = None) -> None:
    """Recompute the cached earliest pending deadline (the list's overdue filter reads it)."""
    now = now or timezone.now()
    pending = sel.next_pending(sel.incident_deadlines(incident, now))
    incident.next_due_at = pending.due_at if pending else None
    incident.next_due_kind = str(pending.kind) if pending else ""
    Incident.objects.filter(pk=incident.pk).update(
        next_due_at=incident.next_due_at, next_due_kind=incident.next_due_kind
    )


def _touch(incident: Incident, now: datetime) -> None:
    incident.updated_at = now
    Incident.objects.filter(pk=incident.pk).update(updated_at=now)


_NEXT_UPDATE_RE = re.compile(r"\[\s*next[\s_-]*update[^\[\]]*\]|next[\s_-]*update[^\[\]]*", re.IGNORECASE)


def whiteboard_with_next_update(whiteboard: str, day: date | None) -> str:
    """The whiteboard with its "Next update" phrase replaced (or removed when `day` is None)."""
    stripped = " ".join(_NEXT_UPDATE_RE.sub(" ", whiteboard or "").split())
    if day is None:
        return stripped
    return f"{stripped} Next update {day.isoformat()}".strip()


def _aware(value: Any, field: str, now: datetime) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise DomainError(f"{field}: expected a date and time with a time zone.", errors={field: ["expected a date and time with a time zone"]})
    if value > now:
        raise DomainError(f"{field} is in the future.", errors={field: ["must not be in the future"]})
    return value


def _render(body: str) -> str:
    return markdown.render(body)


# ------------------------------------------------------------------------ incidents


def _next_number() -> int:
    return (Incident.objects.aggregate(m=Max("number"))["m"] or 0) + 1


@transaction.atomic
def incident_create(
    *,
    actor: Any,
    ca_owner: CAOwner | None,
    title: str,
    description: str,
    security_sensitive: bool = False,
    source: str = Incident.Source.SELF_REPORTED,
    whiteboard: str = "",
    became_aware_at: datetime | None = None,
) -> Incident:
    """File an incident; the title gets the `<CA owner name>: ` prefix, the description is comment 0."""
    if actor is not None:
        _require(perm.can_create_incident(actor), "Sign in to file an incident.")
        if security_sensitive:
            _require(perm.can_mark_security_sensitive(actor), "You may not file security-sensitive incidents.")
        if (whiteboard or "").strip():
            _require(perm.can_set_whiteboard_on_filing(actor), "Only root program staff set the whiteboard.")
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    if not isinstance(ca_owner, CAOwner) or ca_owner.pk is None:
        errors["ca_owner"] = ["Choose a known CA owner."]
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = ["A title is required."]
    if not (description or "").strip():
        errors["description"] = ["Describe what happened."]
    if source not in Incident.Source.values:
        errors["source"] = [f"Choose one of: {', '.join(Incident.Source.values)}."]
    try:
        aware = _aware(became_aware_at, "became_aware_at", now)
    except DomainError as exc:
        errors.update(exc.errors)
    if errors:
        raise DomainError("The incident was not filed: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                          errors=errors)
    prefix = f"{ca_owner.name}: "
    full_title = title if title.casefold().startswith(prefix.casefold()) else prefix + title
    if len(full_title) > TITLE_MAX:
        raise DomainError(f"The title is too long ({len(full_title)} characters, at most {TITLE_MAX}).",
                          errors={"title": [f"at most {TITLE_MAX - len(prefix)} characters"]})
    trusted_filer = actor is None or perm.can_file_confirmed(actor, ca_owner.pk)
    fields = dict(
        ca_owner=ca_owner, title=full_title, security_sensitive=bool(security_sensitive),
        whiteboard=(whiteboard or "").strip(), reporter=_actor_id(actor), source=source,
        became_aware_at=aware, first_disclosed_at=now, created_at=now, updated_at=now,
        # A CA's own filing (or staff's) is accepted at once; others wait for triage.
        status=S.ASSIGNED if trusted_filer else S.UNCONFIRMED,
    )
    for attempt in range(5):
        try:
            with transaction.atomic():
                incident = Incident.objects.create(number=_next_number(), **fields)
            break
        except IntegrityError:
            if attempt == 4:
                raise
    _sync_tags(incident, now)
    Incident.objects.filter(pk=incident.pk).update(next_update=incident.next_update)
    Comment.objects.create(
        incident=incident, author=_actor_id(actor), kind=Comment.Kind.COMMENT, body=description.strip(),
        body_html=_render(description.strip()), created_at=now,
    )
    history.record(actor=actor, subject=incident, action=IncidentHistory.CREATED,
        field="created", old="", new=_text(incident.title), at=now)
    refresh_deadlines(incident, now)
    signals.announce(signals.FILED, incident=incident, actor=actor, at=now)
    return incident


TRIAGE_FIELDS = ("title", "status", "resolution", "whiteboard", "next_update", "assignee", "security_sensitive",
                 "ca_owner", "source", "became_aware_at", "severity")
# Fields whose history rows read as their choice labels (a person reads them), not the stored keys.
_LABELLED = {"severity": Incident.Severity}


def _field_text(field: str, value: Any) -> str:
    return _LABELLED[field](value).label if field in _LABELLED else _text(value)


@transaction.atomic
def incident_update(
    *,
    actor: Any,
    incident: Incident,
    title: Any = UNSET,
    status: Any = UNSET,
    resolution: Any = UNSET,
    whiteboard: Any = UNSET,
    next_update: Any = UNSET,
    assignee: Any = UNSET,
    security_sensitive: Any = UNSET,
    ca_owner: Any = UNSET,
    source: Any = UNSET,
    became_aware_at: Any = UNSET,
    severity: Any = UNSET,
    dupe_of: Any = UNSET,
    base_version: Any = None,
    base: Any = None,
) -> list[Event]:
    """Staff triage: change any of the fields given; one history row per changed field.

    `dupe_of` (a bug number, None to clear) is the bug this one duplicates: RESOLVED DUPLICATE needs
    one, and naming one alone resolves the bug as a duplicate (compliance.actions.relations).

    `base` (a page: the fields as the form showed them) or `base_version` (the API's If-Match) is the
    version the change was made on; see config.stale for the merge, the 409 and the 412."""
    if actor is not None:
        _require(perm.can_triage(actor, incident), "Only root program staff triage incidents.")
    now = timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if base_version is not None or base is not None:
        given = dict(zip(TRIAGE_FIELDS, (title, status, resolution, whiteboard, next_update, assignee,
                                          security_sensitive, ca_owner, source, became_aware_at, severity),
                         strict=True))
        keep = stale.merge(current=sel.incident_snapshot(incident),
                           proposed={k: v for k, v in given.items() if v is not UNSET},
                           base_version=base_version, base=base,
                           changed_by=lambda field: history_sel.last_changed_by(incident, field))
        (title, status, resolution, whiteboard, next_update, assignee, security_sensitive, ca_owner, source,
         became_aware_at, severity) = (keep.get(f, UNSET) for f in TRIAGE_FIELDS)
    old = {f: getattr(incident, f) for f in TRIAGE_FIELDS}
    errors: dict[str, list[str]] = {}

    if title is not UNSET:
        title = " ".join((title or "").split())
        if not title:
            errors["title"] = ["A title is required."]
        elif len(title) > TITLE_MAX:
            errors["title"] = [f"at most {TITLE_MAX} characters"]
        incident.title = title
    if ca_owner is not UNSET:
        if not isinstance(ca_owner, CAOwner):
            errors["ca_owner"] = ["Choose a known CA owner."]
        else:
            incident.ca_owner = ca_owner
    if source is not UNSET:
        if source not in Incident.Source.values:
            errors["source"] = [f"Choose one of: {', '.join(Incident.Source.values)}."]
        incident.source = source
    if became_aware_at is not UNSET:
        try:
            incident.became_aware_at = _aware(became_aware_at, "became_aware_at", now)
        except DomainError as exc:
            errors.update(exc.errors)
    if severity is not UNSET:
        if (severity or "") not in Incident.Severity.values:
            errors["severity"] = [f"Choose one of: {', '.join(v for v in Incident.Severity.values if v)}, or none."]
        else:
            incident.severity = severity or ""
    if security_sensitive is not UNSET:
        incident.security_sensitive = bool(security_sensitive)
    if assignee is not UNSET:
        incident.assignee = assignee
    if whiteboard is not UNSET:
        incident.whiteboard = (whiteboard or "").strip()
    if next_update is not UNSET:
        if next_update is not None and not isinstance(next_update, date):
            errors["next_update"] = ["expected a date"]
        else:
            incident.whiteboard = whiteboard_with_next_update(incident.whiteboard, next_update)

    status, resolution = relations.status_for_dupe(dupe_of=dupe_of, status=status, resolution=resolution,
                                                   unset=UNSET, errors=errors)
    new_status = incident.status if status is UNSET else status
    new_resolution = incident.resolution if resolution is UNSET else (resolution or "")
    if status is not UNSET and status != incident.status:
        if status not in S.values:
            errors["status"] = [f"unknown status {status!r}"]
        elif status not in STATUS_TRANSITIONS[incident.status]:
            raise TransitionError(
                f"An incident cannot go from {incident.status} to {status}; allowed: "
                + ", ".join(sorted(STATUS_TRANSITIONS[incident.status])) + ".",
                errors={"status": [f"not allowed from {incident.status}"]},
            )
    if new_resolution not in R.values:
        errors["resolution"] = [f"unknown resolution {new_resolution!r}"]
    elif new_status == S.RESOLVED and not new_resolution:
        errors["resolution"] = ["A resolved incident needs a resolution."]
    elif new_status != S.RESOLVED and new_resolution:
        if status is UNSET and resolution is not UNSET:
            errors["resolution"] = ["Only a resolved incident has a resolution."]
        else:
            new_resolution = ""  # reopening clears the resolution, as in Bugzilla
    dupe = relations.plan_duplicate(actor=actor, incident=incident, dupe_of=dupe_of, unset=UNSET, errors=errors,
                                    old=(old["status"], old["resolution"]), new=(new_status, new_resolution))
    if errors:
        raise DomainError("Nothing was changed: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                          errors=errors)
    incident.status, incident.resolution = new_status, new_resolution
    _sync_tags(incident, now)
    events = []
    for field in TRIAGE_FIELDS:
        before, after = old[field], getattr(incident, field)
        if before != after:
            events.append(history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
                field=field, old=_field_text(field, before), new=_field_text(field, after), at=now))
    events += relations.apply_duplicate(actor=actor, incident=incident, plan=dupe, now=now)
    if incident.security_sensitive and not old["security_sensitive"]:
        events += cc.drop_unentitled(actor=actor, incident=incident, now=now)
    if not events:
        return []
    incident.updated_at = now
    incident.save()
    refresh_deadlines(incident, now)
    signals.announce(signals.CHANGED, incident=incident, actor=actor, at=now, changes=tuple(events))
    return events


def incident_watch(*, actor: Any, incident: Incident, watching: bool) -> None:
    """The Watch button: join or leave the CC list (compliance.actions.cc)."""
    cc.cc_set_watching(actor=actor, incident=incident, watching=watching)


def incident_cc_change(*, actor: Any, incident: Incident, add: Any = (), remove: Any = ()) -> list[Event]:
    """Change the CC list: compliance.actions.cc.cc_change (who may do what is written there)."""
    return cc.cc_change(actor=actor, incident=incident, add=add, remove=remove)


@transaction.atomic
def incident_relate(*, actor: Any, incident: Incident, kind: str, other_number: int, remove: bool = False) -> None:
    """Add (or remove) a relation: depends_on, blocks, duplicate_of, see_also."""
    _require(perm.can_triage(actor, incident), "Only root program staff link incidents.")
    other = Incident.objects.filter(number=other_number).first()
    if other is None or not perm.can_view_incident(actor, other):
        raise DomainError(f"There is no incident {other_number}.", errors={"other": ["unknown incident"]})
    if other.pk == incident.pk:
        raise DomainError("An incident cannot be related to itself.", errors={"other": ["same incident"]})
    if kind == "blocks":
        source, target, stored = other, incident, IncidentRelation.Kind.DEPENDS_ON
    elif kind in IncidentRelation.Kind.values:
        source, target, stored = incident, other, kind
    else:
        raise DomainError(f"Unknown relation {kind!r}.", errors={"kind": ["depends_on, blocks, duplicate_of or see_also"]})
    relations.lock_relations()
    dup = relations.duplicate_target(incident) if stored == IncidentRelation.Kind.DUPLICATE_OF else None
    if remove and dup is not None and dup.pk == other.pk and (incident.status, incident.resolution) == (S.RESOLVED, R.DUPLICATE):
        raise DomainError(f"Bug {incident.number} is resolved as a duplicate of bug {other.number}: reopen it, change "
                          "its resolution, or name another bug on the triage form.",
                          errors={"other": ["a RESOLVED DUPLICATE bug names the bug it duplicates"]})
    if not remove and stored == IncidentRelation.Kind.DEPENDS_ON:
        relations.check_depends_on(actor=actor, source=source, target=target)
    if not remove and stored == IncidentRelation.Kind.DUPLICATE_OF and (dup is None or dup.pk != other.pk):
        if dup is not None:
            raise DomainError(f"Bug {incident.number} is already a duplicate of bug {dup.number}; a bug duplicates "
                              "one bug: remove that relation first, or name another bug on the triage form.",
                              errors={"other": [f"already a duplicate of bug {dup.number}"]})
        relations.check_duplicate_of(actor=actor, incident=incident, other=other)
    now = timezone.now()
    if remove:
        deleted, _ = IncidentRelation.objects.filter(source=source, target=target, kind=stored).delete()
        if deleted:
            history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
                field=kind, old=_text(other.number), new="", at=now)
        return
    _, created = IncidentRelation.objects.get_or_create(source=source, target=target, kind=stored)
    if created:
        event = history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
            field=kind, old="", new=_text(other.number), at=now)
        _touch(incident, now)
        signals.announce(signals.CHANGED, incident=incident, actor=actor, at=now, changes=(event,))


# ------------------------------------------------------------------------- comments


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError("The comment is empty.", errors={"body": ["Write something."]})
    if len(body) > 200_000:
        raise DomainError("The comment is too long (at most 200,000 characters).", errors={"body": ["too long"]})
    return body


def _note_ca_response(incident: Incident, actor: Any, comment: Comment, now: datetime) -> None:
    """A reply by the CA's representative to a third party's report is its first response (IRG)."""
    if (
        incident.first_response_at is None
        and incident.source == Incident.Source.THIRD_PARTY
        and not comment.is_private
        and actor is not None
        and perm.represents(actor, incident.ca_owner_id)
    ):
        incident.first_response_at = now
        Incident.objects.filter(pk=incident.pk).update(first_response_at=now)


@transaction.atomic
def comment_create(
    *, actor: Any, incident: Incident, body: str, kind: str = Comment.Kind.COMMENT, is_private: bool = False
) -> Comment:
    """A comment or an update. An update by the CA (or staff on its behalf) restarts the update cadence."""
    _require(perm.can_comment(actor, incident), "Sign in to comment.")
    if is_private:
        _require(perm.can_post_private_comment(actor), "Only root program staff post private comments.")
    if kind not in FREE_COMMENT_KINDS:
        raise DomainError(
            f"A comment's kind is comment or update; reports, questions and answers have their own forms (got {kind!r}).",
            errors={"kind": ["comment or update"]},
        )
    if kind == Comment.Kind.UPDATE and not perm.can_file_report(actor, incident):
        raise NotPermitted("Updates are posted by the CA's representatives (or staff).")
    body = _check_body(body)
    now = timezone.now()
    comment = Comment.objects.create(
        incident=incident, author=_actor_id(actor), kind=kind, body=body, body_html=_render(body),
        is_private=bool(is_private), created_at=now,
    )
    _note_ca_response(incident, actor, comment, now)
    if kind == Comment.Kind.UPDATE and not is_private:
        incident.last_update_at = now
        Incident.objects.filter(pk=incident.pk).update(last_update_at=now)
    _touch(incident, now)
    refresh_deadlines(incident, now)
    signals.announce(signals.COMMENT, incident=incident, actor=actor, at=now, comment=comment)
    return comment


@transaction.atomic
def question_ask(*, actor: Any, incident: Incident, body: str, asked_user: Any = None) -> Question:
    """A needinfo to the CA (asked_user None) or to a named person; due in 7 days. Always public."""
    _require(perm.can_ask_question(actor, incident), "Sign in to ask a question.")
    if asked_user is None and incident.ca_owner_id is None:
        raise DomainError("This incident has no CA owner to ask; name a person.", errors={"asked_user": ["required"]})
    if asked_user is not None and not perm.can_view_incident(asked_user, incident):
        raise DomainError(f"{asked_user} cannot see this incident, so cannot be asked.",
                          errors={"asked_user": ["cannot see this incident"]})
    body = _check_body(body)
    now = timezone.now()
    comment = Comment.objects.create(
        incident=incident, author=_actor_id(actor), kind=Comment.Kind.QUESTION, body=body,
        body_html=_render(body), created_at=now,
    )
    question = Question.objects.create(incident=incident, comment=comment, asked_user=asked_user, asked_at=now)
    who = asked_user.username if asked_user is not None else (incident.ca_owner.name if incident.ca_owner else "")
    history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
        field="needinfo", old="", new=_text(who), at=now)
    _touch(incident, now)
    refresh_deadlines(incident, now)
    signals.announce(signals.QUESTION, incident=incident, actor=actor, at=now, comment=comment, question=question)
    return question


@transaction.atomic
def question_answer(*, actor: Any, question: Question, body: str, promised_date: date | None = None) -> Comment:
    """The asked party answers; an answer giving a date for the full answer counts as the answer in time."""
    incident = question.incident
    if not perm.can_answer_question(actor, question):
        asked = question.asked_user.username if question.asked_user_id else f"{incident.ca_owner}'s representatives"
        raise NotPermitted(f"Only {asked} can answer this question.", errors={"body": [f"only {asked} can answer"]})
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.closed_at is not None:
        raise TransitionError("This question is already answered.", errors={"question": ["already answered"]})
    now = timezone.now()
    if promised_date is not None:
        if not isinstance(promised_date, date) or isinstance(promised_date, datetime):
            raise DomainError("promised_date: expected a date.", errors={"promised_date": ["expected a date"]})
        if promised_date < now.date():
            raise DomainError("The promised date is in the past.", errors={"promised_date": ["must not be in the past"]})
        if question.promised_date is not None:
            raise DomainError("A date was already promised; post the full answer.",
                              errors={"promised_date": ["already promised"]})
    body = _check_body(body)
    comment = Comment.objects.create(
        incident=incident, author=_actor_id(actor), kind=Comment.Kind.ANSWER, body=body, body_html=_render(body),
        created_at=now,
    )
    if question.answered_at is None:
        question.answered_at = now
        question.answered_by = comment
    if promised_date is not None:
        question.promised_date = promised_date
        history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
            field="needinfo", old="asked", new=f"acknowledged, full answer by {promised_date.isoformat()}",
            at=now)
    else:
        question.closed_at = now
        history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
            field="needinfo", old="asked", new="answered", at=now)
    question.save()
    _note_ca_response(incident, actor, comment, now)
    _touch(incident, now)
    refresh_deadlines(incident, now)
    signals.announce(signals.COMMENT, incident=incident, actor=actor, at=now, comment=comment)
    return comment


# -------------------------------------------------------------------------- reports


def _report_error(exc: reports.ReportError) -> DomainError:
    count = sum(len(v) for v in exc.errors.values())
    return DomainError(f"The report has {count} problem(s); nothing was posted.", errors=exc.errors)


def report_preview(*, kind: str, data: dict) -> tuple[reports.CleanReport, str]:
    """Validate a report and give the Markdown exactly as `report_post` would post it."""
    try:
        clean = reports.validate(kind, data)
        return clean, reports.render_markdown(kind, clean)
    except reports.ReportError as exc:
        raise _report_error(exc) from None


def _link_certificates(fingerprints: list[str]) -> dict[str, Any]:
    try:
        from registry.selectors import certificates_by_fingerprints  # type: ignore[attr-defined]
    except ImportError:
        certificates_by_fingerprints = None
    if certificates_by_fingerprints is not None:
        found = certificates_by_fingerprints(fingerprints)
        return found if isinstance(found, dict) else {c.sha256: c for c in found}
    from registry.models import Certificate

    return {c.sha256: c for c in Certificate.objects.filter(sha256__in=fingerprints).only("pk", "sha256")}


def with_owner_ccadb_id(incident: Incident, kind: str, data: dict) -> dict:
    """A full report's "CA Owner CCADB unique ID" comes from the owner record (issue 14): filled in
    from incident.ca_owner.ccadb_id when the author left it out or empty (an API client need not
    repeat what Rootwatch knows). A value the author typed is kept, and validated as before."""
    if str(kind) != reports.ReportKind.FULL or not isinstance(data, dict):
        return data
    owner = incident.ca_owner if incident.ca_owner_id else None
    if owner is None or not owner.ccadb_id or str(data.get("ca_owner_ccadb_id") or "").strip():
        return data
    return {**data, "ca_owner_ccadb_id": owner.ccadb_id}


@transaction.atomic
def report_post(*, actor: Any, incident: Incident, kind: str, data: dict,
                base_version: int | None = None) -> ReportVersion:
    """Post a preliminary, full or closure report as a comment of that kind; a new version of a kind
    records what changed since the previous one. A full report's CSV replaces the affected certificates.

    `base_version` is the version the author started from (0: none existed); when a newer one was
    posted meanwhile, nothing is posted and the refusal shows what that version changed."""
    _require(perm.can_file_report(actor, incident) if actor is not None else True,
             "Reports are filed by the CA's representatives (or staff).")
    data = with_owner_ccadb_id(incident, kind, data)
    clean, text = report_preview(kind=kind, data=data)
    kind = str(clean.kind)
    now = timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    previous = sel.latest_report(incident, kind)
    if base_version is not None and base_version != (previous.version if previous else 0):
        raise _newer_report(incident, kind, base_version, previous)
    changes: list[dict] = []
    if previous is not None:
        try:
            old_clean = reports.validate(kind, previous.data)
            changes = [{"field": c.field, "old": c.old, "new": c.new} for c in reports.diff_reports(old_clean, clean)]
        except reports.ReportError:
            changes = [{"field": "*", "old": "(previous version no longer valid)", "new": ""}]
        if not changes:
            raise DomainError("Nothing changed since the previous version; nothing was posted.",
                              errors={"report": [f"identical to version {previous.version}"]})
    comment = Comment.objects.create(
        incident=incident, author=_actor_id(actor), kind=REPORT_COMMENT_KIND[clean.kind], body=text,
        body_html=_render(text), created_at=now,
    )
    version = ReportVersion.objects.create(
        incident=incident, kind=kind, version=(previous.version + 1) if previous else 1, data=clean.to_data(),
        markdown=text, changes=changes, comment=comment, author=_actor_id(actor), created_at=now,
    )
    updates: dict[str, Any] = {"last_update_at": now, "updated_at": now}
    if kind in (reports.ReportKind.PRELIMINARY, reports.ReportKind.FULL) and incident.first_response_at is None:
        updates["first_response_at"] = now
    if kind == reports.ReportKind.FULL and incident.full_report_at is None:
        updates["full_report_at"] = now
    if any(c["field"].startswith("action_items") for c in changes):
        # Reported in this very version, so the 3-day rule starts only from a later change.
        updates["action_item_changed_at"] = now
    Incident.objects.filter(pk=incident.pk).update(**updates)
    for key, value in updates.items():
        setattr(incident, key, value)
    if kind == reports.ReportKind.FULL and isinstance(clean.values.get("appendix"), str):
        _replace_affected(incident, version, clean)
    history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
        field=f"{kind}_report", old="" if previous is None else f"version {previous.version}",
        new=f"version {version.version}", at=now)
    refresh_deadlines(incident, now)
    signals.announce(signals.REPORT, incident=incident, actor=actor, at=now, comment=comment, report=version)
    return version


def _newer_report(incident: Incident, kind: str, base_version: int, latest: ReportVersion | None) -> DomainError:
    """The refusal of a report written on an older version: each field the newer versions changed,
    with who posted them, from the base's value to the latest's."""
    if latest is None or base_version > latest.version:
        return DomainError(f"There is no version {base_version} of this report; reload the page.",
                           errors={"base_version": ["no such version"]})
    base = incident.report_versions.filter(kind=kind, version=base_version).first()
    try:
        old = reports.validate(kind, base.data) if base is not None else None
        new = reports.validate(kind, latest.data)
        diff = reports.diff_reports(old, new) if old is not None else [
            reports.FieldChange(key, None, value) for key, value in new.to_data().items()]
    except reports.ReportError:
        diff = []
    by = _name(latest.author) if latest.author_id else history.SYSTEM
    changes = [{"field": c.field, "old": c.old, "new": c.new} for c in diff]
    errors: dict[str, list[str]] = {}
    for c in changes:
        errors.setdefault(c["field"], []).append(
            f"{by} changed it from {_shown(c['old'])} to {_shown(c['new'])} in version {latest.version}, "
            "posted since you opened this form")
    return stale.NewerVersion(
        f"Version {latest.version} of this report was posted by {by} since you opened this form (on "
        f"{'no version' if not base_version else f'version {base_version}'}); nothing was posted. Its changes are "
        "shown beside each field; what you entered is kept: post again to make yours the next version.",
        errors=errors or {"report": [f"version {latest.version} was posted meanwhile"]},
        version=latest.version, changes=changes,
    )


def _shown(value: Any) -> str:
    if value in (None, "", [], {}):
        return "(empty)"
    if isinstance(value, (dict, list)):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else f"{len(value)} row(s)"
    return str(value)


def _replace_affected(incident: Incident, version: ReportVersion, clean: reports.CleanReport) -> None:
    if not clean.affected and clean.values.get("appendix") == reports.NA:
        return
    AffectedCertificate.objects.filter(incident=incident).delete()
    prints = [a.certificate_sha256 for a in clean.affected if a.certificate_sha256]
    known = _link_certificates(prints) if prints else {}
    AffectedCertificate.objects.bulk_create(
        AffectedCertificate(
            incident=incident, report_version=version, sha256=a.certificate_sha256 or "",
            precertificate_sha256=a.precertificate_sha256 or "", certificate=known.get(a.certificate_sha256 or ""),
            subject=a.subject, issuer=a.issuer, serial_hex=a.serial_hex, not_before=a.not_before,
            not_after=a.not_after, dns_names=" ".join(a.dns_names), is_revoked=a.is_revoked,
            revocation_date=a.revocation_date, revocation_reason=a.revocation_reason or "",
        )
        for a in clean.affected
    )


# ----------------------------------------------------------------------- assessment


def _classify(cert_type: str, count: int | None, enumerable: bool | None, audit_problem: bool) -> str:
    if not audit_problem and not cert_type:
        return ""
    try:
        return str(resp.classify(resp.Classification(cert_type or None, count, enumerable, audit_problem)))
    except resp.ResponseError as exc:
        raise DomainError(str(exc), errors={"count": ["an enumerable set needs a count of at least 1"]}) from None


CONSIDERATION_ANSWERS = ("", "yes", "no", "unknown")


@transaction.atomic
def assessment_save(
    *,
    actor: Any,
    incident: Incident,
    considerations: dict[str, dict[str, str]] | None = None,
    cert_type: str = "",
    count: int | None = None,
    enumerable: bool | None = None,
    audit_problem: bool = False,
    notes: str = "",
    base_version: Any = None,
    base: Any = None,
) -> Assessment:
    """Staff's judgement: the seed's considerations and the classification that picks the seed's response.

    With `base` (the assessment page) or `base_version`, what the editor left as it was is not written and
    what another member of staff changed meanwhile is a conflict (config.stale)."""
    _require(perm.can_assess(actor, incident), "Only root program staff assess incidents.")
    keys = {c.key for c in resp.CONSIDERATIONS}
    cleaned: dict[str, dict[str, str]] = {}
    errors: dict[str, list[str]] = {}
    for key, value in (considerations or {}).items():
        if key not in keys:
            errors[key] = ["not one of the seed's considerations"]
            continue
        answer = str((value or {}).get("answer", "")).lower()
        if answer not in CONSIDERATION_ANSWERS:
            errors[key] = ["answer yes, no or unknown"]
        note = str((value or {}).get("note", "")).strip()
        if answer or note:
            cleaned[key] = {"answer": answer, "note": note}
    if cert_type not in Assessment.CertType.values:
        errors["cert_type"] = ["tls, email or intermediate"]
    if count is not None and (not isinstance(count, int) or count < 0):
        errors["count"] = ["a whole number"]
    if errors:
        raise DomainError("The assessment was not saved: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                          errors=errors)
    problem = _classify(cert_type, count, enumerable, audit_problem)
    now = timezone.now()
    assessment, created = Assessment.objects.select_for_update().get_or_create(
        incident=incident, defaults={"updated_at": now}
    )
    if base_version is not None or base is not None:
        current = sel.assessment_snapshot(assessment)
        proposed: dict[str, Any] = {"cert_type": cert_type, "count": count, "enumerable": enumerable,
                                    "audit_problem": bool(audit_problem), "notes": notes.strip()}
        for key in considerations or {}:
            proposed[f"{key}__answer"] = cleaned.get(key, {}).get("answer", "")
            proposed[f"{key}__note"] = cleaned.get(key, {}).get("note", "")
        kept = stale.merge(current=current, proposed=proposed, base_version=base_version, base=base,
                           changed_by=lambda field: history_sel.last_changed_by(
                               incident, "assessment.considerations" if "__" in field else f"assessment.{field}"))
        merged = {**current, **stale.canonical(kept)}
        cert_type, count, enumerable = merged["cert_type"], merged["count"], merged["enumerable"]
        audit_problem, notes = merged["audit_problem"], merged["notes"]
        cleaned = {k: {"answer": merged[f"{k}__answer"], "note": merged[f"{k}__note"]}
                   for k in sorted(keys) if merged[f"{k}__answer"] or merged[f"{k}__note"]}
        problem = _classify(cert_type, count, enumerable, audit_problem)
    before = {"problem": assessment.problem, "cert_type": assessment.cert_type, "count": assessment.count,
              "enumerable": assessment.enumerable, "audit_problem": assessment.audit_problem}
    changed_considerations = assessment.considerations != cleaned
    changed_notes = assessment.notes != notes.strip()
    assessment.considerations = cleaned
    assessment.cert_type, assessment.count, assessment.enumerable = cert_type, count, enumerable
    assessment.audit_problem, assessment.problem, assessment.notes = bool(audit_problem), problem, notes.strip()
    assessment.updated_by, assessment.updated_at = _actor_id(actor), now
    assessment.save()
    for field, old in before.items():
        if old != getattr(assessment, field):
            history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
                field=f"assessment.{field}", old=_text(old), new=_text(getattr(assessment, field)), at=now,
                staff_only=True)
    if changed_considerations:
        history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
            field="assessment.considerations", old="", new=f"{len(cleaned)} answered", at=now, staff_only=True)
    if changed_notes:
        history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
            field="assessment.notes", old="", new="changed", at=now, staff_only=True)
    return assessment


@transaction.atomic
def decision_record(*, actor: Any, incident: Incident, action: str, note: str = "", is_private: bool = True) -> Decision:
    """Record a decision staff took. A decision to actively distrust is followed by a distrust action.

    Staff-only unless `is_private` is False: recorded on the staff-only assessment page, a decision
    is often taken before the CA is told, so publishing it is a choice (here or decision_publish).
    A staff-only decision writes a staff-only history row and leaves the incident's last-change
    time alone, so public lists, feeds and /rest/ do not move for a change their readers cannot see."""
    _require(perm.can_assess(actor, incident), "Only root program staff record decisions.")
    if action not in DECISION_ACTIONS:
        raise DomainError(f"Unknown decision {action!r}.", errors={"action": ["choose one of the listed actions"]})
    if action == "other" and not note.strip():
        raise DomainError("Say what was decided.", errors={"note": ["required for 'other'"]})
    now = timezone.now()
    decision = Decision.objects.create(incident=incident, action=action, note=note.strip(),
                                       decided_by=_actor_id(actor), decided_at=now, is_private=bool(is_private))
    history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
        field="decision", old="", new=_text(DECISION_ACTIONS[action]), at=now, staff_only=decision.is_private)
    if not decision.is_private:
        _touch(incident, now)
    return decision


@transaction.atomic
def decision_publish(*, actor: Any, decision: Decision) -> Decision:
    """Make a staff-only decision public: it then shows on the incident, with a public history row
    dated now (the staff-only row of its recording stays staff-only)."""
    _require(perm.can_assess(actor, decision.incident), "Only root program staff publish decisions.")
    decision = Decision.objects.select_for_update().select_related("incident").get(pk=decision.pk)
    if not decision.is_private:
        raise TransitionError("This decision is already public.", errors={"decision": ["already public"]})
    now = timezone.now()
    decision.is_private = False
    decision.save(update_fields=["is_private"])
    history.record(actor=actor, subject=decision.incident, action=IncidentHistory.CHANGED,
        field="decision", old="", new=_text(DECISION_ACTIONS.get(decision.action, decision.action)), at=now)
    _touch(decision.incident, now)
    return decision
