"""Cross-sign closure rows say which certificate each is (issuer, serial, SHA-256, validity), so two
cross-signs with the same subject -- here even the same issuer -- are told apart on the page and the
decision form names the serial; only staff reach the step page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from distrust import actions
from tests.distrust.distrust_helpers import advance
from tests.domain import certgen


def _second_cross_sign(scenario):
    """Another certificate for the intermediate's subject and key from root2, re-issued later with
    its own serial and validity: same subject, same issuer as scenario.inter_x."""
    from registry.actions import certificates_import
    from registry.models import Certificate

    again = certgen.cross_sign(scenario.inter, scenario.root2, not_before=datetime(2026, 5, 1, tzinfo=UTC),
                               not_after=datetime(2031, 5, 1, tzinfo=UTC), serial=0x7E57C105E)
    certificates_import(actor=None, items=[(again.der, "inter_x2")])
    return Certificate.objects.get(sha256=again.parsed().sha256)


def _rows(html: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(
        r'<tr class="dt-closure-row" data-sha256="([0-9A-F]{64})">(.*?)</tr>', html, re.S)}


@pytest.mark.django_db
def test_two_closure_rows_with_the_same_subject_are_told_apart(client_for, staff, scenario, make_action):
    second = _second_cross_sign(scenario)
    first = scenario.certs["inter_x"]
    assert bytes(first.subject_der) == bytes(second.subject_der)
    assert bytes(first.issuer_der) == bytes(second.issuer_der)
    action = advance(staff, make_action(), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    assert {i.certificate_id for i in action.closure_items.all()} == {first.pk, second.pk}

    html = client_for(staff).get(f"/distrust/{action.pk}/steps/implement/").content.decode()
    rows = _rows(html)
    assert set(rows) == {first.sha256, second.sha256}
    for cert in (first, second):
        row = rows[cert.sha256]
        other = second if cert is first else first
        assert cert.issuer_text in row
        assert f">{cert.serial_hex}<" in row
        assert f">{cert.sha256}<" in row
        assert f"{cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}" in row
        # What tells them apart is in this row and not the other's.
        assert other.serial_hex not in row and other.sha256 not in row
        assert f"{other.not_before:%Y-%m-%d} to" not in row
        # The decision form names the serial, so two forms with the same subject read differently.
        assert f"(serial {cert.serial_hex})" in row
    # Fingerprints and serials may break anywhere (a 375px screen holds 64 hex digits).
    assert html.count('class="mono dt-hex"') == 4
    from django.contrib.staticfiles import finders

    rules = open(finders.find("css/distrust.css")).read()
    assert ".dt-hex { overflow-wrap: anywhere; word-break: break-all; }" in rules
    assert "@media (max-width: 40rem)" in rules and ".dt-closure tr" in rules


@pytest.mark.django_db
def test_the_detail_page_shows_the_same_rows(client_for, staff, scenario, make_action):
    second = _second_cross_sign(scenario)
    action = advance(staff, make_action(), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    html = client_for(staff).get(f"/distrust/{action.pk}/").content.decode()
    assert set(_rows(html)) == {scenario.certs["inter_x"].sha256, second.sha256}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep_a", "reviewer", "anonymous"])
def test_only_staff_reach_the_step_page_and_decide(request, who, client_for, staff, scenario, make_action):
    action = advance(staff, make_action(), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    item = action.closure_items.get()
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)
    response = client.get(f"/distrust/{action.pk}/steps/implement/")
    if user is None:
        assert response.status_code in (302, 403)
    else:
        assert response.status_code == 403
    post = client.post(f"/distrust/{action.pk}/closure/{item.pk}/", {"decision": "added"})
    assert post.status_code in (302, 403)
    api = client.post(f"/api/v1/distrust/{action.pk}/closure/{item.pk}/", {"decision": "added"},
                      content_type="application/json")
    assert api.status_code in (401, 403)
    item.refresh_from_db()
    assert item.decision == "pending"
