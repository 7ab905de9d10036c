"""Root store releases: what each shipped, the draft that collects the next one, and distrusts shipping.

How a "next release" exists: every change staff make to a root store entry outside an import
(root_store_entry_update / root_store_entry_add) is written to the one draft release, created on
the first such change. Staff publish the draft (release_publish) with its version, kind and date;
publishing keeps the certdata.txt the store then exports. A distrust's Release step ships into the
release it names (release_ship_distrust): that release if it is already recorded (and the latest),
else the draft (whose pending changes are in the store, so they ship with it), else a new one.
An NSS certdata.txt import records a published release of its own (release_record_import).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from config.errors import DomainError, NotPermitted
from history import actions as history
from registry.actions._common import BATCH
from registry.domain import releases as domain
from registry.models import Certificate, RegistryHistory, Release, ReleaseChange, RootStoreEntry, der_key

Trust = RootStoreEntry.Trust

__all__ = [
    "DistrustPlanItem",
    "entry_state",
    "release_record_import",
    "record_entry_change",
    "release_publish",
    "release_ship_distrust",
    "version_from_source",
]


def _require_editor(actor: Any) -> None:
    """`actor` None is the system (a command, the demo); a person must be allowed to change the root store."""
    if actor is not None and not permissions.can_change_root_store(actor):
        raise NotPermitted("Only root program staff change the root store and its releases.")


def entry_state(entry: RootStoreEntry) -> domain.EntryState:
    return domain.EntryState(
        label=entry.label,
        server=entry.trust_server,
        email=entry.trust_email,
        server_distrust_after=entry.server_distrust_after,
        email_distrust_after=entry.email_distrust_after,
    )


def states_of_entries() -> dict[tuple[str, str], domain.EntryState]:
    return {
        (e.issuer_key, e.serial_hex): entry_state(e)
        for e in RootStoreEntry.objects.only(
            "label", "issuer_key", "serial_hex", "trust_server", "trust_email",
            "server_distrust_after", "email_distrust_after",
        ).order_by()
    }  # fmt: skip


def _rows(
    release: Release,
    changes: list[domain.Change],
    *,
    origin: str,
    origin_url: str = "",
) -> list[ReleaseChange]:
    """ReleaseChange rows for `changes`, each linked to its entry and certificate when the registry has them."""
    if not changes:
        return []
    keys = {c.key for c in changes}
    issuers = sorted({k[0] for k in keys})
    entries = {
        (e.issuer_key, e.serial_hex): e
        for e in RootStoreEntry.objects.filter(issuer_key__in=issuers).only("pk", "issuer_key", "serial_hex", "certificate_id")
    }
    certs = {
        (c["issuer_key"], c["serial_hex"]): c["pk"]
        for c in Certificate.objects.filter(issuer_key__in=issuers).values("pk", "issuer_key", "serial_hex")
    }
    rows = []
    for c in changes:
        entry = entries.get(c.key)
        rows.append(
            ReleaseChange(
                release=release,
                kind=c.kind,
                purpose=c.purpose,
                entry=entry,
                certificate_id=(entry.certificate_id if entry and entry.certificate_id else certs.get(c.key)),
                label=c.label[:255],
                issuer_key=c.key[0],
                serial_hex=c.key[1],
                before=c.before[:300],
                after=c.after[:300],
                origin=origin[:300],
                origin_url=origin_url[:300],
            )
        )
    return ReleaseChange.objects.bulk_create(rows, batch_size=BATCH)


_VERSION = re.compile(r"v(\d+\.\d+(?:\.\d+)?)")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def version_from_source(source: str) -> tuple[str, date | None]:
    """(roots module version, date) read from a file name such as certdata_v2.86_2026-04-09.txt."""
    name = source.rsplit("/", 1)[-1]
    version = _VERSION.search(name)
    when = _DATE.search(name)
    try:
        day = date.fromisoformat(when.group(1)) if when else None
    except ValueError:
        day = None
    return (version.group(1) if version else ""), day


def _latest_published() -> Release | None:
    return Release.objects.filter(status=Release.Status.PUBLISHED).order_by("-published_at", "-pk").first()


def release_record_import(
    *,
    actor: Any,
    source: str,
    text: str,
    before: dict[tuple[str, str], domain.EntryState],
    after: dict[tuple[str, str], domain.EntryState],
    nss_version: str = "",
    roots_module_version: str = "",
    kind: str = Release.Kind.REGULAR,
    released_on: date | None = None,
) -> Release:
    """Called by certdata_import inside its transaction: the imported file as a published release.

    Its changes are the difference from the previous release's certdata.txt (or, for the first
    release, from the root store entries before the import).
    """
    _require_editor(actor)
    if kind not in Release.Kind.values:
        raise DomainError(f"The release kind must be one of: {', '.join(Release.Kind.labels)}; nothing was imported.")
    guessed_version, guessed_day = version_from_source(source)
    if not (nss_version or roots_module_version):
        roots_module_version = guessed_version
    previous = _latest_published()
    if previous is not None and previous.certdata_text:
        from pki import certdata

        before = domain.states_of_file(certdata.parse(previous.certdata_text, source=previous.name, validate=False))
    release = Release.objects.create(
        nss_version=nss_version[:40],
        roots_module_version=roots_module_version[:40],
        kind=kind,
        status=Release.Status.PUBLISHED,
        released_on=released_on or guessed_day,
        source=source[:500],
        certdata_text=text,
        certdata_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        published_at=timezone.now(),
    )
    rows = _rows(release, domain.changes(before, after), origin=f"Imported from {source.rsplit('/', 1)[-1]}")
    history.record(
        actor=actor,
        action=RegistryHistory.RELEASE_RECORDED,
        subject=release,
        summary=f"{release.name}: {len(rows)} changes from {previous.name if previous else 'the root store before'}",
        detail={"source": source, "changes": len(rows), "previous": previous.pk if previous else None},
    )
    return release


def _draft(actor: Any) -> Release:
    draft = Release.objects.select_for_update().filter(status=Release.Status.DRAFT).first()
    if draft is None:
        draft = Release.objects.create(
            status=Release.Status.DRAFT, created_by=actor if getattr(actor, "is_authenticated", False) else None
        )
    return draft


def _who(actor: Any) -> str:
    return getattr(actor, "username", "") or "the system"


def record_entry_change(
    *, actor: Any, entry: RootStoreEntry, before: domain.EntryState | None, origin: str = ""
) -> list[ReleaseChange]:
    """Put what changed in `entry` since `before` (None: the entry is new) into the draft release."""
    key = (entry.issuer_key, entry.serial_hex)
    changes = domain.changes({key: before} if before else {}, {key: entry_state(entry)})
    if not changes:
        return []
    return _rows(_draft(actor), changes, origin=origin or f"Edited by {_who(actor)}")


def _snapshot(release: Release) -> None:
    from registry.selectors import export_certdata_text

    release.certdata_text = export_certdata_text()
    release.certdata_sha256 = hashlib.sha256(release.certdata_text.encode("utf-8")).hexdigest()


def _check_release_fields(nss_version: str, roots_module_version: str, kind: str) -> None:
    errors: dict[str, list[str]] = {}
    if not (nss_version.strip() or roots_module_version.strip()):
        errors["nss_version"] = ["Give the NSS version or the roots module version."]
    if kind not in Release.Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Release.Kind.labels)}."]
    for name, value in (("nss_version", nss_version), ("roots_module_version", roots_module_version)):
        if value and not re.fullmatch(r"[0-9][0-9A-Za-z.\-]{0,39}", value.strip()):
            errors.setdefault(name, []).append("A version is digits and dots, e.g. 3.110 or 2.86.")
    if errors:
        raise DomainError("; ".join(m for ms in errors.values() for m in ms), errors=errors)


def release_publish(
    *,
    actor: Any,
    release: Release,
    nss_version: str = "",
    roots_module_version: str = "",
    kind: str = Release.Kind.REGULAR,
    released_on: date | None = None,
    notes: str = "",
) -> Release:
    """Ship the draft: its version, kind and date, and the certdata.txt the store exports now."""
    _require_editor(actor)
    _check_release_fields(nss_version, roots_module_version, kind)
    if released_on is None:
        raise DomainError("Give the release date.", errors={"released_on": ["Give the release date."]})
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.status != Release.Status.DRAFT:
            raise DomainError(f"{release.name} is already published.")
        _clash(nss_version, roots_module_version, exclude=release.pk)
        release.nss_version, release.roots_module_version = nss_version.strip(), roots_module_version.strip()
        release.kind, release.released_on, release.notes = kind, released_on, notes
        release.status, release.published_at = Release.Status.PUBLISHED, timezone.now()
        _snapshot(release)
        release.save()
        history.record(
            actor=actor,
            action=RegistryHistory.RELEASE_PUBLISHED,
            subject=release,
            summary=f"{release.name} published ({release.get_kind_display()}, {released_on:%Y-%m-%d}), "
            f"{release.changes.count()} changes",
        )
    return release


def _clash(nss_version: str, roots_module_version: str, *, exclude: int | None = None) -> Release | None:
    qs = Release.objects.filter(status=Release.Status.PUBLISHED).exclude(pk=exclude)
    for field, value in (("nss_version", nss_version.strip()), ("roots_module_version", roots_module_version.strip())):
        if value and (other := qs.filter(**{field: value}).first()):
            raise DomainError(
                f"{other.name} is already recorded; choose another version.", errors={field: ["Already recorded."]}
            )
    return None


@dataclass(frozen=True)
class DistrustPlanItem:
    """One certificate a distrust names (a target or an added cross-sign), as the registry needs it."""

    issuer_der: bytes
    serial_der: bytes
    label: str
    certificate: Certificate | None = None


def _release_named(actor: Any, nss_version: str, roots_module_version: str) -> Release:
    """The release a distrust ships in: the recorded one with its version (the latest only), else the draft, else new."""
    qs = Release.objects.select_for_update().filter(status=Release.Status.PUBLISHED)
    named = None
    if nss_version:
        named = qs.filter(nss_version=nss_version).first()
    if named is None and roots_module_version:
        named = qs.filter(roots_module_version=roots_module_version).first()
    if named is not None:
        latest = _latest_published()
        if latest is not None and latest.pk != named.pk:
            raise DomainError(
                f"{named.name} shipped before {latest.name}: a change cannot ship in an earlier release. "
                "Name the release that ships it."
            )
        return named
    return _draft(actor)


def release_ship_distrust(
    *,
    actor: Any,
    items: list[DistrustPlanItem],
    onecrl: list[DistrustPlanItem],
    full: bool,
    purposes: tuple[str, ...],
    distrust_after: datetime | None,
    nss_version: str,
    roots_module_version: str,
    kind: str,
    released_on: date | None,
    origin: str,
    origin_url: str = "",
) -> Release:
    """Apply a distrust's planned root store changes and record them (and its OneCRL records) in a release.

    `full`: every item's trust object becomes "not trusted" for every purpose, as the certdata diff
    writes it (an item without an entry gets a new distrust entry); otherwise (distrust-after) the
    items' entries get `distrust_after` for `purposes`. Re-running it changes nothing more.
    """
    _require_editor(actor)
    if not full and distrust_after is None:
        raise DomainError("A distrust-after needs its date.")
    if kind not in Release.Kind.values:
        raise DomainError(f"Choose a release kind: {', '.join(Release.Kind.labels)}.")
    with transaction.atomic():
        release = _release_named(actor, nss_version.strip(), roots_module_version.strip())
        changes: list[domain.Change] = []
        touched: list[RootStoreEntry] = []
        for item in items:
            key = (der_key(item.issuer_der), _serial_hex(item.serial_der))
            entry = RootStoreEntry.objects.select_for_update().filter(issuer_key=key[0], serial_hex=key[1]).first()
            before = entry_state(entry) if entry else None
            if full:
                if entry is None:
                    entry = RootStoreEntry(
                        certificate=item.certificate, label=item.label[:255], issuer_der=item.issuer_der,
                        serial_der=item.serial_der, issuer_key=key[0], serial_hex=key[1],
                    )  # fmt: skip
                entry.trust_server = entry.trust_email = entry.trust_code = Trust.NOT_TRUSTED
            else:
                if entry is None:
                    raise DomainError(f"{item.label} is not in the root store: distrust-after applies to included roots.")
                if "server" in purposes:
                    entry.server_distrust_after = distrust_after
                if "email" in purposes:
                    entry.email_distrust_after = distrust_after
            found = domain.changes({key: before} if before else {}, {key: entry_state(entry)})
            if found:
                entry.save()
                touched.append(entry)
                changes.extend(found)
        rows = _rows(release, changes, origin=origin, origin_url=origin_url)
        done = {(r.issuer_key, r.serial_hex) for r in release.changes.filter(kind=ReleaseChange.Kind.ONECRL_PUBLISHED)}
        published = [
            domain.Change((der_key(i.issuer_der), _serial_hex(i.serial_der)), domain.ChangeKind.ONECRL_PUBLISHED,
                          i.label, after="revoked")
            for i in onecrl
        ]  # fmt: skip
        rows += _rows(release, [c for c in published if c.key not in done], origin=origin, origin_url=origin_url)
        for entry in touched:
            history.record(
                actor=actor,
                action=RegistryHistory.ROOT_STORE_ENTRY_CHANGED,
                subject=entry,
                summary=f"{entry.label}: {origin}",
                detail={"entry": entry.pk, "release": release.pk},
            )
        if nss_version.strip() or roots_module_version.strip():
            release.nss_version = nss_version.strip()[:40] or release.nss_version
            release.roots_module_version = roots_module_version.strip()[:40] or release.roots_module_version
            release.kind = kind
            release.released_on = released_on or release.released_on
            if release.status == Release.Status.DRAFT:
                release.status, release.published_at = Release.Status.PUBLISHED, timezone.now()
            _snapshot(release)
            release.save()
        # else (OneCRL only, no NSS release named): the changes wait in the draft for the next release.
        history.record(
            actor=actor,
            action=RegistryHistory.RELEASE_PUBLISHED,
            subject=release,
            summary=f"{release.name}: {len(rows)} changes from {origin}",
            detail={"changes": len(rows), "origin": origin},
        )
    return release


def _serial_hex(serial_der: bytes) -> str:
    return domain._serial_hex(serial_der)
