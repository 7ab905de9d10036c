"""pki.paths: verified links, path finding, trust evaluation."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest

from pki.paths import AnchorTrust, compute_links, cross_sign_groups, evaluate, find_paths, parents_map
from pki.x509 import ParsedCertificate, load_der, load_pem, verify_issued_by
from tests.domain import certgen
from tests.registry.registry_data import DEMO_DATA

CHAINS = Path(__file__).resolve().parent.parent / "fixtures" / "certs" / "chains"

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")


def graph(*certs: ParsedCertificate):
    links = compute_links(certs)
    return links, parents_map(links), cross_sign_groups(certs)


# ---------------------------------------------------------------------------
# Real chains
# ---------------------------------------------------------------------------

def test_paypal_chain() -> None:
    ee, ica, root = (load_der((CHAINS / "paypal_ev_nss" / f"PayPal{n}.cert").read_bytes(), source=n)
                     for n in ("EE", "ICA", "RootCA"))
    links, parents, groups = graph(ee, ica, root)
    assert links == sorted([(ee.sha256, ica.sha256), (ica.sha256, root.sha256)])
    assert find_paths(ee.sha256, parents, {root.sha256}, group_of=groups) == [
        [ee.sha256, ica.sha256, root.sha256]
    ]
    assert find_paths(ee.sha256, parents, {ica.sha256}) == [[ee.sha256, ica.sha256]]
    assert find_paths(root.sha256, parents, {root.sha256}) == [[root.sha256]]


def test_cryptography_io_bundle() -> None:
    leaf, r3, isrg = load_pem((CHAINS / "cryptography.io.pem").read_text(), source="cryptography.io.pem")
    links, parents, groups = graph(isrg, r3, leaf)  # input order does not matter
    assert (isrg.sha256, isrg.sha256) not in links  # a self-signed root does not link to itself
    assert find_paths(leaf.sha256, parents, {isrg.sha256}, group_of=groups) == [
        [leaf.sha256, r3.sha256, isrg.sha256]
    ]


LIMBO = sorted((DEMO_DATA / "limbo_online").glob("*.limbo.json"))


@pytest.mark.parametrize("path", LIMBO, ids=lambda p: p.name.split(".limbo")[0])
def test_limbo_online_chains(path: Path) -> None:
    case = json.loads(path.read_text())
    trusted = [c for pem in case["trusted_certs"] for c in load_pem(pem, source=f"{path.name} trusted")]
    inters = [c for pem in case["untrusted_intermediates"]
              for c in load_pem(pem, source=f"{path.name} intermediate")]
    (peer,) = load_pem(case["peer_certificate"], source=f"{path.name} peer")
    links, parents, groups = graph(peer, *inters, *trusted)
    paths = find_paths(peer.sha256, parents, {c.sha256 for c in trusted}, group_of=groups)
    assert case["expected_result"] == "SUCCESS" and paths
    by_sha = {c.sha256: c for c in [peer, *inters, *trusted]}
    for p in paths:
        assert p[0] == peer.sha256 and p[-1] in {c.sha256 for c in trusted}
        for child, parent in pairwise(p):
            assert verify_issued_by(by_sha[child], by_sha[parent])


# ---------------------------------------------------------------------------
# Generated sets
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cross() -> SimpleNamespace:
    """Two roots; intermediate I issued by R1 and cross-signed by R2; a leaf under I."""
    r1, r2 = certgen.root("Root One"), certgen.root("Root Two")
    i1 = certgen.intermediate("Issuing CA", r1)
    i2 = certgen.cross_sign(i1, r2)
    leaf = certgen.leaf("www.example.test", i1, not_before=certgen.NOT_BEFORE + timedelta(days=30))
    ns = SimpleNamespace(**{k: v.parsed(k) for k, v in dict(r1=r1, r2=r2, i1=i1, i2=i2, leaf=leaf).items()})
    ns.all = [ns.r1, ns.r2, ns.i1, ns.i2, ns.leaf]
    ns.certs = {c.sha256: c for c in ns.all}
    ns.links, ns.parents, ns.groups = graph(*ns.all)
    return ns


def test_cross_signed_intermediate_gives_two_paths(cross) -> None:
    assert sorted(cross.links) == sorted([
        (cross.leaf.sha256, cross.i1.sha256), (cross.leaf.sha256, cross.i2.sha256),
        (cross.i1.sha256, cross.r1.sha256), (cross.i2.sha256, cross.r2.sha256),
    ])
    paths = find_paths(cross.leaf.sha256, cross.parents, {cross.r1.sha256, cross.r2.sha256},
                       group_of=cross.groups)
    assert sorted(paths) == sorted([
        [cross.leaf.sha256, cross.i1.sha256, cross.r1.sha256],
        [cross.leaf.sha256, cross.i2.sha256, cross.r2.sha256],
    ])
    assert paths == sorted(paths, key=lambda p: (len(p), p))  # deterministic order
    # the same input gives the same output, whatever the order of parents
    shuffled = {k: list(reversed(v)) for k, v in cross.parents.items()}
    assert find_paths(cross.leaf.sha256, shuffled, [cross.r2.sha256, cross.r1.sha256],
                      group_of=cross.groups) == paths


def test_wrong_signature_parent_with_matching_name_is_not_linked(cross) -> None:
    impostor = certgen.root("Issuing CA").parsed("impostor")  # same subject as I, other key
    assert impostor.subject_der == cross.i1.subject_der
    links = compute_links([*cross.all, impostor])
    assert all(impostor.sha256 not in link for link in links)
    # names I as issuer but is signed by another key
    forged = certgen.make_cert("forged", ca=False, issuer_name=cross.i1.x509().subject).parsed("forged")
    assert forged.issuer_der == cross.i1.subject_der
    assert [link for link in compute_links([*cross.all, forged]) if link[0] == forged.sha256] == []


def test_cross_sign_loop_terminates() -> None:
    a, b = certgen.root("Loop A"), certgen.root("Loop B")
    b_by_a = certgen.cross_sign(b, a)
    a_by_b = certgen.cross_sign(a, b)
    leaf = certgen.leaf("loop.example.test", a)
    pa, pb, pba, pab, pl = (x.parsed() for x in (a, b, b_by_a, a_by_b, leaf))
    links, parents, groups = graph(pa, pb, pba, pab, pl)
    assert (pab.sha256, pba.sha256) in links and (pba.sha256, pab.sha256) in links  # a real cycle
    assert (pa.sha256, pab.sha256) not in links  # same subject and key: no link
    assert find_paths(pl.sha256, parents, {pb.sha256}, group_of=groups) == [
        [pl.sha256, pab.sha256, pb.sha256]
    ]
    both = find_paths(pl.sha256, parents, {pa.sha256, pb.sha256}, group_of=groups)
    assert both == [[pl.sha256, pa.sha256], [pl.sha256, pab.sha256, pb.sha256]]
    # without groups, only certificates are not repeated: A' -> B' -> A is then allowed
    loose = find_paths(pl.sha256, parents, {pa.sha256, pb.sha256})
    assert [pl.sha256, pab.sha256, pba.sha256, pa.sha256] in loose and len(loose) == 3
    assert find_paths(pl.sha256, parents, set(), group_of=groups) == []


def test_max_depth_and_unknown_start() -> None:
    chain = [certgen.root("Depth Root")]
    for n in range(5):
        chain.append(certgen.intermediate(f"Depth {n}", chain[-1]))
    parsed = [c.parsed() for c in chain]
    _, parents, groups = graph(*parsed)
    start, anchor = parsed[-1].sha256, parsed[0].sha256
    assert len(find_paths(start, parents, {anchor})[0]) == 6
    assert find_paths(start, parents, {anchor}, max_depth=6) != []
    assert find_paths(start, parents, {anchor}, max_depth=5) == []
    assert find_paths("0" * 64, parents, {anchor}) == []
    assert find_paths(start, parents, {parsed[3].sha256}) == [[p.sha256 for p in parsed[:2:-1]]]


def test_compute_links_ignores_duplicates_and_is_fast() -> None:
    root = certgen.root("Bulk Root")
    inters = [certgen.intermediate(f"Bulk CA {n}", root) for n in range(20)]
    leaves = [certgen.leaf(f"host{n}.example.test", inters[n % 20]) for n in range(1000)]
    parsed = [x.parsed() for x in [root, *inters, *leaves]]
    start = time.perf_counter()
    links = compute_links(parsed + parsed[:50])
    elapsed = time.perf_counter() - start
    assert len(links) == 20 + 1000
    assert elapsed < 5, elapsed
    parents = parents_map(links)
    groups = cross_sign_groups(parsed)
    start = time.perf_counter()
    for cert in parsed:
        assert len(find_paths(cert.sha256, parents, {root.parsed().sha256}, group_of=groups)) == 1
    assert time.perf_counter() - start < 2


# ---------------------------------------------------------------------------
# Trust evaluation
# ---------------------------------------------------------------------------

def both_trusted(cross, **kw):
    return {cross.r1.sha256: AnchorTrust(server=True, email=True, **kw),
            cross.r2.sha256: AnchorTrust(server=True, email=True)}


def test_evaluate_all_trusted(cross) -> None:
    report = evaluate(cross.leaf.sha256, certs=cross.certs, parents=cross.parents,
                      anchors=both_trusted(cross), distrusted={}, purpose="server")
    assert report.trusted and len(report.paths) == 2 and all(p.trusted for p in report.paths)
    assert report.reasons == []


def test_distrusting_one_intermediate_leaves_the_other_path(cross) -> None:
    distrusted = {(cross.i1.issuer_der, cross.i1.serial_der): {"server"}}
    report = evaluate(cross.leaf.sha256, certs=cross.certs, parents=cross.parents,
                      anchors=both_trusted(cross), distrusted=distrusted, purpose="server")
    assert report.trusted
    verdicts = {p.anchor: p for p in report.paths}
    assert verdicts[cross.r2.sha256].trusted
    bad = verdicts[cross.r1.sha256]
    assert not bad.trusted
    assert [(r.code, r.cert) for r in bad.reasons] == [("distrusted_serial", cross.i1.sha256)]
    # distrust for server says nothing about email
    email = evaluate(cross.leaf.sha256, certs=cross.certs, parents=cross.parents,
                     anchors=both_trusted(cross), distrusted=distrusted, purpose="email")
    assert all(p.trusted for p in email.paths)


def test_distrusting_both_makes_the_leaf_untrusted(cross) -> None:
    distrusted = {(cross.i1.issuer_der, cross.i1.serial_der): {"server", "email"},
                  (cross.i2.issuer_der, cross.i2.serial_der): {"server"}}
    report = evaluate(cross.leaf.sha256, certs=cross.certs, parents=cross.parents,
                      anchors=both_trusted(cross), distrusted=distrusted, purpose="server")
    assert not report.trusted and len(report.paths) == 2
    assert {(r.code, r.cert) for r in report.reasons} == {
        ("distrusted_serial", cross.i1.sha256), ("distrusted_serial", cross.i2.sha256)
    }
    # distrusting the leaf itself by issuer and serial
    leaf_only = {(cross.leaf.issuer_der, cross.leaf.serial_der): {"server"}}
    report = evaluate(cross.leaf.sha256, certs=cross.certs, parents=cross.parents,
                      anchors=both_trusted(cross), distrusted=leaf_only, purpose="server")
    assert not report.trusted


def test_distrust_after_compares_the_leaf_not_before(cross) -> None:
    nb = cross.leaf.not_before
    only_r1 = lambda d: {  # noqa: E731
        cross.r1.sha256: AnchorTrust(server=True, email=True, server_distrust_after=d),
        cross.r2.sha256: AnchorTrust(server=False, email=True),
    }
    kw = dict(certs=cross.certs, parents=cross.parents, distrusted={}, purpose="server")
    before = evaluate(cross.leaf.sha256, anchors=only_r1(nb - timedelta(days=1)), **kw)
    assert not before.trusted
    assert {r.code for r in before.reasons} == {"distrust_after", "anchor_not_trusted"}
    on_the_day = evaluate(cross.leaf.sha256, anchors=only_r1(nb), **kw)
    assert on_the_day.trusted  # notBefore <= distrust-after is still trusted
    after = evaluate(cross.leaf.sha256, anchors=only_r1(nb + timedelta(days=1)), **kw)
    assert after.trusted
    # the date only limits its own purpose
    email = evaluate(cross.leaf.sha256, anchors=only_r1(nb - timedelta(days=1)),
                     **{**kw, "purpose": "email"})
    assert email.trusted and all(p.trusted for p in email.paths)


def test_anchor_not_trusted_for_purpose(cross) -> None:
    anchors = {cross.r1.sha256: AnchorTrust(server=True, email=False),
               cross.r2.sha256: AnchorTrust(server=False, email=False)}
    report = evaluate(cross.leaf.sha256, certs=cross.certs, parents=cross.parents,
                      anchors=anchors, distrusted={}, purpose="email")
    assert not report.trusted
    assert [r.code for r in report.reasons] == ["anchor_not_trusted", "anchor_not_trusted"]
    assert "not trusted for email" in report.reasons[0].message


def test_evaluate_without_a_path_and_with_model_like_objects(cross) -> None:
    stray = certgen.leaf("stray.example.test", certgen.root("Elsewhere")).parsed()
    certs = {**cross.certs, stray.sha256: stray}
    report = evaluate(stray.sha256, certs=certs, parents=cross.parents,
                      anchors=both_trusted(cross), distrusted={}, purpose="server")
    assert report.paths == [] and not report.trusted
    slim = {sha: SimpleNamespace(not_before=c.not_before, issuer_der=c.issuer_der, serial_der=c.serial_der)
            for sha, c in cross.certs.items()}
    report = evaluate(cross.leaf.sha256, certs=slim, parents=cross.parents,
                      anchors=both_trusted(cross), distrusted={}, purpose="server",
                      group_of=cross.groups)
    assert report.trusted and len(report.paths) == 2
    with pytest.raises(ValueError, match="purpose"):
        evaluate(cross.leaf.sha256, certs=cross.certs, parents=cross.parents,
                 anchors=both_trusted(cross), distrusted={}, purpose="code")
