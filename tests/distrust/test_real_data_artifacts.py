"""The artifacts an action generates, checked against real OneCRL and NSS data.

- the 317 revoked intermediates of OneCRL-Viewer: each generated record's issuerName and
  serialNumber equal those of its real kinto.json;
- the 19 certificates NSS 2.18 distrusted: the generated trust objects' CKA_ISSUER,
  CKA_SERIAL_NUMBER and trust lines equal NSS's byte for byte;
- distrust-after: Entrust's root, distrusted after 2024-11-30 23:59:59 on top of NSS 2.54,
  comes out exactly as NSS 2.86 wrote it.
"""

import json
from datetime import UTC, datetime

import pytest

from config.errors import DomainError
from distrust import actions
from pki import certdata
from tests.distrust.distrust_helpers import FIXTURES, USAGE_CSV, decide_data
from tests.registry.registry_data import V2_86

REVOKED = FIXTURES / "onecrl" / "revoked_intermediates_2019-12"
DISTRUSTED_V2_18 = FIXTURES / "certs_distrusted_v2_18"
NSS = FIXTURES / "nss"


def to_implement(staff, action, **decide):
    actions.step_complete(actor=staff, action=action, step="report")
    actions.step_save(actor=staff, action=action, step="decide", data=decide_data(**decide), complete=True)
    actions.usage_import_csv(actor=staff, action=action, text=USAGE_CSV)
    actions.step_save(actor=staff, action=action, step="impact", data={}, complete=True)
    actions.artifacts_generate(actor=staff, action=action)
    return action


def import_certdata(path):
    from registry.actions import certdata_import

    certdata_import(actor=None, text=path.read_text(encoding="utf-8"), source=path.name)


@pytest.mark.django_db
def test_onecrl_records_of_the_317_revoked_intermediates_match_their_real_kinto_json(staff, make_action):
    from registry.actions import certificates_import

    dirs = sorted(p for p in REVOKED.iterdir() if p.is_dir())
    assert len(dirs) == 317
    certificates_import(actor=None, items=[((d / "cert.pem").read_bytes(), d.name) for d in dirs])
    action = make_action(kind="onecrl")
    refused = []
    for d in dirs:
        try:
            actions.target_add(actor=staff, action=action, sha256=d.name)
        except DomainError as exc:
            refused.append(exc.message)
    # 4 pairs of these certificates share issuer and serial (re-issued): one record blocks both.
    assert len(refused) == 4 and all("is already a target" in m for m in refused)
    to_implement(staff, action)
    records = json.loads(action.artifacts.get(kind="onecrl").content)["data"]
    generated = {(r["issuerName"], r["serialNumber"]) for r in records}
    real = set()
    for d in dirs:
        kinto = json.loads((d / "kinto.json").read_text())
        real.add((kinto["issuerName"], kinto["serialNumber"]))
    assert len(records) == len(real) == 313 and generated == real


@pytest.mark.django_db
def test_nss_trust_objects_of_the_19_v2_18_distrusts_match_certdata_byte_for_byte(staff, make_action):
    from registry.actions import certificates_import

    import_certdata(V2_86)  # today's root store, without these entries
    paths = sorted(DISTRUSTED_V2_18.glob("*.der"))
    assert len(paths) == 19
    certificates_import(actor=None, items=[(p.read_bytes(), p.name) for p in paths])
    action = make_action(kind="full")
    from pki.x509 import load_der

    parsed = [load_der(p.read_bytes(), source=p.name) for p in paths]
    for cert in parsed:
        actions.target_add(actor=staff, action=action, sha256=cert.sha256)
    to_implement(staff, action, purpose_email=True)
    diff = action.artifacts.get(kind="certdata_diff").content
    added = "".join(line[1:] + "\n" for line in diff.splitlines()[2:] if line.startswith("+"))
    new_objects = certdata.parse_objects(added, source="diff")
    v2_18 = certdata.parse((NSS / "certdata_v2.18_2017-11-16.txt").read_text(encoding="utf-8"), source="v2.18")
    names = ("CKA_ISSUER", "CKA_SERIAL_NUMBER", "CKA_TRUST_SERVER_AUTH", "CKA_TRUST_EMAIL_PROTECTION",
             "CKA_TRUST_CODE_SIGNING", "CKA_TRUST_STEP_UP_APPROVED")
    for cert in parsed:
        (ours,) = [o for o in new_objects if o.issuer_serial == (cert.issuer_der, cert.serial_der)]
        (nss,) = v2_18.find(issuer=cert.issuer_der, serial=cert.serial_der, cls="CKO_NSS_TRUST")
        for name in names:
            assert ours.attribute_text(name) == nss.attribute_text(name), (cert.source, name)
    assert len(new_objects) == 19 and all(o.is_distrust for o in new_objects)
    # Nothing else of today's certdata.txt changes.
    assert not [line for line in diff.splitlines()[2:] if line.startswith("-")]


@pytest.mark.django_db
def test_distrust_after_on_top_of_v2_54_writes_entrust_as_v2_86_does(staff, make_action):
    from registry.models import RootStoreEntry

    import_certdata(NSS / "certdata_v2.54_2022-03-23.txt")
    entry = RootStoreEntry.objects.select_related("certificate").get(label="Entrust Root Certification Authority")
    action = make_action(kind="distrust_after", purpose_server=True, purpose_email=False,
                         distrust_after=datetime(2024, 11, 30, 23, 59, 59, tzinfo=UTC))
    actions.target_add(actor=staff, action=action, sha256=entry.certificate.sha256)
    to_implement(staff, action)
    from distrust import artifacts, selectors

    new_text = artifacts.certdata_new_text(action, selectors.current_certdata_text())
    v2_86 = certdata.parse((V2_86).read_text(encoding="utf-8"), source="v2.86")
    (real,) = [o for o in v2_86.certificates if o.label == "Entrust Root Certification Authority"]
    ours = certdata.parse(new_text, source="new")
    (cert_obj,) = [o for o in ours.certificates if o.label == "Entrust Root Certification Authority"]
    assert cert_obj.raw == real.raw
    diff = action.artifacts.get(kind="certdata_diff").content
    assert "+CKA_NSS_SERVER_DISTRUST_AFTER MULTILINE_OCTAL\n+\\062\\064\\061\\061\\063\\060\\062\\063\\065\\071\\065\\071\\132\n" in diff
    # The trust object is untouched: websites keep trusting certificates issued up to the date.
    assert "CKA_TRUST_SERVER_AUTH" not in "".join(line for line in diff.splitlines() if line[:1] in "+-")


@pytest.mark.django_db
def test_trust_only_entry_for_an_issuer_and_serial_alone(staff, make_action, scenario):
    import base64

    action = make_action(kind="full")
    inter = scenario.certs["inter"]
    actions.target_add(actor=staff, action=action, issuer=base64.b64encode(bytes(inter.issuer_der)).decode(),
                       serial="7F00AB", label="Unknown bad intermediate")
    to_implement(staff, action)
    diff = action.artifacts.get(kind="certdata_diff").content
    assert '+# Explicitly Distrust "Unknown bad intermediate", Bug 1900001' in diff
    assert "+CKA_CERT_SHA1_HASH" not in diff and "+CKA_SERIAL_NUMBER MULTILINE_OCTAL\n+\\002\\003\\177\\000\\253\n" in diff
