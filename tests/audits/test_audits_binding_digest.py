"""audits.domain.binding: the digest of what an auditor is shown changes with every shown fact, and only then."""

from __future__ import annotations

import dataclasses
from datetime import date

from audits.domain.binding import ShownCriterion, ShownFinding, ShownStatement, canonical_bytes, statement_digest

BASE = ShownStatement(
    ca_owner_id=1, ca_owner="Acme Trust", auditor_id=7, auditor="Schellman & Company, LLC.", kind="period",
    period_start=date(2024, 1, 1), period_end=date(2024, 12, 31), statement_date=date(2025, 1, 30),
    urls=("https://example.test/audit.pdf",), file_sha256="ab" * 32,
    criteria=(ShownCriterion("webtrust-tls-br", "2.8"), ShownCriterion("webtrust-ca", "2.2.2")),
    fingerprints=("96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6",),
    findings=(ShownFinding("minor", "Two CRLs were published late"),),
)

CHANGED = {
    "ca_owner_id": 2, "ca_owner": "Acme Trust Ltd", "auditor_id": 8, "auditor": "Other LLP", "kind": "point",
    "period_start": date(2024, 1, 2), "period_end": date(2024, 12, 30), "statement_date": date(2025, 1, 31),
    "urls": ("https://example.test/other.pdf",), "file_sha256": "cd" * 32,
    "criteria": (ShownCriterion("webtrust-tls-br", "2.9"), ShownCriterion("webtrust-ca", "2.2.2")),
    "fingerprints": ("A" * 64,), "findings": (),
}


def test_every_shown_field_changes_the_digest():
    assert set(CHANGED) == {f.name for f in dataclasses.fields(ShownStatement)}
    base = statement_digest(BASE)
    for name, value in CHANGED.items():
        assert statement_digest(dataclasses.replace(BASE, **{name: value})) != base, name


def test_a_reworded_finding_or_a_changed_severity_changes_the_digest():
    base = statement_digest(BASE)
    assert statement_digest(dataclasses.replace(BASE, findings=(ShownFinding("major", "Two CRLs were published late"),))) != base
    assert statement_digest(dataclasses.replace(BASE, findings=(ShownFinding("minor", "Two CRLs were published late."),))) != base


def test_order_of_criteria_and_fingerprints_and_unicode_spelling_do_not():
    swapped = dataclasses.replace(BASE, criteria=tuple(reversed(BASE.criteria)))
    assert statement_digest(swapped) == statement_digest(BASE)
    decomposed = dataclasses.replace(BASE, ca_owner="Acme Tru\u0073t", auditor="Schellman & Company, LLC.")
    assert statement_digest(decomposed) == statement_digest(BASE)
    nfd = dataclasses.replace(BASE, ca_owner="Ce\u0301sar CA")
    nfc = dataclasses.replace(BASE, ca_owner="C\u00e9sar CA")
    assert statement_digest(nfd) == statement_digest(nfc)


def test_the_canonical_form_is_stable_json():
    assert canonical_bytes(BASE).startswith(b'{"auditor":[7,"Schellman & Company, LLC."],"ca_owner":[1,"Acme Trust"]')
    assert len(statement_digest(BASE)) == 64
