"""load_demo's registry part: the real NSS root store, CCADB owners (DigiCert for the demo CA rep), idempotent."""

from __future__ import annotations

from io import StringIO

import pytest

from registry.models import CAOwner, CertdataBlock, Certificate, RootStoreEntry
from registry.selectors import export_certdata_text, paths_for
from tests.registry.registry_data import V2_86

pytestmark = pytest.mark.django_db


def test_demo_loads_nss_roots_and_owners_and_runs_twice_without_change():
    from registry import demo

    demo.load(StringIO())
    counts = (Certificate.objects.count(), RootStoreEntry.objects.count(), CAOwner.objects.count(), CertdataBlock.objects.count())
    assert RootStoreEntry.objects.count() == 167
    digicert = CAOwner.objects.get(name="DigiCert")
    assert digicert.certificates.filter(kind="root").count() >= 5
    # Microsoft's CCADB report names the owner of 147 of the 167 NSS roots.
    assert Certificate.objects.filter(kind="root", owner__isnull=False).count() >= 140
    # Real site chains reach the NSS roots.
    peers = Certificate.objects.filter(kind="leaf")
    assert peers.count() == 14 and all(paths_for(p) for p in peers)
    demo.load(StringIO())
    assert counts == (Certificate.objects.count(), RootStoreEntry.objects.count(), CAOwner.objects.count(), CertdataBlock.objects.count())
    assert export_certdata_text().encode() == V2_86.read_bytes()
