"""The one place that decides who may see and do what.

Web views, the REST API, the Bugzilla-compatible API, feeds, exports and tasks all ask
these functions; none of them re-implements a rule. Functions take the user first and the
object second and return a bool; the `*_q()` functions return the same rule as a queryset
filter, for lists, counts, feeds and search, so a list can never show what a detail page
would refuse.

Roles (DOMAIN.md, People):
- staff: root program staff (`user.is_staff`): everything.
- ca_rep: represents one or more CA owners: files and updates reports for them, answers,
  comments, submits audit statements, sees their own CA's security-sensitive incidents.
- reviewer: any other signed-in person: creates incidents, comments on public ones.
- whoever the role, a security-sensitive incident is also seen by its reporter, its assignee
  and the people on its CC list (Bugzilla's rule); staff decisions are staff-only until published.
- anonymous: reads public incidents, CAs, audits and distrust actions.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.db.models import Q


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    REVIEWER = "reviewer"
    CA_REP = "ca_rep"
    STAFF = "staff"


ROLE_LABELS = {
    Role.ANONYMOUS: "Anonymous reader",
    Role.REVIEWER: "Community reviewer",
    Role.CA_REP: "CA representative",
    Role.STAFF: "Root program staff",
}


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user: Any) -> bool:
    return _signed_in(user) and bool(user.is_staff)


def represented_owner_ids(user: Any) -> frozenset[int]:
    """The CA owners a user represents, cached on the user object for the request."""
    if not _signed_in(user):
        return frozenset()
    cached = getattr(user, "_represented_owner_ids", None)
    if cached is None:
        cached = frozenset(user.represented_owners.values_list("pk", flat=True))
        user._represented_owner_ids = cached
    return cached


def role(user: Any) -> Role:
    if not _signed_in(user):
        return Role.ANONYMOUS
    if user.is_staff:
        return Role.STAFF
    if represented_owner_ids(user):
        return Role.CA_REP
    return Role.REVIEWER


def represents(user: Any, ca_owner_id: int | None) -> bool:
    return ca_owner_id is not None and ca_owner_id in represented_owner_ids(user)


def load_represented_owner_ids(users: Iterable[Any]) -> None:
    """Fill the cache `represented_owner_ids` reads for many users in one query, so code that asks
    a rule for each of many users (the reminder sweep's audience) stays a fixed number of queries."""
    from accounts.models import User

    users = [u for u in users if _signed_in(u)]
    owned: dict[int, set[int]] = {u.pk: set() for u in users}
    through = User.represented_owners.through
    for user_id, owner_id in through.objects.filter(user_id__in=owned).values_list("user_id", "caowner_id"):
        owned[user_id].add(owner_id)
    for user in users:
        user._represented_owner_ids = frozenset(owned[user.pk])


# --- Registry: CA owners and certificates are public; staff maintain them. ---------------


def can_view_registry(user: Any) -> bool:
    return True


def can_edit_registry(user: Any) -> bool:
    return is_staff(user)


# Root store releases: published releases are public; the draft (the next release, collecting
# changes not shipped yet) and every change to trust bits, distrust-after dates and releases are staff's.
# Release objects expose `status` ("draft" or "published").


def can_change_root_store(user: Any) -> bool:
    return is_staff(user)


def can_view_release(user: Any, release: Any) -> bool:
    return release.status != "draft" or is_staff(user)


def release_visibility_q(user: Any, prefix: str = "") -> Q:
    return Q() if is_staff(user) else ~Q(**{f"{prefix}status": "draft"})


def can_edit_ca_owner(user: Any, owner: Any = None) -> bool:
    """Create a CA owner record (owner None) or change one: name, CCADB ID, country, status,
    contacts, URLs. Staff only: a CA representative cannot change even their own owner's record."""
    return is_staff(user)


def can_manage_representation(user: Any, owner: Any = None) -> bool:
    """Grant or revoke CA representation (who speaks for a CA owner), and read its history.
    Staff only: a representative cannot add colleagues or remove rivals."""
    return is_staff(user)


def can_view_owner_contacts(user: Any, owner: Any) -> bool:
    """A CA owner's contacts (names and e-mail addresses): staff and the owner's representatives."""
    return is_staff(user) or represents(user, getattr(owner, "pk", None))


# --- Incidents -------------------------------------------------------------------------
# Incident objects expose `ca_owner_id` and `security_sensitive`, and (Bugzilla's rule for a
# bug in a security group) `reporter_id`, `assignee_id` and the CC list `cc`: a
# security-sensitive incident is seen by staff, the CA owner's representatives, its reporter,
# its assignee and the people on its CC list. The CC list is not the self-service watch list:
# watching needs seeing first, and people who watched a public incident must not keep it after
# staff mark it security-sensitive; the CC list is edited only by those named below.


def _cc_user_ids(incident: Any) -> frozenset[int]:
    """The CC list's user ids: given (`cc_user_ids`, e.g. a notification finding), prefetched
    (`prefetch_related("cc")`, lists), or one query."""
    given = getattr(incident, "cc_user_ids", None)
    if given is not None:
        return frozenset(given)
    prefetched = getattr(incident, "_prefetched_objects_cache", {}).get("cc")
    if prefetched is not None:
        return frozenset(u.pk for u in prefetched)
    if getattr(incident, "pk", None) is None or not hasattr(incident, "cc"):
        return frozenset()
    return frozenset(incident.cc.values_list("pk", flat=True))


def is_named_on_incident(user: Any, incident: Any) -> bool:
    """The reporter, the assignee or a person on the CC list."""
    if not _signed_in(user):
        return False
    if user.pk in (getattr(incident, "reporter_id", None), getattr(incident, "assignee_id", None)):
        return True
    return user.pk in _cc_user_ids(incident)


def can_view_incident(user: Any, incident: Any) -> bool:
    if not incident.security_sensitive:
        return True
    return is_staff(user) or represents(user, incident.ca_owner_id) or is_named_on_incident(user, incident)


def incident_visibility_q(user: Any, prefix: str = "") -> Q:
    """Filter for incidents `user` may see; `prefix` is the lookup path to the incident ('' or 'incident__').
    No query of its own: the CC list is a subquery of the list's query."""
    if is_staff(user):
        return Q()
    q = Q(**{f"{prefix}security_sensitive": False})
    owners = represented_owner_ids(user)
    if owners:
        q |= Q(**{f"{prefix}ca_owner_id__in": owners})
    if _signed_in(user):
        # `cc_incidents` is the reverse of Incident.cc (the user's side, so this floor imports no app);
        # as a lazy queryset it becomes a subquery, not a query.
        q |= Q(**{f"{prefix}reporter_id": user.pk}) | Q(**{f"{prefix}assignee_id": user.pk})
        q |= Q(**{f"{prefix}pk__in": user.cc_incidents.values("pk")})
    return q


def can_edit_cc(user: Any, incident: Any) -> bool:
    """Who may add people to (or take them off) the CC list, i.e. give them sight of a
    security-sensitive incident: staff, the CA's representatives, the reporter and the assignee.
    Not the people on the CC list themselves, so access is not passed on from hand to hand,
    and not any reader of a public incident, who could place people there before staff make it
    security-sensitive."""
    if not can_view_incident(user, incident):
        return False
    if is_staff(user) or represents(user, incident.ca_owner_id):
        return True
    return _signed_in(user) and user.pk in (getattr(incident, "reporter_id", None), getattr(incident, "assignee_id", None))


def can_leave_cc(user: Any, incident: Any) -> bool:
    """Anyone on the CC list may take themselves off it."""
    return _signed_in(user) and user.pk in _cc_user_ids(incident)


def can_join_cc(user: Any, incident: Any) -> bool:
    """Anyone signed in who may see the incident may put themselves on its CC list (Bugzilla's rule;
    the Watch button). Marking it security-sensitive later takes them off (compliance.actions.cc)."""
    return _signed_in(user) and can_view_incident(user, incident)


def can_view_cc_list(user: Any, incident: Any) -> bool:
    """Who reads the CC list's logins (the page, `cc` in /rest/bug): those who may edit it (staff,
    the CA's representatives, the reporter, the assignee). Others see how many people are on it,
    and whether they are."""
    return can_edit_cc(user, incident)


def cc_list_visibility_q(user: Any, prefix: str = "") -> Q:
    """can_view_cc_list as a filter (searching by CC login, `/rest/bug?cc=`), on top of incident_visibility_q."""
    if is_staff(user):
        return Q()
    if not _signed_in(user):
        return Q(pk__in=[])
    q = Q(**{f"{prefix}reporter_id": user.pk}) | Q(**{f"{prefix}assignee_id": user.pk})
    owners = represented_owner_ids(user)
    if owners:
        q |= Q(**{f"{prefix}ca_owner_id__in": owners})
    return q


def can_create_incident(user: Any) -> bool:
    return _signed_in(user)


def can_set_whiteboard_on_filing(user: Any) -> bool:
    """The whiteboard carries triage tags and the next-update date: only staff set it, even when filing."""
    return is_staff(user)


def can_file_confirmed(user: Any, ca_owner_id: int | None) -> bool:
    """A CA's own filing (or staff's) is accepted at once; anyone else's waits for triage."""
    return is_staff(user) or represents(user, ca_owner_id)


def can_filter_security_sensitive(user: Any) -> bool:
    """Only those who may see some security-sensitive incidents (staff, CA representatives) get the
    list's filter on the flag; for the others the visibility filter already decides."""
    return is_staff(user) or bool(represented_owner_ids(user))


def can_mark_security_sensitive(user: Any) -> bool:
    """Anyone who may file may file privately (reporting a vulnerability must not force it public)."""
    return _signed_in(user)


def can_comment(user: Any, incident: Any) -> bool:
    return _signed_in(user) and can_view_incident(user, incident)


def can_ask_question(user: Any, incident: Any) -> bool:
    return can_comment(user, incident)


def can_file_report(user: Any, incident: Any) -> bool:
    """Preliminary, full and closure reports are the CA's to file (staff may post on its behalf)."""
    return is_staff(user) or represents(user, incident.ca_owner_id)


def can_answer_question(user: Any, question: Any) -> bool:
    """A question (needinfo) is answered by whom it asks: a named person, or the CA's representatives."""
    if not _signed_in(user) or not can_view_incident(user, question.incident):
        return False
    if question.asked_user_id is not None:
        return question.asked_user_id == user.pk
    return represents(user, question.incident.ca_owner_id)


def can_triage(user: Any, incident: Any) -> bool:
    """Status, resolution, whiteboard, assignee, security flag, assessment and decisions."""
    return is_staff(user)


def can_assess(user: Any, incident: Any) -> bool:
    return is_staff(user)


def can_post_private_comment(user: Any) -> bool:
    return is_staff(user)


def can_view_private_comments(user: Any) -> bool:
    return is_staff(user)


def can_view_comment(user: Any, comment: Any) -> bool:
    """One comment (a page, a mail that quotes it): its incident's rule, and staff-only while private."""
    return can_view_incident(user, comment.incident) and (not comment.is_private or can_view_private_comments(user))


# --- Attachments (compliance.Attachment: `incident`, `is_private`, `uploader_id`) --------------
# Whoever may comment may attach a file. A private attachment (a certificate list with customer
# data, an unredacted audit letter) is seen by staff and the incident's CA only, on the page, at its
# download path, through /rest/ and in feeds alike.


def can_view_attachment(user: Any, attachment: Any) -> bool:
    incident = attachment.incident
    if not can_view_incident(user, incident):
        return False
    return not attachment.is_private or is_staff(user) or represents(user, incident.ca_owner_id)


def attachment_visibility_q(user: Any) -> Q:
    """Filter for attachments `user` may see, across incidents."""
    q = incident_visibility_q(user, prefix="incident__")
    if is_staff(user):
        return q
    owners = represented_owner_ids(user)
    return q & (Q(is_private=False) | Q(incident__ca_owner_id__in=owners)) if owners else q & Q(is_private=False)


def can_add_attachment(user: Any, incident: Any) -> bool:
    return can_comment(user, incident)


def can_add_private_attachment(user: Any, incident: Any) -> bool:
    """Staff and the CA's representatives (the people a private attachment is for)."""
    return can_add_attachment(user, incident) and (is_staff(user) or represents(user, incident.ca_owner_id))


def can_change_attachment(user: Any, attachment: Any) -> bool:
    """Mark obsolete, edit the description: staff, or whoever uploaded it while they may still see it.
    Making it private or public also needs can_add_private_attachment."""
    if not can_view_attachment(user, attachment):
        return False
    return is_staff(user) or (_signed_in(user) and attachment.uploader_id == user.pk)


def can_view_private_decisions(user: Any) -> bool:
    """Staff decisions and the staff assessment: staff-only until staff publish a decision."""
    return is_staff(user)


def decision_visibility_q(user: Any) -> Q:
    """Filter for the decisions `user` may read, on incidents they may see."""
    q = incident_visibility_q(user, prefix="incident__")
    if not can_view_private_decisions(user):
        q &= Q(is_private=False)
    return q


def comment_visibility_q(user: Any) -> Q:
    """Filter for comments `user` may see, across incidents."""
    q = incident_visibility_q(user, prefix="incident__")
    if not can_view_private_comments(user):
        q &= Q(is_private=False)
    return q


# --- Audits ----------------------------------------------------------------------------
# Statement objects expose `ca_owner_id` and `is_public` (False while a CA-provided
# statement waits for its auditor's confirmation).


def can_view_statement(user: Any, statement: Any) -> bool:
    if statement.is_public:
        return True
    return is_staff(user) or represents(user, statement.ca_owner_id)


def statement_visibility_q(user: Any, prefix: str = "") -> Q:
    """Filter for statements `user` may see; `prefix` is the lookup path to the statement ('' or 'audit_statements__')."""
    if is_staff(user):
        return Q()
    q = Q(**{f"{prefix}is_public": True})
    owners = represented_owner_ids(user)
    if owners:
        q |= Q(**{f"{prefix}ca_owner_id__in": owners})
    return q


def can_submit_statement(user: Any, ca_owner_id: int | None) -> bool:
    return is_staff(user) or represents(user, ca_owner_id)


def can_record_statement_from_auditor(user: Any) -> bool:
    """A statement received from the auditor itself counts without verification: only staff may say so."""
    return is_staff(user)


def can_change_statement(user: Any, statement: Any) -> bool:
    """CA representatives may correct their CA's statements until staff or the auditor acted on them."""
    if is_staff(user):
        return True
    return represents(user, statement.ca_owner_id) and not statement.is_public


def can_manage_auditors(user: Any) -> bool:
    return is_staff(user)


def can_view_auditor(user: Any, auditor: Any) -> bool:
    """Auditors are public, except one created from a name a CA representative typed into a statement
    (`named_by_ca`): until staff approve it, only staff and the representatives of a CA whose
    statement names it see it (the statement's own readers)."""
    if not getattr(auditor, "named_by_ca", False) or is_staff(user):
        return True
    owners = represented_owner_ids(user)
    return bool(owners) and auditor.statements.filter(ca_owner_id__in=owners).exists()


def auditor_visibility_q(user: Any) -> Q:
    """`can_view_auditor` as a filter on auditors (it joins statements: callers take distinct pks)."""
    if is_staff(user):
        return Q()
    q = Q(named_by_ca=False)
    owners = represented_owner_ids(user)
    if owners:
        q |= Q(statements__ca_owner_id__in=owners)
    return q


def can_view_auditor_contacts(user: Any) -> bool:
    """Verification contacts are staff-only: a CA must not be able to route its own confirmation."""
    return is_staff(user)


# --- Active distrust -------------------------------------------------------------------
# Distrust action objects expose `is_embargoed`: actions prepared under embargo (before
# release of a security fix) are staff-only until released.


def can_view_distrust(user: Any, action: Any) -> bool:
    return is_staff(user) or not action.is_embargoed


def distrust_visibility_q(user: Any) -> Q:
    return Q() if is_staff(user) else Q(is_embargoed=False)


def can_manage_distrust(user: Any) -> bool:
    return is_staff(user)


# --- Accounts, API keys, notifications -------------------------------------------------


def can_create_api_key(user: Any) -> bool:
    """A key acts as its user, so only a signed-in, active user makes one (for themselves)."""
    return _signed_in(user)


def can_manage_api_key(user: Any, key: Any) -> bool:
    return _signed_in(user) and key.user_id == user.pk


# --- API: REST clients (keys, the Bugzilla-compatible API, feeds and exports) -----------
# A request made with an API key acts as the key's user: every rule above applies unchanged.
# These functions only add what a key itself may restrict.

SAFE_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def api_key_is_usable(key: Any) -> bool:
    """A revoked key, or a key of a deactivated account, authenticates nobody."""
    return key.revoked_at is None and bool(key.user.is_active)


def api_key_allows_method(key: Any, method: str) -> bool:
    """A read-only key may only read. `key` None means no key (a session): nothing to restrict."""
    if key is None or not getattr(key, "read_only", False):
        return True
    return method.upper() in SAFE_HTTP_METHODS


def can_view_staff_only_history(user: Any) -> bool:
    """History rows recorded staff_only (assessments, verification contacts, private decisions):
    every page and API showing an object's history passes this to history.selectors.for_subject."""
    return is_staff(user)


def can_view_operations(user: Any) -> bool:
    """Job schedules, sweeps, import logs."""
    return is_staff(user)


def can_run_sweep(user: Any) -> bool:
    """Queue a reminder sweep now, from the job schedule page."""
    return is_staff(user)


def can_manage_users(user: Any) -> bool:
    return is_staff(user)


# --- Notifications ---------------------------------------------------------------------
# A user's notifications, preferences and watches are their own; reminders about a
# security-sensitive incident reach only those who may see it (notifications.actions).


def can_manage_notifications(user: Any) -> bool:
    """Choose delivery, watch CAs, read one's own notifications."""
    return _signed_in(user)


def can_watch_incident(user: Any, incident: Any) -> bool:
    """Watching an incident is joining its CC list."""
    return can_join_cc(user, incident)


# --- Saved searches, the list's columns, the Bugzilla import's owner aliases -------------


def can_save_search(user: Any) -> bool:
    """Anyone signed in keeps named list filters; anonymous readers use the query string."""
    return _signed_in(user)


def can_manage_saved_search(user: Any, search: Any) -> bool:
    """A saved search is its owner's alone: nobody else (staff neither) reads, renames or deletes it."""
    return _signed_in(user) and search.owner_id == user.pk


def saved_search_visibility_q(user: Any) -> Q:
    if not _signed_in(user):
        return Q(pk__in=[])
    return Q(owner_id=user.pk)


def can_edit_owner_aliases(user: Any) -> bool:
    """The Bugzilla import's CA owner alias table and its unmatched title prefixes: staff."""
    return is_staff(user)


def notification_visibility_q(user: Any) -> Q:
    """A user's notifications are their own; nobody signed in has none (rows mailed to a bare
    address, with no recipient, belong to no account)."""
    if not _signed_in(user):
        return Q(pk__in=[])
    return Q(recipient_id=user.pk)
