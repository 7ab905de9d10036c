"""Registry demo data for `load_demo`: NSS's real root store (v2.86), each root's CA owner from
CCADB, and the real site chains of x509-limbo (so certificate pages show paths). Safe to run again."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

# Beside the code, not in tests/: the image leaves tests/ out (demo_data/SOURCE.md says where each file is from).
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
CERTDATA = DEMO_DATA / "certdata_v2.86_2026-04-09.txt"
OWNERS_CSV = DEMO_DATA / "ccadb_IncludedCACertificateReportForMSFTCSV_2025-10.csv"
CHAINS = DEMO_DATA / "limbo_online"
CROSS_SIGNED = DEMO_DATA / "starfield_g5_cross_signed.pem"


def load(stdout) -> None:
    from registry.actions import certdata_import, certificates_import
    from registry.models import CAOwner, CertdataImport, Certificate

    if not CERTDATA.exists():
        stdout.write(f"  skipped: {CERTDATA} is missing")
        return
    text = CERTDATA.read_bytes()
    if CertdataImport.objects.filter(text_sha256=hashlib.sha256(text).hexdigest()).exists():
        stdout.write(f"  root store: {CERTDATA.name} already imported (kept)")
    else:
        summary = certdata_import(actor=None, text=text, source=f"NSS {CERTDATA.name}")
        stdout.write(f"  root store: {summary}")

    owner_of: dict[str, str] = {}
    with OWNERS_CSV.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            owner_of[row["SHA-256 Fingerprint"].strip().upper()] = row["CA Owner"].strip()
    owners = {o.name: o for o in CAOwner.objects.all()}
    assigned = 0
    for cert in Certificate.objects.filter(owner__isnull=True, sha256__in=list(owner_of)).only("pk", "sha256"):
        name = owner_of[cert.sha256]
        if name not in owners:
            owners[name] = CAOwner.objects.create(name=name)
        Certificate.objects.filter(pk=cert.pk).update(owner=owners[name])
        assigned += 1
    stdout.write(f"  CA owners: {len(owners)} ({assigned} roots given their CCADB owner)")

    items = []
    for path in sorted(CHAINS.glob("*.limbo.json")):
        case = json.loads(path.read_text())
        items.append((case["peer_certificate"].encode(), f"{path.name}: peer"))
        items += [(pem.encode(), f"{path.name}: intermediate") for pem in case["untrusted_intermediates"]]
    if CROSS_SIGNED.exists():
        items.append((CROSS_SIGNED.read_bytes(), CROSS_SIGNED.name))
    summary = certificates_import(actor=None, items=items)
    stdout.write(f"  real site chains: {summary}")
