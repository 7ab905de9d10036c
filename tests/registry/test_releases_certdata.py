"""The four real NSS files imported in order read as four releases with the files' real differences,
and each release exports its file byte for byte; any two compare (table + certdata diff).

The expected differences are computed here from the files alone (pki.certdata objects, plain sets),
not from the registry's entries or release rows.
"""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command

from pki import certdata
from registry.models import Release, ReleaseChange
from tests.registry.registry_data import NSS, V2_86

FILES = [
    NSS / "certdata_v2.18_2017-11-16.txt",
    NSS / "certdata_v2.54_2022-03-23.txt",
    NSS / "certdata_v2.80_2025-06-08.txt",
    V2_86,
]
DELEGATOR = "CKT_NSS_TRUSTED_DELEGATOR"


def _key(issuer_serial):
    issuer, serial = issuer_serial
    # DER INTEGER: tag, length (short or long form), content.
    start = 2 if serial[1] < 0x80 else 2 + (serial[1] & 0x7F)
    return hashlib.sha256(issuer).hexdigest().upper(), serial[start:].hex().upper()


def _facts(path):
    """(every key, keys of trusted roots, {(key, purpose): date} of distrust-after dates) of one file."""
    f = certdata.parse(path.read_text(encoding="utf-8"), source=path.name)
    keys = {_key(o.issuer_serial) for o in f.objects if o.issuer_serial}
    roots = {
        _key(o.issuer_serial)
        for o in f.trust_objects
        if DELEGATOR in (o.trust_server_auth, o.trust_email_protection)
    }
    dates = {}
    for o in f.objects:
        if not o.issuer_serial:
            continue
        for purpose, when in (("server", o.server_distrust_after), ("email", o.email_distrust_after)):
            if when is not None:
                dates[(_key(o.issuer_serial), purpose)] = when
    return keys, roots, dates


def _keys(release, kind):
    return {(c.issuer_key, c.serial_hex) for c in release.changes.filter(kind=kind)}


@pytest.mark.django_db
def test_four_real_files_read_as_four_releases_with_their_real_differences(client, django_assert_num_queries,
                                                                           django_assert_max_num_queries):
    for path in FILES:
        call_command("import_certdata", str(path), stdout=StringIO())
    releases = list(Release.objects.order_by("published_at", "pk"))
    assert [r.roots_module_version for r in releases] == ["2.18", "2.54", "2.80", "2.86"]
    assert [str(r.released_on) for r in releases] == ["2017-11-16", "2022-03-23", "2025-06-08", "2026-04-09"]
    assert all(r.status == Release.Status.PUBLISHED for r in releases)

    facts = [_facts(p) for p in FILES]
    # The first release adds every root of v2.18 (the store was empty).
    assert _keys(releases[0], ReleaseChange.Kind.ROOT_ADDED) == facts[0][1]
    totals = {}
    for i in range(1, 4):
        (old_keys, old_roots, old_dates), (new_keys, new_roots, new_dates) = facts[i - 1], facts[i]
        added = {k for k in new_roots if k not in old_keys}
        removed = {k for k in old_roots if k not in new_keys}
        dates_set = {(k, p) for (k, p), when in new_dates.items() if k in old_keys and old_dates.get((k, p)) != when}
        release = releases[i]
        assert _keys(release, ReleaseChange.Kind.ROOT_ADDED) == added, release.name
        assert _keys(release, ReleaseChange.Kind.ROOT_REMOVED) == removed, release.name
        assert {
            ((c.issuer_key, c.serial_hex), c.purpose)
            for c in release.changes.filter(kind=ReleaseChange.Kind.DISTRUST_AFTER_SET)
        } == dates_set, release.name
        totals[release.roots_module_version] = (len(added), len(removed), len(dates_set))
    # The files really differ: every later release adds roots, and some remove roots or set distrust-after dates.
    assert all(a > 0 for a, _r, _d in totals.values()), totals
    assert sum(r for _a, r, _d in totals.values()) > 0 and sum(d for _a, _r, d in totals.values()) > 0, totals

    # A release's page lists its changes in a fixed number of queries (v2.18 has far more than v2.86).
    with django_assert_max_num_queries(10) as small:
        r = client.get(releases[3].get_absolute_url())
    assert r.status_code == 200 and "Root removed" in r.content.decode()
    with django_assert_num_queries(len(small.captured_queries)):
        r = client.get(releases[0].get_absolute_url())
    assert r.content.decode().count("<td>Root added</td>") == len(facts[0][1])

    # Each release's certdata.txt, page and API, is its file byte for byte.
    for release, path in zip(releases, FILES, strict=True):
        r = client.get(f"/root-store/releases/{release.pk}/certdata.txt")
        assert r.status_code == 200 and r.content == path.read_bytes(), release.name
        r = client.get(f"/api/v1/root-store/releases/{release.pk}/certdata")
        assert r.status_code == 200 and r.content == path.read_bytes(), release.name
    # And the live store after the last import is v2.86 itself.
    assert client.get("/root-store/certdata.txt").content == V2_86.read_bytes()


@pytest.mark.django_db
def test_any_two_releases_compare_as_a_table_and_a_certdata_diff(client, django_assert_max_num_queries):
    for path in (FILES[0], FILES[3]):
        call_command("import_certdata", str(path), stdout=StringIO())
    old, new = Release.objects.order_by("published_at", "pk")
    (_, old_roots, _), (new_keys, _, _) = _facts(FILES[0]), _facts(FILES[3])
    removed = {k for k in old_roots if k not in new_keys}
    with django_assert_max_num_queries(8):
        r = client.get("/root-store/releases/compare/", {"older": old.pk, "newer": new.pk})
    assert r.status_code == 200
    body = r.content.decode()
    assert "Root removed</td>" in body
    assert body.count("Root removed</td>") == len(removed)
    assert "CKT_NSS_" not in body.split("<pre", 1)[0]  # labels, not keys, in the table
    diff = client.get("/root-store/releases/compare/", {"older": old.pk, "newer": new.pk, "format": "diff"})
    assert diff.status_code == 200 and diff["Content-Type"].startswith("text/plain")
    text = diff.content.decode()
    assert text.startswith(f"--- a/{old.name}/certdata.txt\n+++ b/{new.name}/certdata.txt\n")
    # The diff applied to the older file gives the newer one: count what it removes and adds.
    minus = sum(1 for line in text.splitlines() if line.startswith("-") and not line.startswith("---"))
    plus = sum(1 for line in text.splitlines() if line.startswith("+") and not line.startswith("+++"))
    old_lines, new_lines = FILES[0].read_text().splitlines(), FILES[3].read_text().splitlines()
    assert len(old_lines) - minus == len(new_lines) - plus
    # A bad choice keeps the form and says why.
    r = client.get("/root-store/releases/compare/", {"older": old.pk, "newer": "nope"})
    assert r.status_code == 200 and "Choose a release" in r.content.decode()
