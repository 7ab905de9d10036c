"""CA owner records: create and edit owners (with contacts and URLs), and grant or revoke CA
representation (issue 14).

Representation lives here, not in accounts: the grant is about a CA owner (floor 2), and accounts
(floor 1) may not import registry models. The action changes User.represented_owners and writes two
history rows in the same transaction: one on the owner (staff only: who represents a CA is shown to
staff on the owner page) and one on the user (AccountHistory.REPRESENTATION_CHANGED, shown on that
person's account page), each naming who granted or revoked whom, for which owner.

Every history row reads from -> to with labels (a status reads "Included", not "included").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import permissions
from accounts.models import AccountHistory, User
from config.errors import DomainError, NotPermitted
from history import actions as history
from registry.models import CAOwner, CAOwnerContact, CAOwnerURL, RegistryHistory

__all__ = [
    "OWNER_FIELDS",
    "ca_owner_create",
    "ca_owner_update",
    "representation_grant",
    "representation_revoke",
]

# The owner's own fields a person edits, with the label history rows and pages use.
OWNER_FIELDS = {
    "name": "Name",
    "ccadb_id": "CCADB unique ID",
    "country": "Country",
    "status": "Status",
}
LIST_FIELDS = {"contacts": "Contacts", "urls": "URLs"}


def _require_owner_editor(actor: Any, owner: CAOwner | None) -> None:
    """`actor` None is the system (a command, the demo, Django admin's own check)."""
    if actor is not None and not permissions.can_edit_ca_owner(actor, owner):
        raise NotPermitted("Only root program staff create or change CA owner records.")


def _require_representation_manager(actor: Any, owner: CAOwner) -> None:
    if actor is not None and not permissions.can_manage_representation(actor, owner):
        raise NotPermitted("Only root program staff grant or revoke CA representation.")


# --- values ---------------------------------------------------------------------------------


def _label(field: str, value: Any) -> Any:
    """What a person reads for a stored value."""
    if field == "status" and value:
        try:
            return CAOwner.Status(value).label
        except ValueError:
            return value
    if value is None:
        return ""
    return value


def _clean_owner_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(OWNER_FIELDS) - set(LIST_FIELDS)
    if unknown:
        raise DomainError(
            f"Cannot change {', '.join(sorted(unknown))} of a CA owner.",
            errors={k: ["Not a field of a CA owner."] for k in sorted(unknown)},
        )
    out: dict[str, Any] = {}
    for key in OWNER_FIELDS:
        if key not in values:
            continue
        value = values[key]
        value = "" if value is None else str(value).strip()
        if key == "ccadb_id":
            value = value.upper() or None
        out[key] = value
    return out


def _clean_contacts(rows: Iterable[Mapping[str, Any]]) -> tuple[list[CAOwnerContact], dict[str, list[str]]]:
    contacts, errors = [], {}
    for i, row in enumerate(rows):
        contact = CAOwnerContact(
            name=str(row.get("name") or "").strip(),
            email=str(row.get("email") or "").strip(),
            role=str(row.get("role") or "").strip(),
            position=i,
        )
        try:
            contact.full_clean(exclude=["owner"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"contacts.{i}.{field}"] = list(messages)
        contacts.append(contact)
    return contacts, errors


def _clean_urls(rows: Iterable[Mapping[str, Any]]) -> tuple[list[CAOwnerURL], dict[str, list[str]]]:
    urls, errors, seen = [], {}, set()
    for i, row in enumerate(rows):
        item = CAOwnerURL(kind=str(row.get("kind") or "").strip(), url=str(row.get("url") or "").strip(), position=i)
        try:
            item.full_clean(exclude=["owner"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"urls.{i}.{field}"] = list(messages)
        if (item.kind, item.url) in seen:
            errors.setdefault(f"urls.{i}.url", []).append("This URL is already listed with this kind.")
        seen.add((item.kind, item.url))
        urls.append(item)
    return urls, errors


def _validate_owner(owner: CAOwner, *, exclude: list[str] | None = None) -> dict[str, list[str]]:
    try:
        owner.full_clean(exclude=exclude or [])
    except ValidationError as exc:
        return {k if k != "__all__" else "owner": list(v) for k, v in exc.message_dict.items()}
    return {}


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        count = sum(len(v) for v in errors.values())
        first_field, first = next(iter(errors.items()))
        raise DomainError(
            f"The CA owner record has {count} problem{'s' if count > 1 else ''}; nothing was saved "
            f"(first: {first_field}: {first[0]})",
            errors=errors,
        )


def _contacts_text(contacts: Iterable[CAOwnerContact]) -> list[str]:
    return [str(c) for c in contacts]


def _urls_text(urls: Iterable[CAOwnerURL]) -> list[str]:
    return [str(u) for u in urls]


def _replace_list(owner: CAOwner, model: type, items: list) -> None:
    model.objects.filter(owner=owner).delete()
    for item in items:
        item.owner = owner
    model.objects.bulk_create(items)


# --- create and edit --------------------------------------------------------------------------


def ca_owner_create(
    *,
    actor: Any,
    name: str,
    ccadb_id: str | None = None,
    country: str = "",
    status: str = CAOwner.Status.APPLYING,
    contacts: Iterable[Mapping[str, Any]] = (),
    urls: Iterable[Mapping[str, Any]] = (),
) -> CAOwner:
    """A new CA owner record (a CA applying for inclusion, or one CCADB lists that is not here yet)."""
    _require_owner_editor(actor, None)
    fields = _clean_owner_fields({"name": name, "ccadb_id": ccadb_id, "country": country, "status": status})
    owner = CAOwner(**fields)
    errors = _validate_owner(owner)
    contact_rows, contact_errors = _clean_contacts(contacts)
    url_rows, url_errors = _clean_urls(urls)
    _raise({**errors, **contact_errors, **url_errors})
    with transaction.atomic():
        owner.save()
        _replace_list(owner, CAOwnerContact, contact_rows)
        _replace_list(owner, CAOwnerURL, url_rows)
        new = {k: _label(k, getattr(owner, k)) for k in OWNER_FIELDS}
        new["urls"] = _urls_text(url_rows)
        history.record(
            actor=actor,
            action=RegistryHistory.OWNER_CREATED,
            subject=owner,
            new=new,
            summary=f"{owner.name} created with status {_label('status', owner.status)}",
        )
        if contact_rows:
            _record_contacts(actor, owner, [], _contacts_text(contact_rows))
    return owner


def _record_contacts(actor: Any, owner: CAOwner, before: list[str], after: list[str]) -> None:
    """Contacts name people and their addresses: their changes are a staff-only row of their own."""
    history.record(
        actor=actor,
        action=RegistryHistory.OWNER_CHANGED,
        subject=owner,
        old={"contacts": before},
        new={"contacts": after},
        summary=f"{owner.name}: Contacts: {_readable(before)} → {_readable(after)}",
        staff_only=True,
    )


def ca_owner_update(*, actor: Any, owner: CAOwner, **changes: Any) -> CAOwner:
    """Change any of name, ccadb_id, country, status; `contacts` and `urls` (lists of mappings:
    name/email/role, kind/url) replace the owner's lists. One history row for the save: `old` and
    `new` map each changed field to what a person reads; nothing is recorded when nothing changed."""
    _require_owner_editor(actor, owner)
    fields = _clean_owner_fields(changes)
    contact_rows = url_rows = None
    errors: dict[str, list[str]] = {}
    if "contacts" in changes:
        contact_rows, more = _clean_contacts(changes["contacts"] or ())
        errors.update(more)
    if "urls" in changes:
        url_rows, more = _clean_urls(changes["urls"] or ())
        errors.update(more)
    with transaction.atomic():
        locked = CAOwner.objects.select_for_update().get(pk=owner.pk)
        old_values = {k: getattr(locked, k) for k in fields}
        for key, value in fields.items():
            setattr(locked, key, value)
        errors = {**_validate_owner(locked), **errors}
        _raise(errors)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for key, value in fields.items():
            if old_values[key] != value:
                old[key], new[key] = _label(key, old_values[key]), _label(key, value)
        if contact_rows is not None:
            before = _contacts_text(locked.contacts.all())
            after = _contacts_text(contact_rows)
            if before != after:
                _replace_list(locked, CAOwnerContact, contact_rows)
                _record_contacts(actor, locked, before, after)
        if url_rows is not None:
            before = _urls_text(locked.urls.all())
            after = _urls_text(url_rows)
            if before != after:
                old["urls"], new["urls"] = before, after
                _replace_list(locked, CAOwnerURL, url_rows)
        if set(old) & set(fields):
            locked.save(update_fields=[k for k in fields if k in old])
        if old:
            labels = {**OWNER_FIELDS, **LIST_FIELDS}
            history.record(
                actor=actor,
                action=RegistryHistory.OWNER_CHANGED,
                subject=locked,
                old=old,
                new=new,
                summary=f"{locked.name}: "
                + "; ".join(f"{labels[k]}: {_readable(old[k])} → {_readable(new[k])}" for k in old),
            )
    for key in fields:
        setattr(owner, key, getattr(locked, key))
    return owner


def _readable(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    return str(value) if value not in ("", None) else "none"


# --- representation ---------------------------------------------------------------------------


def _represent(actor: Any, owner: CAOwner, user: User, *, grant: bool) -> bool:
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        before = {o.pk: o.name for o in user.represented_owners.all()}
        if (owner.pk in before) == grant:
            return False  # already so: nothing changes, nothing is recorded
        if grant:
            user.represented_owners.add(owner)
            after = {**before, owner.pk: owner.name}
        else:
            user.represented_owners.remove(owner)
            after = {k: v for k, v in before.items() if k != owner.pk}
        user._represented_owner_ids = frozenset(after)  # the cache accounts.permissions reads
        by = actor.get_username() if actor is not None and getattr(actor, "pk", None) else history.SYSTEM
        verb = "granted" if grant else "revoked"
        detail = {"owner_id": owner.pk, "owner": owner.name, "user_id": user.pk, "user": user.get_username(), "by": by}
        history.record(
            actor=actor,
            subject=owner,
            action=RegistryHistory.REPRESENTATIVE_GRANTED if grant else RegistryHistory.REPRESENTATIVE_REVOKED,
            field="representatives",
            old="" if grant else user.get_username(),
            new=user.get_username() if grant else "",
            summary=f"{by} {verb} {user.get_username()} representation of {owner.name}",
            detail=detail,
            staff_only=True,
        )
        history.record(
            actor=actor,
            subject=user,
            action=AccountHistory.REPRESENTATION_CHANGED,
            field="represented_owners",
            old=sorted(before.values()),
            new=sorted(after.values()),
            summary=f"{by} {verb} representation of {owner.name}",
            detail={**detail, "added": [owner.pk] if grant else [], "removed": [] if grant else [owner.pk]},
        )
    return True


def representation_grant(*, actor: Any, owner: CAOwner, user: User) -> bool:
    """`user` now represents `owner`. False (and no history) when they already did."""
    _require_representation_manager(actor, owner)
    if not user.is_active:
        raise DomainError(f"{user.get_username()}'s account is deactivated.", errors={"user": ["Account deactivated."]})
    return _represent(actor, owner, user, grant=True)


def representation_revoke(*, actor: Any, owner: CAOwner, user: User) -> bool:
    """`user` no longer represents `owner`. False (and no history) when they did not."""
    _require_representation_manager(actor, owner)
    return _represent(actor, owner, user, grant=False)
