"""The CC list (Bugzilla's `cc`): the one way to follow an incident.

Rootwatch had two: the incident page's Watch button (Incident.watchers) and the notification
settings' incident watches (notifications.Watch rows on an incident). Both now join this list
(migrations compliance 0006_cc_saved_searches_owner_aliases and notifications 0003_cc moved their rows here), and bug-mail
names its reason "CC". Following a CA owner (all its incidents and audits) stays a
notifications.Watch, as Bugzilla's component watching is not its CC list.

Who may do what (accounts.permissions):
- join it oneself (the Watch button, the settings page, `PUT /rest/bug` cc add of one's own
  login): anyone signed in who may see the incident (can_join_cc), as in Bugzilla;
- leave it: anyone on it (can_leave_cc);
- add or take off someone else, i.e. give or take sight of a security-sensitive incident: staff,
  the CA's representatives, the reporter and the assignee (can_edit_cc).

Because the CC list gives sight of a security-sensitive incident, marking an incident
security-sensitive takes off it everybody without a right of their own (not staff, not the CA's
representatives): people who joined while it was public must not keep it (`drop_unentitled`,
called by incident_update). Those who may edit the list add back whom they want.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from compliance import signals
from compliance.models import Incident, IncidentHistory
from config.errors import DomainError, NotPermitted
from history import actions as history
from history.models import Event

__all__ = ["cc_add", "cc_remove", "cc_change", "cc_set_watching", "drop_unentitled"]


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotPermitted(message)


def _is(user: Any, actor: Any) -> bool:
    return actor is not None and getattr(user, "pk", None) is not None and user.pk == getattr(actor, "pk", 0)


def cc_add(*, actor: Any, incident: Incident, user: Any) -> list[Event]:
    """Put `user` on the CC list (no change, no row, if already there). Yourself: you must be able
    to see the incident; anyone else: perm.can_edit_cc. Returns the history rows written."""
    return cc_change(actor=actor, incident=incident, add=[user])


def cc_remove(*, actor: Any, incident: Incident, user: Any) -> list[Event]:
    """Take `user` off the CC list (no change if not on it). Yourself: you must be on it; anyone
    else: perm.can_edit_cc."""
    return cc_change(actor=actor, incident=incident, remove=[user])


def cc_set_watching(*, actor: Any, incident: Incident, watching: bool) -> list[Event]:
    """The incident page's Watch / Stop watching button: join or leave the CC list."""
    _require(perm.can_join_cc(actor, incident), "Sign in to watch an incident.")
    if watching:
        return cc_add(actor=actor, incident=incident, user=actor)
    if not perm.can_leave_cc(actor, incident):
        return []  # not on it: nothing to do
    return cc_remove(actor=actor, incident=incident, user=actor)


@transaction.atomic
def cc_change(*, actor: Any, incident: Incident, add: Any = (), remove: Any = ()) -> list[Event]:
    """Add people to the CC list and take others off it; one history row per person, naming their
    login (never an e-mail address). `actor` None is the system (an import, a migration)."""
    add, remove = list(add or ()), list(remove or ())
    if actor is not None:
        if not add and remove and all(_is(u, actor) for u in remove):
            _require(perm.can_leave_cc(actor, incident), "You are not on the CC list.")
        elif not remove and add and all(_is(u, actor) for u in add):
            _require(perm.can_join_cc(actor, incident), "You may not see this incident, so you cannot join its CC list.")
        else:
            _require(perm.can_edit_cc(actor, incident),
                     "Only root program staff, the CA's representatives, the reporter and the assignee "
                     "change the CC list.")
    errors: dict[str, list[str]] = {}
    for name, people in (("add", add), ("remove", remove)):
        unknown = [str(u) for u in people if getattr(u, "pk", None) is None or not getattr(u, "is_active", False)]
        if unknown:
            errors[name] = [f"no active user named {', '.join(unknown)}"]
    if {u.pk for u in add} & {u.pk for u in remove}:
        errors["remove"] = ["a person cannot be added and removed at once"]
    if errors:
        raise DomainError("The CC list was not changed: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                          errors=errors)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    now = timezone.now()
    have = set(incident.cc.values_list("pk", flat=True))
    added = sorted({u.pk: u for u in add if u.pk not in have}.values(), key=lambda u: u.username)
    removed = sorted({u.pk: u for u in remove if u.pk in have}.values(), key=lambda u: u.username)
    events = _apply(actor=actor, incident=incident, added=added, removed=removed, now=now)
    if events:
        incident.updated_at = now
        Incident.objects.filter(pk=incident.pk).update(updated_at=now)
        signals.announce(signals.CHANGED, incident=incident, actor=actor, at=now, changes=tuple(events))
    return events


def _apply(*, actor: Any, incident: Incident, added: list, removed: list, now: datetime) -> list[Event]:
    incident.cc.add(*added)
    incident.cc.remove(*removed)
    events = [history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
                             field="cc", old="", new=u.username, at=now) for u in added]
    events += [history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED,
                              field="cc", old=u.username, new="", at=now) for u in removed]
    return events


def drop_unentitled(*, actor: Any, incident: Incident, now: datetime) -> list[Event]:
    """Called inside incident_update's transaction when the incident becomes security-sensitive:
    take off the CC list everybody who is neither staff nor a representative of its CA. Returns
    the history rows; the caller announces them with its own."""
    people = list(incident.cc.all())
    perm.load_represented_owner_ids(people)
    gone = sorted((u for u in people if not (perm.is_staff(u) or perm.represents(u, incident.ca_owner_id))),
                  key=lambda u: u.username)
    return _apply(actor=actor, incident=incident, added=[], removed=gone, now=now) if gone else []
