"""Paths and cross-signs on the database: real chains (x509-limbo, NSS roots) and a generated cross-signed set."""

from __future__ import annotations

import json
from datetime import UTC
from itertools import pairwise
from pathlib import Path

import pytest
from django.core.management import call_command

from pki.x509 import load_any, verify_issued_by
from registry.actions import certificates_import, root_store_entry_add
from registry.models import Certificate, IssuerLink, RootStoreEntry
from registry.selectors import cross_signs, path_details, paths_for, trust_graph
from tests.domain import certgen
from tests.registry.registry_data import CERTS, DEMO_DATA, V2_86

LIMBO = sorted((DEMO_DATA / "limbo_online").glob("*.limbo.json"))
TRUSTED = RootStoreEntry.Trust.TRUSTED_DELEGATOR
NOT_TRUSTED = RootStoreEntry.Trust.NOT_TRUSTED


def _trust(cert: Certificate, **kw) -> RootStoreEntry:
    kw.setdefault("trust_server", TRUSTED)
    return root_store_entry_add(actor=None, certificate=cert, label=cert.label or cert.sha256[:16], **kw)


def _distrust_serial(cert: Certificate) -> RootStoreEntry:
    return root_store_entry_add(
        actor=None,
        issuer_der=bytes(cert.issuer_der),
        serial_der=bytes(cert.serial_der),
        label=f"Distrust {cert.label}",
        trust_server=NOT_TRUSTED,
        trust_email=NOT_TRUSTED,
        trust_code=NOT_TRUSTED,
    )


def _get(issued) -> Certificate:
    return Certificate.objects.get(sha256=issued.parsed().sha256)


def _assert_chains(path: list[Certificate]):
    for child, parent in pairwise(path):
        assert verify_issued_by(child.parsed(), parent.parsed()), (child.label, parent.label)


# --- generated: a cross-signed intermediate and a cross-signed root ---------------------------


@pytest.fixture
def pki(db):
    old_root = certgen.root("Old Root")
    new_root = certgen.root("New Root")
    new_root_x = certgen.cross_sign(new_root, old_root)  # the new root, certified by the old one
    inter = certgen.intermediate("Issuing CA", new_root)
    inter_x = certgen.cross_sign(inter, old_root)  # the same CA, also certified by the old root
    leaf = certgen.leaf("www.example.test", inter)
    other = certgen.root("Unrelated Root")
    certificates_import(
        actor=None, items=[(c.der, n) for n, c in enumerate([old_root, new_root, new_root_x, inter, inter_x, leaf, other])]
    )
    _trust(_get(old_root))
    _trust(_get(new_root))
    return dict(old_root=old_root, new_root=new_root, new_root_x=new_root_x, inter=inter, inter_x=inter_x, leaf=leaf)


def _shas(paths):
    return [[c.sha256 for c in p] for p in paths]


def test_links_exist_only_where_signatures_verify(pki):
    sha = {k: v.parsed().sha256 for k, v in pki.items()}
    links = {(c, p) for c, p in IssuerLink.objects.values_list("child__sha256", "parent__sha256")}
    assert links == {
        (sha["new_root_x"], sha["old_root"]),
        (sha["inter"], sha["new_root"]),
        (sha["inter"], sha["new_root_x"]),  # same key as new_root, so its signature verifies too
        (sha["inter_x"], sha["old_root"]),
        (sha["leaf"], sha["inter"]),
        (sha["leaf"], sha["inter_x"]),
    }


def test_cross_signs_are_the_same_subject_and_key(pki):
    inter = _get(pki["inter"])
    assert [c.sha256 for c in cross_signs(inter)] == [pki["inter_x"].parsed().sha256]
    assert [c.sha256 for c in cross_signs(_get(pki["new_root"]))] == [pki["new_root_x"].parsed().sha256]
    assert not cross_signs(_get(pki["leaf"])).exists()


def test_every_path_through_every_cross_sign_is_found(pki):
    sha = {k: v.parsed().sha256 for k, v in pki.items()}
    paths = _shas(paths_for(_get(pki["leaf"])))
    assert paths == sorted(
        [
            [sha["leaf"], sha["inter"], sha["new_root"]],
            [sha["leaf"], sha["inter_x"], sha["old_root"]],
            [sha["leaf"], sha["inter"], sha["new_root_x"], sha["old_root"]],
        ],
        key=lambda p: (len(p), p),
    )
    for path in paths_for(_get(pki["leaf"])):
        _assert_chains(path)


