"""registry.actions.release_ship_distrust for a distrust-after, and the refusals of the release actions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from config.errors import DomainError, NotPermitted
from pki import certdata
from registry.actions import DistrustPlanItem, release_publish, release_ship_distrust, root_store_entry_update
from registry.models import Release, ReleaseChange, RootStoreEntry
from registry.selectors import export_certdata_text
from tests.distrust.distrust_helpers import build_registry

WHEN = datetime(2025, 4, 15, tzinfo=UTC)


def _item(cert):
    return DistrustPlanItem(issuer_der=bytes(cert.issuer_der), serial_der=bytes(cert.serial_der), label=cert.label,
                            certificate=cert)


def _ship(actor, items, **kw):
    args = dict(onecrl=[], full=False, purposes=("server",), distrust_after=WHEN, nss_version="3.120",
                roots_module_version="", kind="regular", released_on=date(2025, 4, 1), origin="Distrust action 9")
    args.update(kw)
    return release_ship_distrust(actor=actor, items=items, **args)


@pytest.mark.django_db
def test_a_distrust_after_ships_the_date_for_its_purposes_only(staff):
    scenario = build_registry(with_cross_sign=False)
    root = scenario.certs["root1"]
    release = _ship(staff, [_item(root)])
    entry = RootStoreEntry.objects.get(certificate=root)
    assert (entry.server_distrust_after, entry.email_distrust_after) == (WHEN, None)
    assert entry.trust_server == RootStoreEntry.Trust.TRUSTED_DELEGATOR  # trust kept: only new certificates fail
    # The draft holding the registry's new entries became NSS 3.120, with the date after them.
    assert list(release.changes.filter(certificate=root).values_list("kind", "purpose")) == [
        (ReleaseChange.Kind.ROOT_ADDED, ""), (ReleaseChange.Kind.DISTRUST_AFTER_SET, "server")]
    assert release.name == "NSS 3.120" and release.status == Release.Status.PUBLISHED
    file = certdata.parse(export_certdata_text(), source="export")
    (cert_obj,) = file.find(issuer=bytes(root.issuer_der), serial=bytes(root.serial_der), cls=certdata.CKO_CERTIFICATE)
    assert cert_obj.server_distrust_after == WHEN and cert_obj.email_distrust_after is None
    assert Release.objects.get(pk=release.pk).certdata_text == export_certdata_text()
    # Shipping it again changes nothing and adds no row.
    count = release.changes.count()
    _ship(staff, [_item(root)])
    assert Release.objects.get(pk=release.pk).changes.count() == count


@pytest.mark.django_db
def test_release_writes_refuse_what_they_cannot_do(staff, rep_a, reviewer):
    scenario = build_registry(with_cross_sign=False)
    entry = RootStoreEntry.objects.get(certificate=scenario.certs["root1"])
    # Not in the root store: distrust-after applies to included roots.
    with pytest.raises(DomainError, match="not in the root store"):
        _ship(staff, [_item(scenario.certs["inter"])])
    for user in (rep_a, reviewer):
        with pytest.raises(NotPermitted):
            _ship(user, [_item(scenario.certs["root1"])])
        with pytest.raises(NotPermitted):
            root_store_entry_update(actor=user, entry=entry, trust_server=RootStoreEntry.Trust.NOT_TRUSTED)
        with pytest.raises(NotPermitted):
            release_publish(actor=user, release=Release.objects.get(status="draft"), nss_version="3.1",
                            kind="regular", released_on=date(2025, 1, 1))
    assert RootStoreEntry.objects.get(pk=entry.pk).state() == entry.state()
    assert not Release.objects.filter(status=Release.Status.PUBLISHED).exists()
    # An earlier release cannot take a change once a later one shipped.
    draft = Release.objects.get(status="draft")
    release_publish(actor=staff, release=draft, nss_version="3.100", kind="regular", released_on=date(2025, 1, 1))
    root_store_entry_update(actor=staff, entry=entry, label="Renamed")  # no trust change: no new draft row
    release_ship_distrust(actor=staff, items=[], onecrl=[], full=True, purposes=("server",), distrust_after=None,
                          nss_version="3.101", roots_module_version="", kind="regular", released_on=date(2025, 2, 1),
                          origin="x")
    with pytest.raises(DomainError, match="shipped before"):
        _ship(staff, [_item(scenario.certs["root1"])], nss_version="3.100")
    with pytest.raises(DomainError, match="already recorded"):
        root_store_entry_update(actor=staff, entry=entry, trust_email=RootStoreEntry.Trust.MUST_VERIFY)
        release_publish(actor=staff, release=Release.objects.get(status="draft"), nss_version="3.101",
                        kind="regular", released_on=date(2025, 3, 1))
