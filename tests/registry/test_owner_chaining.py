"""Intermediates are attached to their owner by chaining (issue 14): an intermediate without an
owner gets the owner of the root it chains to, on certificate import and as a staff action; one that
chains to roots of two owners stays unattached and is listed. Certificates are generated
(tests/domain/certgen) and stored through the registry's own import, so links are real signatures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from history.models import Event
from registry.actions import certificates_import
from registry.actions.chaining import owners_attach_by_chaining
from registry.models import Certificate
from tests.domain import certgen

pytestmark = pytest.mark.django_db


def _owner_of(issued: certgen.Issued):
    cert = Certificate.objects.select_related("owner").get(sha256=issued.parsed().sha256)
    return cert.owner.name if cert.owner else None


@pytest.fixture
def pki():
    """root_a (Acme's), root_b (Borealis'); inter issued by root_a and cross-signed by root_b
    (inter_x); sub issued by inter's key (so it chains to both roots); solo under root_a only;
    deep under solo."""
    root_a = certgen.root("Chain Test Root A")
    root_b = certgen.root("Chain Test Root B")
    inter = certgen.intermediate("Chain Test Shared Issuing CA", root_a)
    inter_x = certgen.cross_sign(inter, root_b)
    sub = certgen.intermediate("Chain Test Sub CA", inter)
    solo = certgen.intermediate("Chain Test Acme Only CA", root_a)
    deep = certgen.intermediate("Chain Test Acme Deep CA", solo)
    leaf = certgen.leaf("www.chain.example", deep)
    return dict(root_a=root_a, root_b=root_b, inter=inter, inter_x=inter_x, sub=sub, solo=solo, deep=deep, leaf=leaf)


def test_on_import_an_intermediate_gets_the_owner_of_the_root_it_chains_to(staff, owner_a, owner_b, pki):
    certificates_import(actor=staff, items=[(pki["root_a"].der, "root_a")], owner=owner_a)
    certificates_import(actor=staff, items=[(pki["root_b"].der, "root_b")], owner=owner_b)
    summary = certificates_import(actor=staff, items=[(pki[n].der, n) for n in ("solo", "deep", "leaf", "inter", "inter_x", "sub")])
    assert (_owner_of(pki["solo"]), _owner_of(pki["deep"])) == ("Acme Trust", "Acme Trust")
    assert (_owner_of(pki["inter"]), _owner_of(pki["inter_x"])) == ("Acme Trust", "Borealis PKI")
    assert _owner_of(pki["sub"]) is None  # chains to root_a and root_b: ambiguous, left alone
    assert _owner_of(pki["leaf"]) is None  # leaves are not attached
    assert (summary.owners_attached, summary.ambiguous) == (4, 1)
    assert "4 intermediates attached to their owner by chaining" in str(summary)
    rows = Event.objects.filter(action="certificate_owner_set").order_by("subject_id")
    assert rows.count() == 4 and {(r.actor_name, r.field, r.old, r.new) for r in rows} == {
        ("staff", "owner", "", "Acme Trust"), ("staff", "owner", "", "Borealis PKI")}


def test_a_root_imported_later_brings_its_owner_down_to_everything_under_it(staff, owner_a, pki):
    certificates_import(actor=staff, items=[(pki["solo"].der, "solo"), (pki["deep"].der, "deep")])
    assert _owner_of(pki["solo"]) is None  # no root yet
    certificates_import(actor=staff, items=[(pki["root_a"].der, "root_a")], owner=owner_a)
    assert (_owner_of(pki["solo"]), _owner_of(pki["deep"])) == ("Acme Trust", "Acme Trust")


def test_an_intermediate_that_has_an_owner_keeps_it(staff, owner_a, owner_b, pki):
    certificates_import(actor=staff, items=[(pki["solo"].der, "solo")], owner=owner_b)
    certificates_import(actor=staff, items=[(pki["root_a"].der, "root_a")], owner=owner_a)
    assert _owner_of(pki["solo"]) == "Borealis PKI"


def test_staff_attach_by_chaining_with_a_summary_of_attached_and_ambiguous(client_for, staff, owner_a, owner_b, pki):
    # Imported before any owner was known (e.g. a CCADB corpus ahead of the owner records).
    certificates_import(actor=None, items=[(pki[n].der, n) for n in pki])
    assert Certificate.objects.exclude(owner=None).count() == 0
    Certificate.objects.filter(sha256=pki["root_a"].parsed().sha256).update(owner=owner_a)
    Certificate.objects.filter(sha256=pki["root_b"].parsed().sha256).update(owner=owner_b)

    response = client_for(staff).post(reverse("registry:attach_by_chaining"))
    assert response.status_code == 200
    body = response.content.decode()
    summary = response.context["summary"]
    assert summary.examined == 5 and summary.attached == {"Acme Trust": 3, "Borealis PKI": 1}
    assert [(a.label, a.owners) for a in summary.ambiguous] == [("Chain Test Sub CA", ["Acme Trust", "Borealis PKI"])]
    assert "Chain Test Sub CA" in body and "Acme Trust, Borealis PKI" in body and "Acme Trust: 3" in body
    assert _owner_of(pki["sub"]) is None and _owner_of(pki["deep"]) == "Acme Trust"
    run = Event.objects.get(action="owners_attached_by_chaining")
    assert run.actor_name == "staff" and run.detail["attached"] == {"Acme Trust": 3, "Borealis PKI": 1}
    assert run.detail["ambiguous"] == [{"sha256": pki["sub"].parsed().sha256, "owners": ["Acme Trust", "Borealis PKI"]}]

    # Run again: nothing left to attach, the ambiguous one is listed again, through the API this time.
    api = client_for(staff).post("/api/v1/cas/attach-by-chaining/", content_type="application/json")
    assert api.status_code == 200
    data = api.json()
    assert (data["examined"], data["attached_count"], [a["sha256"] for a in data["ambiguous"]]) == (
        1, 0, [pki["sub"].parsed().sha256])


def test_roots_without_an_owner_attach_nothing(staff, pki):
    certificates_import(actor=None, items=[(pki[n].der, n) for n in ("root_a", "solo", "deep")])
    summary = owners_attach_by_chaining(actor=staff)
    assert (summary.examined, summary.attached_count, summary.unreached) == (2, 0, 2)


def test_attach_by_chaining_runs_a_fixed_number_of_queries(staff, owner_a):
    root = certgen.root("Chain Count Root")
    certificates_import(actor=None, items=[(root.der, "root")], owner=owner_a)

    def run(n: int, tag: str) -> int:
        cas = [certgen.intermediate(f"Chain Count {tag} CA {i}", root) for i in range(n)]
        Certificate.objects.filter(kind="intermediate").update(owner=None)
        certificates_import(actor=None, items=[(c.der, f"{tag}{i}") for i, c in enumerate(cas)])
        Certificate.objects.filter(kind="intermediate").update(owner=None)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            summary = owners_attach_by_chaining(actor=staff)
        assert summary.attached_count == Certificate.objects.filter(kind="intermediate").count()
        return len(queries)

    assert run(3, "small") == run(30, "large")