def test_a_root_in_the_root_store_is_its_own_only_path(pki):
    root = _get(pki["new_root"])
    assert _shas(paths_for(root)) == [[root.sha256]]


def test_a_certificate_without_a_trusted_root_has_no_path(db):
    lonely_root = certgen.root("Not in any root store")
    inter = certgen.intermediate("Orphan CA", lonely_root)
    certificates_import(actor=None, items=[(lonely_root.der, "r"), (inter.der, "i")])
    assert paths_for(_get(inter)) == []


def test_distrusting_one_cross_sign_leaves_the_other_path_trusted(pki):
    """Why cross-sign closure matters: distrusting `inter` by serial alone does not stop the leaf."""
    leaf = pki["leaf"].parsed().sha256
    _distrust_serial(_get(pki["inter"]))
    graph = trust_graph()
    report = graph.evaluate(leaf, "server")
    assert report.trusted
    trusted = [p.path for p in report.paths if p.trusted]
    assert len(report.paths) == 3 and trusted == [[leaf, pki["inter_x"].parsed().sha256, pki["old_root"].parsed().sha256]]
    assert [r.code for r in report.reasons] == ["distrusted_serial"]
    # Distrust every member of the cross-sign group: now no path is trusted.
    _distrust_serial(_get(pki["inter_x"]))
    assert not trust_graph().evaluate(leaf, "server").trusted


def test_trust_graph_copy_lets_callers_try_a_distrust_without_storing_it(pki):
    leaf, inter, inter_x = (pki[k].parsed() for k in ("leaf", "inter", "inter_x"))
    graph = trust_graph()
    trial = graph.copy()
    for c in (inter, inter_x):
        trial.distrusted.setdefault((c.issuer_der, c.serial_der), set()).update({"server", "email"})
    assert not trial.evaluate(leaf.sha256, "server").trusted
    assert graph.evaluate(leaf.sha256, "server").trusted
    assert set(graph.anchors) == {pki["old_root"].parsed().sha256, pki["new_root"].parsed().sha256}


def test_path_details_give_each_purpose_a_verdict(pki):
    details = path_details(_get(pki["leaf"]))
    assert all(d.verdicts["server"].trusted for d in details)
    assert not any(d.verdicts["email"].trusted for d in details)  # anchors trusted for websites only


def test_distrust_after_on_the_anchor_applies_to_later_leaves(pki):
    from datetime import datetime

    from registry.actions import root_store_entry_update

    for name in ("old_root", "new_root"):
        entry = RootStoreEntry.objects.get(certificate=_get(pki[name]))
        root_store_entry_update(actor=None, entry=entry, server_distrust_after=datetime(2023, 1, 1, tzinfo=UTC))
    report = trust_graph().evaluate(pki["leaf"].parsed().sha256, "server")
    assert not report.trusted and {r.code for r in report.reasons} == {"distrust_after"}


def test_trust_graph_runs_a_fixed_number_of_queries(pki, django_assert_num_queries):
    with django_assert_num_queries(3):
        small = trust_graph()
    more = [certgen.leaf(f"host{n}.example.test", pki["inter"]) for n in range(10)]
    certificates_import(actor=None, items=[(c.der, "more") for c in more])
    with django_assert_num_queries(3):
        big = trust_graph()
    assert len(big.certs) == len(small.certs) + 10


# --- real chains -------------------------------------------------------------------------


def _limbo(path: Path):
    case = json.loads(path.read_text())
    peer = load_any(case["peer_certificate"].encode(), source=f"{path.name}: peer")[0]
    inters = [c for pem in case["untrusted_intermediates"] for c in load_any(pem.encode(), source=path.name)]
    roots = [c for pem in case["trusted_certs"] for c in load_any(pem.encode(), source=path.name)]
    return peer, inters, roots


