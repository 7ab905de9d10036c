"""Reads of root store releases: lists, changes, certdata.txt of a release, comparisons, a certificate's standing.

Each list runs a fixed number of queries whatever its size; what a viewer may see comes from
accounts.permissions (drafts are staff-only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts import permissions
from pki import certdata
from registry.domain import releases as domain
from registry.models import Certificate, Release, ReleaseChange, RootStoreEntry


def releases_for(user: Any) -> QuerySet[Release]:
    """Releases `user` may see, newest first, with their change counts (one query)."""
    return (
        Release.objects.filter(permissions.release_visibility_q(user))
        .defer("certdata_text")
        .annotate(change_count=Count("changes"))
        .order_by("status", "-published_at", "-pk")  # the draft ("draft" < "published") first
    )


def release_for(user: Any, pk: Any) -> Release | None:
    """The release numbered `pk` if `user` may see it (None otherwise: pages answer 404)."""
    try:
        release = Release.objects.defer("certdata_text").filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None
    if release is None or not permissions.can_view_release(user, release):
        return None
    return release


def draft_release() -> Release | None:
    return Release.objects.filter(status=Release.Status.DRAFT).defer("certdata_text").first()


def release_changes(release: Release) -> QuerySet[ReleaseChange]:
    return release.changes.select_related("certificate").order_by("label", "pk")


def previous_release(release: Release) -> Release | None:
    """The published release before this one (None for the first)."""
    qs = Release.objects.filter(status=Release.Status.PUBLISHED).defer("certdata_text")
    if release.published_at is None:
        return qs.order_by("-published_at", "-pk").first()
    earlier = Q(published_at__lt=release.published_at) | Q(published_at=release.published_at, pk__lt=release.pk)
    return qs.filter(earlier).order_by("-published_at", "-pk").first()


def release_certdata_text(release: Release) -> str:
    """What the release ships: a published release's certdata.txt as recorded, the draft's as the store is now."""
    if release.status == Release.Status.DRAFT:
        from registry.selectors import export_certdata_text

        return export_certdata_text()
    return release.certdata_text


@dataclass
class Comparison:
    older: Release
    newer: Release
    changes: list[domain.Change]
    diff: str
    certificates: dict[tuple[str, str], Certificate] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, Any]]:
        kinds = dict(ReleaseChange.Kind.choices)
        purposes = dict(ReleaseChange.Purpose.choices)
        return [
            {
                "kind": kinds.get(c.kind, c.kind),
                "purpose": purposes.get(c.purpose, c.purpose) if c.purpose else "",
                "label": c.label,
                "before": c.before,
                "after": c.after,
                "certificate": self.certificates.get(c.key),
            }
            for c in self.changes
        ]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.kind] = out.get(c.kind, 0) + 1
        return out


def _states(release: Release) -> dict[tuple[str, str], domain.EntryState]:
    text = release_certdata_text(release)
    if not text:
        return {}
    return domain.states_of_file(certdata.parse(text, source=release.name, validate=False))


def compare(older: Release, newer: Release) -> Comparison:
    """What changed from `older` to `newer` (any two releases): the table of changes and the certdata.txt diff."""
    changes = domain.changes(_states(older), _states(newer))
    keys = {c.key for c in changes}
    certs: dict[tuple[str, str], Certificate] = {}
    if keys:
        for cert in Certificate.objects.filter(issuer_key__in=sorted({k[0] for k in keys})).only(
            "pk", "sha256", "label", "issuer_key", "serial_hex", "subject_text"
        ):
            if (cert.issuer_key, cert.serial_hex) in keys:
                certs[(cert.issuer_key, cert.serial_hex)] = cert
    diff = certdata.unified_diff(
        release_certdata_text(older),
        release_certdata_text(newer),
        old_name=f"a/{older.name}/certdata.txt",
        new_name=f"b/{newer.name}/certdata.txt",
    )
    return Comparison(older=older, newer=newer, changes=changes, diff=diff, certificates=certs)


# --- a certificate's standing in the root store ---------------------------------------------


@dataclass
class PurposeStanding:
    purpose: str  # label: Websites / E-mail
    trust: str  # label of the trust value
    trusted: bool
    distrusted: bool
    since: Release | None
    distrust_after: Any
    distrust_after_since: Release | None


@dataclass
class EntryStanding:
    entry: RootStoreEntry
    purposes: list[PurposeStanding]
    changes: list[ReleaseChange]  # every release change naming the entry, newest first (visible releases only)


_SETS_TRUST = {
    ReleaseChange.Kind.ROOT_ADDED,
    ReleaseChange.Kind.TRUST_ADDED,
    ReleaseChange.Kind.TRUST_REMOVED,
    ReleaseChange.Kind.DISTRUST_ADDED,
    ReleaseChange.Kind.DISTRUST_REMOVED,
}


def certificate_standing(cert: Certificate, user: Any) -> list[EntryStanding]:
    """Each root store entry of the certificate: trust per purpose, since which release, distrust-after (2 queries)."""
    entries = list(cert.root_store_entries.all())
    if not entries:
        return []
    keys = {(e.issuer_key, e.serial_hex) for e in entries}
    changes = [
        c
        for c in ReleaseChange.objects.filter(issuer_key__in=sorted({k[0] for k in keys}))
        .filter(release__in=Release.objects.filter(permissions.release_visibility_q(user)))
        .select_related("release")
        .defer("release__certdata_text")
        .order_by("-release__published_at", "-release_id", "-pk")
        if (c.issuer_key, c.serial_hex) in keys
    ]
    labels = dict(RootStoreEntry.Trust.choices)
    out = []
    for e in entries:
        mine = [c for c in changes if (c.issuer_key, c.serial_hex) == (e.issuer_key, e.serial_hex)]
        purposes = []
        for key, label in domain.PURPOSES:
            value = e.trust_server if key == "server" else e.trust_email
            since = next((c.release for c in mine if c.kind in _SETS_TRUST and c.purpose in ("", key)), None)
            after = e.server_distrust_after if key == "server" else e.email_distrust_after
            after_since = next(
                (c.release for c in mine if c.kind == ReleaseChange.Kind.DISTRUST_AFTER_SET and c.purpose == key), None
            )
            purposes.append(
                PurposeStanding(
                    purpose=label,
                    trust=labels.get(value, value),
                    trusted=value == RootStoreEntry.Trust.TRUSTED_DELEGATOR,
                    distrusted=value == RootStoreEntry.Trust.NOT_TRUSTED,
                    since=since,
                    distrust_after=after,
                    distrust_after_since=after_since if after else None,
                )
            )
        out.append(EntryStanding(entry=e, purposes=purposes, changes=mine))
    return out


def certificate_release_changes(cert: Certificate, user: Any) -> list[ReleaseChange]:
    """Release changes naming a certificate with no root store entry now (removed, or a OneCRL record)."""
    return list(
        ReleaseChange.objects.filter(issuer_key=cert.issuer_key, serial_hex=cert.serial_hex)
        .filter(release__in=Release.objects.filter(permissions.release_visibility_q(user)))
        .select_related("release")
        .defer("release__certdata_text")
        .order_by("-release__published_at", "-release_id", "-pk")
    )
