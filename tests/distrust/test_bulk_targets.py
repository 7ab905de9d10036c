"""Bulk targets: a PEM bundle, a CSV (issuer + serial or fingerprints), an incident report's affected certificates,
a CA owner's roots and intermediates -- previewed (counts and lists of what matched and what did not), then added in
one transaction; a bad file changes nothing and the form keeps what was typed; staff only.

The 317 revoked intermediates of the 2019 OneCRL snapshot (tests/fixtures/onecrl/revoked_intermediates_2019-12,
copied byte for byte from shared/data/onecrl/, see SOURCE.md there) are uploaded as one PEM bundle; the expected
counts are computed here from the fixture's own kinto.json records and folder names, not from the code under test.
"""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from distrust import actions
from distrust.models import DistrustTarget
from tests.distrust.distrust_helpers import FIXTURES
from tests.domain import certgen

REVOKED = FIXTURES / "onecrl" / "revoked_intermediates_2019-12"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _dirs():
    dirs = sorted(p for p in REVOKED.iterdir() if p.is_dir())
    assert len(dirs) == 317
    return dirs


def _bundle(dirs) -> str:
    return "".join((d / "cert.pem").read_text() for d in dirs)


def _pair(d) -> tuple[str, str]:
    kinto = json.loads((d / "kinto.json").read_text())
    return (kinto["issuerName"], kinto["serialNumber"])


def _counts(page_html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'<dd data-count="([a-z-]+)">(\d+)</dd>', page_html)}


def _digest(page_html: str) -> str:
    return re.search(r'name="digest" value="([0-9a-f]{64})"', page_html).group(1)


def _target_pairs(action) -> set[tuple[str, str]]:
    from distrust.artifacts import _serial_content

    return {(base64.b64encode(bytes(t.issuer_der)).decode(), base64.b64encode(_serial_content(bytes(t.serial_der)))
             .decode()) for t in action.targets.all()}