@pytest.mark.django_db
@pytest.mark.parametrize("path", LIMBO, ids=lambda p: p.name.removesuffix(".limbo.json"))
def test_real_site_chain_reaches_its_trusted_root(path):
    peer, inters, roots = _limbo(path)
    certificates_import(actor=None, items=[(c, c.source) for c in [peer, *inters, *roots]])
    for root in roots:
        _trust(Certificate.objects.get(sha256=root.sha256))
    paths = paths_for(Certificate.objects.get(sha256=peer.sha256))
    assert paths, f"no path for {path.name}"
    root_shas = {r.sha256 for r in roots}
    for p in paths:
        assert p[0].sha256 == peer.sha256 and p[-1].sha256 in root_shas
        _assert_chains(p)


@pytest.mark.django_db
def test_real_chains_reach_nss_roots_and_cross_signs_add_paths():
    """The 14 real site chains against NSS v2.86: each reaches an NSS root, by verified links only."""
    call_command("import_certdata", str(V2_86), stdout=open("/dev/null", "w"))
    peers = []
    items = []
    for path in LIMBO:
        peer, inters, roots = _limbo(path)
        peers.append(peer)
        items += [(c, c.source) for c in [peer, *inters, *roots]]
    certificates_import(actor=None, items=items)
    anchors = set(RootStoreEntry.objects.filter(trust_server=TRUSTED).values_list("certificate__sha256", flat=True))
    for peer in peers:
        paths = paths_for(Certificate.objects.get(sha256=peer.sha256))
        assert paths, f"{peer.source}: no path to an NSS root"
        for p in paths:
            assert p[-1].sha256 in anchors
            _assert_chains(p)


@pytest.mark.django_db
def test_real_cross_signed_root_gives_a_second_path_to_an_older_nss_root():
    """Starfield Root G2 is an NSS root and is also certified by Starfield Class 2 (CCADB):
    its G5 intermediate reaches both NSS roots, the second path through the cross-sign."""
    call_command("import_certdata", str(V2_86), stdout=open("/dev/null", "w"))
    pem = (DEMO_DATA / "starfield_g5_cross_signed.pem").read_bytes()
    certificates_import(actor=None, items=[(pem, "starfield")])
    g5 = Certificate.objects.get(sha256="29E502995310403685DD6258F9D04856878963042D4749C6D5D9773A310C31C0")
    cross = Certificate.objects.get(sha256="9F43D52E808C20AFF69E02FAAC205AAC684E6975213D6620FAC64BDE5FCAB4BC")
    paths = paths_for(g5)
    assert [[c.label for c in p] for p in paths] == [
        ["Starfield Secure Certificate Authority - G5", "Starfield Root Certificate Authority - G2"],
        [
            "Starfield Secure Certificate Authority - G5",
            "Starfield Root Certificate Authority - G2",
            "Starfield Class 2 CA",
        ],
    ]
    assert paths[1][1] == cross and paths[0][1] != cross
    assert list(cross_signs(cross)) == [paths[0][1]]
    for p in paths:
        _assert_chains(p)


@pytest.mark.django_db
def test_paypal_ev_chain_is_exactly_leaf_intermediate_root():
    folder = CERTS / "chains" / "paypal_ev_nss"
    certificates_import(actor=None, items=[(f.read_bytes(), f.name) for f in sorted(folder.iterdir())])
    root = Certificate.objects.get(kind="root")
    _trust(root)
    leaf = Certificate.objects.get(kind="leaf")
    [path] = paths_for(leaf)
    assert [c.kind for c in path] == ["leaf", "intermediate", "root"]


def test_trust_graph_works_with_paths_evaluate_directly(pki):
    """The distrust workflow calls paths.evaluate itself; groups derive from the graph's certs."""
    from pki.paths import evaluate
    from pki.x509 import cross_sign_key

    graph = trust_graph()
    leaf = pki["leaf"].parsed()
    inter = pki["inter"].parsed()
    assert cross_sign_key(graph.certs[inter.sha256]) == graph.groups[inter.sha256]
    report = evaluate(leaf.sha256, certs=graph.certs, parents=graph.parents, anchors=graph.anchors,
                      distrusted=graph.distrusted, purpose="server")  # fmt: skip
    assert report.trusted and len(report.paths) == 3