@pytest.mark.django_db
def test_the_317_revoked_intermediates_added_as_one_pem_bundle_with_the_preview_counts(client_for, staff,
                                                                                         make_action):
    from registry.actions import certificates_import

    dirs = _dirs()
    # Independently of the code under test: the real records' (issuer, serial) pairs, in the bundle's order.
    pairs = [_pair(d) for d in dirs]
    distinct = set(pairs)
    # The registry already holds the first 100 (their folder name is their SHA-256).
    in_registry = {d.name for d in dirs[:100]}
    certificates_import(actor=None, items=[((d / "cert.pem").read_bytes(), d.name) for d in dirs[:100]])
    seen, first_in_registry = set(), 0
    for d, pair in zip(dirs, pairs, strict=True):
        if pair not in seen:
            seen.add(pair)
            first_in_registry += d.name in in_registry
    assert (len(dirs), len(distinct)) == (317, 313)

    action = make_action(kind="onecrl")
    client = client_for(staff)
    url = f"/distrust/{action.pk}/targets/bulk/"
    bundle = _bundle(dirs)
    page = client.post(url, {"source": "pem", "preview": "1",
                             "upload": SimpleUploadedFile("revoked.pem", bundle.encode(), "application/x-pem-file")})
    assert page.status_code == 200
    body = page.content.decode()
    assert _counts(body) == {"read": 317, "to-add": 313, "in-registry": first_in_registry,
                             "issuer-serial-only": 313 - first_in_registry, "duplicates": 317 - 313, "unmatched": 0}
    # The lists: each repeated certificate names the block it repeats.
    assert len(re.findall(r"same issuer and serial as PEM block \d+", body)) == 4
    assert "Add 313 certificates" in body
    assert "<td>Intermediate</td>" in body and "<td>intermediate</td>" not in body  # labels, not keys
    assert DistrustTarget.objects.filter(action=action).count() == 0  # a preview changes nothing
    # The uploaded file's text stays in the box, so confirming sends what was previewed.
    sent = html.unescape(re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', body, re.S).group(1))
    assert sent.strip() == bundle.strip()

    done = client.post(url, {"source": "pem", "text": sent, "digest": _digest(body), "confirm": "1"})
    assert done.status_code == 302
    assert action.targets.count() == 313
    assert _target_pairs(action) == distinct
    assert action.targets.filter(certificate__isnull=False).count() == first_in_registry
    from history.models import Event

    (event,) = Event.objects.filter(action="targets_added")
    assert event.detail == {"source": "pem", "added": 313, "read": 317, "duplicates": 4, "unmatched": 0}


@pytest.mark.django_db
def test_the_api_previews_and_adds_the_bundle(client_for, staff, make_action, django_assert_max_num_queries):
    dirs = _dirs()
    action = make_action(kind="onecrl")
    client = client_for(staff)
    url = f"/api/v1/distrust/{action.pk}/targets/bulk/"
    with django_assert_max_num_queries(20):  # whatever the bundle's size
        preview = client.post(url, {"source": "pem", "text": _bundle(dirs)}, content_type="application/json")
    assert preview.status_code == 200, preview.content
    data = preview.json()
    assert data["counts"] == {"read": 317, "to_add": 313, "in_registry": 0, "issuer_serial_only": 313,
                              "duplicates": 4, "unmatched": 0}
    assert data["added"] is False and action.targets.count() == 0
    assert len(data["to_add"]) == 313 and len(data["duplicates"]) == 4
    with django_assert_max_num_queries(20):
        small = client.post(url, {"source": "pem", "text": _bundle(dirs[:3])}, content_type="application/json")
    assert small.json()["counts"]["read"] == 3
    done = client.post(url, {"source": "pem", "text": _bundle(dirs), "confirm": True, "digest": data["digest"]},
                       content_type="application/json")
    assert done.status_code == 201 and done.json()["added"] is True
    assert _target_pairs(action) == {_pair(d) for d in dirs}


@pytest.mark.django_db
def test_a_bad_file_changes_nothing_and_the_form_keeps_what_was_typed(client_for, staff, make_action):
    dirs = _dirs()
    action = make_action(kind="onecrl")
    client = client_for(staff)
    url = f"/distrust/{action.pk}/targets/bulk/"
    broken = _bundle(dirs[:5]) + "-----BEGIN CERTIFICATE-----\nMIIB\n"  # a sixth block without its END line
    page = client.post(url, {"source": "pem", "text": broken, "confirm": "1"})
    assert page.status_code == 400
    body = html.unescape(page.content.decode())
    assert "The PEM bundle cannot be read, so nothing was added: the PEM bundle (PEM block 6): truncated PEM" in body
    assert broken.strip() in body  # kept in the box
    assert action.targets.count() == 0
    # A CSV with a bad serial on line 3: refused whole, naming the line, nothing added.
    csv_text = "issuer,serial\n" + f"{_pair(dirs[0])[0]},0A1B\n" + f"{_pair(dirs[1])[0]},XYZ\n"
    page = client.post(url, {"source": "csv", "text": csv_text, "confirm": "1"})
    assert page.status_code == 400
    body = html.unescape(page.content.decode())
    assert "CSV line 3: Serial 'XYZ' is not hexadecimal" in body and csv_text.strip() in body
    assert action.targets.count() == 0
    api = client.post(f"/api/v1/distrust/{action.pk}/targets/bulk/", {"source": "pem", "text": broken,
                                                                     "confirm": True}, content_type="application/json")
    assert api.status_code == 400 and "PEM block 6" in api.json()["detail"]
    assert action.targets.count() == 0


@pytest.mark.django_db
def test_csv_of_fingerprints_and_of_issuer_serial_lists_what_did_not_match(staff, scenario, make_action):
    action = make_action()
    unknown = "AB" * 32
    preview = actions.bulk_targets_preview(actor=staff, action=action, source="csv", text=(
        f"sha256,label\n{scenario.sha('inter')},\n{scenario.sha('leaf').lower()},\n{unknown},\n"))
    assert [r.sha256 for r in preview.to_add] == [scenario.sha("inter"), scenario.sha("leaf")]
    (missing,) = preview.unmatched
    assert missing.where == "CSV line 4" and f"no certificate with SHA-256 {unknown}" in missing.reason
    # issuer as base64 DER, and as a name written as text (OpenSSL's order) for a leaf the registry lacks
    inter = scenario.certs["inter"]
    stray = certgen.leaf("stray.example.test", scenario.inter).parsed()
    preview = actions.bulk_targets_preview(actor=staff, action=action, source="csv", text=(
        "issuer,serial\n"
        f"{base64.b64encode(bytes(inter.issuer_der)).decode()},{inter.serial_hex}\n"
        f"\"C = US, O = Rootwatch Test, CN = Distrust Test Issuing CA\",{stray.serial_hex}\n"
        f"\"CN=Nobody's CA,O=Nowhere,C=US\",01\n"))
    assert [r.certificate for r in preview.to_add] == [inter, None]
    assert preview.to_add[1].issuer_der == stray.issuer_der  # the DER NSS and OneCRL need, from the registry
    assert preview.to_add[1].serial_content == stray.serial_content
    (nobody,) = preview.unmatched
    assert "no registry root or intermediate has the subject" in nobody.reason


def _affected(incident, **kw):
    from compliance.models import AffectedCertificate

    defaults = dict(subject="CN=x", not_before=NOW, not_after=NOW.replace(year=2026))
    defaults.update(kw)
    return AffectedCertificate.objects.create(incident=incident, **defaults)


@pytest.mark.django_db
def test_an_incidents_affected_certificates_are_matched_by_registry_fingerprint_or_issuer_name(
        client_for, staff, scenario, make_action, incident):
    leaf = scenario.certs["leaf"]
    stray = certgen.leaf("stray.example.test", scenario.inter).parsed()  # not in the registry
    _affected(incident, sha256=leaf.sha256, certificate=leaf, subject="CN=bad.example.test",
              issuer=leaf.issuer_text, serial_hex=leaf.serial_hex)
    # RFC 4514 order, other case and spacing than the registry's subject: still the same name.
    _affected(incident, sha256="CD" * 32, subject="CN=stray.example.test",
              issuer="cn=Distrust Test Issuing CA,  o=ROOTWATCH TEST, c=us", serial_hex=stray.serial_hex)
    _affected(incident, sha256="EF" * 32, subject="CN=elsewhere.example.test",
              issuer="CN=Some Other Issuing CA, O=Elsewhere, C=DE", serial_hex="0BADC0DE")
    action = make_action()
    client = client_for(staff)
    url = f"/distrust/{action.pk}/targets/bulk/"
    page = client.post(url, {"source": "incident", "incident": str(incident.number), "preview": "1"})
    body = page.content.decode()
    assert _counts(body) == {"read": 3, "to-add": 2, "in-registry": 1, "issuer-serial-only": 1, "duplicates": 0,
                             "unmatched": 1}
    assert "no registry root or intermediate has the subject" in html.unescape(body)
    assert f'value="{incident.number}"' in body  # the number typed stays in the form
    client.post(url, {"source": "incident", "incident": str(incident.number), "digest": _digest(body),
                      "confirm": "1"})
    by_serial = {t.serial_hex: t for t in action.targets.all()}
    assert set(by_serial) == {leaf.serial_hex, stray.serial_hex}
    assert by_serial[leaf.serial_hex].certificate == leaf
    assert bytes(by_serial[stray.serial_hex].issuer_der) == stray.issuer_der
    assert bytes(by_serial[stray.serial_hex].serial_der) == stray.serial_der
    # Again: every matched row is already a target now.
    again = actions.bulk_targets_preview(actor=staff, action=action, source="incident", incident=incident.number)
    assert len(again.duplicates) == 2 and not again.to_add


@pytest.mark.django_db
def test_every_root_and_intermediate_of_a_ca_owner(staff, scenario, make_action, owner_a):
    from registry.models import Certificate

    Certificate.objects.filter(pk__in=[c.pk for c in scenario.certs.values()]).update(owner=owner_a)
    preview = actions.bulk_targets_preview(actor=staff, action=make_action(), source="owner", owner=owner_a.pk)
    expected = {scenario.sha(n) for n in ("root1", "root2", "inter", "inter_x")}  # not the leaf
    assert {r.sha256 for r in preview.to_add} == expected and preview.read == 4
    # OneCRL revokes intermediates and leaves: the roots are listed as not matched, saying why.
    onecrl = actions.bulk_targets_preview(actor=staff, action=make_action(kind="onecrl"), source="owner",
                                          owner=owner_a.pk)
    assert {r.sha256 for r in onecrl.to_add} == {scenario.sha("inter"), scenario.sha("inter_x")}
    assert [r.reason for r in onecrl.unmatched] == ["a root: OneCRL revokes intermediates and leaves"] * 2


@pytest.mark.django_db
def test_a_preview_gone_stale_is_not_confirmed(client_for, staff, scenario, make_action):
    action = make_action()
    client = client_for(staff)
    url = f"/distrust/{action.pk}/targets/bulk/"
    text = f"sha256\n{scenario.sha('inter')}\n{scenario.sha('leaf')}\n"
    body = client.post(url, {"source": "csv", "text": text, "preview": "1"}).content.decode()
    actions.target_add(actor=staff, action=action, sha256=scenario.sha("leaf"))  # meanwhile
    page = client.post(url, {"source": "csv", "text": text, "digest": _digest(body), "confirm": "1"})
    assert page.status_code == 400
    assert "changed since the preview" in html.unescape(page.content.decode())
    assert _counts(page.content.decode())["to-add"] == 1  # the new preview is shown
    assert action.targets.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep_a", "reviewer", "anonymous"])
def test_only_staff_add_bulk_targets(request, who, client_for, staff, scenario, make_action):
    action = make_action()
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)
    text = f"sha256\n{scenario.sha('inter')}\n"
    url = f"/distrust/{action.pk}/targets/bulk/"
    for response in (client.get(url), client.post(url, {"source": "csv", "text": text, "confirm": "1"})):
        assert response.status_code == (403 if user else 302) or response.status_code == 403
        assert scenario.sha("inter") not in response.content.decode()
    api = client.post(f"/api/v1/distrust/{action.pk}/targets/bulk/", {"source": "csv", "text": text,
                                                                     "confirm": True}, content_type="application/json")
    assert api.status_code in ((401, 403) if user is None else (403,))
    from config.errors import NotPermitted

    if user is not None:
        with pytest.raises(NotPermitted):
            actions.bulk_targets_add(actor=user, action=action, source="csv", text=text)
        with pytest.raises(NotPermitted):
            actions.bulk_targets_preview(actor=user, action=action, source="csv", text=text)
    assert action.targets.count() == 0


@pytest.mark.django_db
def test_adding_from_a_security_sensitive_incident_names_it_to_staff_only(client_for, staff, reviewer, scenario,
                                                                         make_action, owner_a):
    from compliance.models import Incident

    secret = Incident.objects.create(number=1900999, ca_owner=owner_a, title="embargoed", security_sensitive=True,
                                     first_disclosed_at=NOW, created_at=NOW, updated_at=NOW)
    leaf = scenario.certs["leaf"]
    _affected(secret, sha256=leaf.sha256, certificate=leaf, issuer=leaf.issuer_text, serial_hex=leaf.serial_hex)
    action = make_action()  # linked to a public incident, not embargoed: anyone may read it
    actions.bulk_targets_add(actor=staff, action=action, source="incident", incident=secret.number)
    assert action.targets.get().certificate == leaf
    for who, sees in ((reviewer, False), (None, False), (staff, True)):
        text = client_for(who).get(f"/api/v1/distrust/{action.pk}/").content.decode()
        assert ("1900999" in text) is sees
