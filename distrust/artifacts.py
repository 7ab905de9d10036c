"""Glue from distrust models to the pure encoders: OneCRL records, the certdata.txt diff,
the cross-sign closure and the trust test over every path the registry knows.

Nothing here writes to the database; distrust/actions.py stores what these return.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from config.errors import DomainError
from distrust import selectors
from distrust.models import Artifact, ClosureItem, DistrustAction, TestCertificate
from pki import certdata, onecrl
from pki.paths import AnchorTrust
from pki.x509 import ParsedCertificate, load_der

Kind = DistrustAction.Kind


@dataclass(frozen=True)
class Entry:
    """One issuer + serial the action distrusts: a target or an added cross-sign."""

    issuer_der: bytes
    serial_der: bytes
    serial_content: bytes
    label: str
    cert_kind: str
    certificate: Any  # compliance Certificate or None
    source: str  # "target" or "closure"

    @property
    def key(self) -> tuple[bytes, bytes]:
        return (self.issuer_der, self.serial_der)


def _serial_content(serial_der: bytes) -> bytes:
    # serial_der is always stored by actions.py as a checked INTEGER TLV.
    length = serial_der[1]
    start = 2 if length < 0x80 else 2 + (length & 0x7F)
    return serial_der[start:]


def entries(action: DistrustAction) -> list[Entry]:
    out = [
        Entry(bytes(t.issuer_der), bytes(t.serial_der), _serial_content(bytes(t.serial_der)), t.label, t.cert_kind,
              t.certificate, "target")
        for t in action.targets.select_related("certificate")
    ]
    seen = {e.key for e in out}
    for item in action.closure_items.filter(decision=ClosureItem.Decision.ADDED).select_related("certificate"):
        c = item.certificate
        e = Entry(bytes(c.issuer_der), bytes(c.serial_der), bytes.fromhex(c.serial_hex), str(c), c.kind, c, "closure")
        if e.key not in seen:
            seen.add(e.key)
            out.append(e)
    return out


def expectation(action: DistrustAction, test: TestCertificate) -> str:
    """"untrusted" for a bad certificate; for distrust-after, one issued on or before the date stays "trusted"."""
    if action.kind == Kind.DISTRUST_AFTER and action.distrust_after is not None:
        return "trusted" if test.not_before <= action.distrust_after else "untrusted"
    return "untrusted"


def config_digest(action: DistrustAction, *, tests: list[TestCertificate] | None = None) -> str:
    """Digest of everything the artifacts encode; with ``tests``, of what a test run judged too."""
    parts: list[Any] = [action.kind, list(action.purposes),
                        action.distrust_after.isoformat() if action.distrust_after else None,
                        action.bug, action.include_certificate_objects]
    if Artifact.Kind.ONECRL in required_artifacts(action):
        # An incident made security-sensitive (or public) since generation changes what the records may name.
        parts.append(onecrl_bug(action))
    parts.append(sorted((e.issuer_der.hex(), e.serial_der.hex()) for e in entries(action)))
    if tests is not None:
        parts.append(sorted(t.sha256 for t in tests))
        # A test run tested these very files: one changed since (by any means) needs a new run.
        parts.append(sorted((a.kind, hashlib.sha256(a.content.encode()).hexdigest()) for a in action.artifacts.all()))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def required_artifacts(action: DistrustAction) -> list[str]:
    if action.kind == Kind.ONECRL:
        return [Artifact.Kind.ONECRL]
    if action.kind == Kind.DISTRUST_AFTER:
        return [Artifact.Kind.CERTDATA_DIFF]
    # Full distrust: NSS for everything, OneCRL too for intermediates and leaves (the seed's step 4).
    kinds = [Artifact.Kind.CERTDATA_DIFF]
    if any(e.cert_kind in ("intermediate", "leaf") for e in entries(action)):
        kinds.insert(0, Artifact.Kind.ONECRL)
    return kinds


# --- OneCRL ---------------------------------------------------------------------------------


def _onecrl_entries(action: DistrustAction) -> list[Entry]:
    es = entries(action)
    if action.kind == Kind.ONECRL:
        return es
    if action.kind == Kind.FULL:
        return [e for e in es if e.cert_kind in ("intermediate", "leaf")]
    return []


def onecrl_plan(action: DistrustAction) -> tuple[list[Entry], dict[tuple[bytes, bytes], Any]]:
    """(entries that need a record, {key: OneCRL entry} of those already blocked)."""
    es = _onecrl_entries(action)
    keys = {selectors.onecrl_block_key(e.issuer_der, e.serial_content): e for e in es}
    blocked = selectors.onecrl_blocked(list(keys))
    # Records this action itself published are not "already blocked": they are its own.
    already = {keys[k].key: v for k, v in blocked.items() if v.action_id != action.pk}
    return [e for e in es if e.key not in already], already


def onecrl_record_count(action: DistrustAction) -> int:
    return len(onecrl_plan(action)[0])


def onecrl_bug(action: DistrustAction) -> str:
    """The bug reference of the action's OneCRL records (published: anyone reads the collection).

    The NSS/OneCRL bug staff gave the action, when they gave one: typing it is their choice to publish it.
    Otherwise the lowest-numbered linked incident anyone may open: its Bugzilla URL when it was imported
    from Bugzilla, its page here otherwise. A security-sensitive incident is never named on Rootwatch's own
    initiative (its number could be read by people who may not open it); staff who decide it may be
    published type it as the action's bug. Read again at Release (restate_onecrl_details), so an incident
    made public meanwhile is named then.
    """
    if action.bug.strip():
        return action.bug.strip()
    for incident in sorted(action.incidents.all(), key=lambda i: i.number):
        if not incident.security_sensitive:
            return incident.bugzilla_url or settings.SITE_URL + incident.get_absolute_url()
    return ""


def onecrl_withheld(action: DistrustAction) -> list[int]:
    """Numbers of linked security-sensitive incidents the records leave out (the staff page says so)."""
    if action.bug.strip():
        return []
    return sorted(i.number for i in action.incidents.all() if i.security_sensitive)


def onecrl_records(action: DistrustAction, *, who: str, created: datetime) -> list[dict[str, Any]]:
    needed, _ = onecrl_plan(action)
    bug = onecrl_bug(action)
    records = []
    for e in needed:
        records.append(onecrl.record_for(
            issuer_der=e.issuer_der, serial_content=e.serial_content, bug=bug, who=who,
            why=action.published_title, name=e.label, created=created,
        ))
    return records


def restate_onecrl_reason(action: DistrustAction) -> None:
    """Give the stored OneCRL artifact's records the action's published title as their reason (the internal
    title may hold confidential text) and the bug reference onecrl_bug gives now (an incident made public
    since generation is named, one made security-sensitive is not); the records are otherwise unchanged."""
    art = action.artifacts.filter(kind=Artifact.Kind.ONECRL).first()
    if art is None:
        return
    data = json.loads(art.content)
    bug = onecrl.bug_reference(onecrl_bug(action))
    for record in data.get("data", []):
        details = record.setdefault("details", {})
        details["why"] = action.published_title
        details["bug"] = bug
    content = onecrl.serialize_collection(data.get("data", []))
    fields = []
    if content != art.content:
        art.content = content
        fields.append("content")
    digest = config_digest(action)
    if fields and art.config_digest != digest:
        art.config_digest = digest  # restated to the action as it now stands
        fields.append("config_digest")
    if fields:
        art.save(update_fields=fields)


def onecrl_json(action: DistrustAction, *, who: str, created: datetime) -> str:
    return onecrl.serialize_collection(onecrl_records(action, who=who, created=created))


# --- NSS certdata.txt -----------------------------------------------------------------------


def _parsed(entry: Entry) -> ParsedCertificate | None:
    if entry.certificate is None:
        return None
    return load_der(bytes(entry.certificate.der), source=str(entry.certificate))


def _bug_number(bug: str) -> str | None:
    digits = bug.rsplit("=", 1)[-1].strip()
    return digits if digits.isdigit() else None


def certdata_new_text(action: DistrustAction, old_text: str) -> str:
    try:
        file = certdata.parse(old_text, source="current certdata.txt")
    except certdata.CertdataError as exc:
        raise DomainError(f"The registry's certdata.txt cannot be read: {exc}") from None
    raws = [obj.raw for obj in file.objects]
    blocks: list[str] = []
    for e in entries(action):
        existing_cert = next((i for i, o in enumerate(file.objects)
                              if o.cls == certdata.CKO_CERTIFICATE and o.issuer_serial == e.key), None)
        cert = _parsed(e)
        label = file.objects[existing_cert].label if existing_cert is not None else e.label
        if action.kind == Kind.DISTRUST_AFTER:
            if existing_cert is None or cert is None:
                raise DomainError(f"{e.label} is not a certificate object of the current certdata.txt: "
                                  "distrust-after applies to included roots.")
            old = file.objects[existing_cert]
            raws[existing_cert] = certdata.render_certificate_object(
                cert, label=label, mozilla_ca_policy=bool(old.mozilla_ca_policy),
                server_distrust_after=action.distrust_after if action.purpose_server else old.server_distrust_after,
                email_distrust_after=action.distrust_after if action.purpose_email else old.email_distrust_after,
            )
            continue
        if cert is not None:
            if action.include_certificate_objects and existing_cert is None:
                blocks.append(certdata.render_certificate_object(cert, label=label))
            blocks.append(certdata.render_distrust_for_certificate(cert, label=label, bug=_bug_number(action.bug)))
        else:
            blocks.append(certdata.render_distrust_trust_object(
                label=label, issuer_der=e.issuer_der, serial_der=e.serial_der, bug=_bug_number(action.bug)))
    base = file.header + "".join(raws) + file.trailer
    if not blocks:
        return base
    return certdata.replace_or_append(certdata.parse(base, source="current certdata.txt"), *blocks)


def certdata_diff(action: DistrustAction) -> str:
    old = selectors.current_certdata_text()
    return certdata.unified_diff(old, certdata_new_text(action, old))


# --- impact and cross-sign closure ----------------------------------------------------------


def chain_counts(action: DistrustAction, graph: Any = None) -> dict[str, int]:
    """How many registry certificates chain up through the targets (issuer links, transitively)."""
    from registry.models import Certificate

    graph = graph or selectors.trust_graph()
    starts = {t.certificate.sha256 for t in action.targets.select_related("certificate") if t.certificate is not None}
    below = selectors.descendants(graph, starts)
    kinds = list(Certificate.objects.filter(sha256__in=below).values_list("kind", flat=True)) if below else []
    return {"total": len(below), "intermediates": kinds.count("intermediate"), "leaves": kinds.count("leaf")}


def closure_candidates(action: DistrustAction, graph: Any) -> list[tuple[Any, Any]]:
    """(certificate, target) pairs: same subject and key as a target, another issuer, reaching a trusted root."""
    from registry.models import Certificate

    targets = [t for t in action.targets.select_related("certificate") if t.certificate is not None]
    target_ids = {t.certificate_id for t in targets}
    keys = {t.certificate.cross_sign_key: t for t in targets}
    out = []
    for cert in Certificate.objects.filter(cross_sign_key__in=list(keys)).exclude(pk__in=target_ids).order_by("pk"):
        if reaches_trusted_root(graph, cert.sha256, action.purposes or ("server",)):
            out.append((cert, keys[cert.cross_sign_key]))
    return out


def reaches_trusted_root(graph: Any, sha: str, purposes: tuple[str, ...]) -> bool:
    return any(graph.evaluate(sha, purpose).trusted for purpose in purposes)


# --- the trust test -------------------------------------------------------------------------


def _with_test_certificates(graph: Any, tests: list[TestCertificate]) -> None:
    """Put test certificates the registry lacks into the graph, linked to the registry issuers that signed them."""
    from pki.x509 import cross_sign_key, verify_issued_by
    from registry.models import Certificate
    from registry.selectors import GraphCert

    for t in tests:
        if t.sha256 in graph.certs:
            continue
        cert = load_der(bytes(t.der), source=t.label)
        graph.certs[t.sha256] = GraphCert(t.sha256, cert.not_before, cert.issuer_der, cert.serial_der,
                                          cert.subject_der, cross_sign_key(cert), t.label)
        graph.groups[t.sha256] = cross_sign_key(cert)
        parents = []
        for candidate in Certificate.objects.filter(subject_der=cert.issuer_der).only("sha256", "der"):
            if verify_issued_by(cert, load_der(bytes(candidate.der), source=candidate.sha256)):
                parents.append(candidate.sha256)
        graph.parents[t.sha256] = sorted(parents)


add_test_certificates = _with_test_certificates


def apply_distrust(action: DistrustAction, graph: Any) -> Any:
    """A copy of the graph with this action's distrust applied."""
    out = graph.copy()
    es = entries(action)
    if action.kind == Kind.DISTRUST_AFTER:
        for e in es:
            sha = e.certificate.sha256 if e.certificate is not None else None
            if sha in out.anchors:
                old = out.anchors[sha]
                out.anchors[sha] = AnchorTrust(
                    server=old.server, email=old.email,
                    server_distrust_after=action.distrust_after if action.purpose_server else old.server_distrust_after,
                    email_distrust_after=action.distrust_after if action.purpose_email else old.email_distrust_after,
                )
    else:
        for e in es:
            out.distrusted.setdefault(e.key, set()).update(action.purposes)
    return out


def baseline(action: DistrustAction, graph: Any) -> Any:
    """The graph without this action's own entries (an imported certdata.txt may already hold them)."""
    out = graph.copy()
    for e in entries(action):
        out.distrusted.pop(e.key, None)
    return out


def _label(graph: Any, sha: str) -> str:
    return graph.certs[sha].label or sha[:16]


def _describe_path(graph: Any, path: list[str]) -> str:
    return " → ".join(_label(graph, s) for s in path)


def run_trust_test(action: DistrustAction, tests: list[TestCertificate], graph: Any = None,
                   after: Any = None, differences: list[str] = ()) -> tuple[bool, list[dict[str, Any]], str]:
    """(passed, results, summary): every attached certificate, for every purpose, through every path.

    `after`: the graph to judge on (distrust.shipped: the registry with the files that ship applied); the
    plan applied when not given. `differences` between those files and the plan fail the run, each a row."""
    graph = graph or selectors.trust_graph()
    _with_test_certificates(graph, tests)
    before = baseline(action, graph)
    after = after if after is not None else apply_distrust(action, graph)
    results: list[dict[str, Any]] = [
        {"sha256": "", "label": d.split(" ", 1)[0], "kind": "file", "purpose": "", "expect": "as planned",
         "paths": [], "ok": False, "message": d} for d in differences]
    failures: list[str] = [f"the files that ship differ from the plan: {d}" for d in differences]
    purposes = action.purposes
    for t in tests:
        expect = expectation(action, t)
        tested = False
        for purpose in purposes:
            pre, post = before.evaluate(t.sha256, purpose), after.evaluate(t.sha256, purpose)
            paths = [{"path": [{"sha256": s, "label": _label(graph, s)} for s in p.path],
                      "trusted": p.trusted, "reasons": [r.message for r in p.reasons]} for p in post.paths]
            row = {"sha256": t.sha256, "label": t.label, "kind": t.cert_kind, "purpose": purpose, "expect": expect,
                   "paths": paths, "trusted_before": pre.trusted, "trusted_after": post.trusted}
            if not pre.trusted:
                row.update(ok=None, message=f"{t.label} is not trusted for {purpose} even before the distrust "
                                            f"({len(pre.paths)} path(s) tried): nothing to test for this purpose")
                results.append(row)
                continue
            tested = True
            if expect == "untrusted" and post.trusted:
                still = [p for p in post.paths if p.trusted]
                message = (f"{t.label} still reaches a trusted root for {purpose} through "
                           + "; ".join(_describe_path(graph, p.path) for p in still))
                row.update(ok=False, message=message)
                failures.append(message)
            elif expect == "trusted" and not post.trusted:
                message = (f"{t.label}, issued before the distrust-after date, no longer works for {purpose}: "
                           + "; ".join(r.message for r in post.reasons))
                row.update(ok=False, message=message)
                failures.append(message)
            else:
                verdict = "no longer reaches a trusted root" if expect == "untrusted" else "still works"
                row.update(ok=True, message=f"{t.label} {verdict} for {purpose} ({len(post.paths)} path(s) tried)")
            results.append(row)
        if not tested:
            message = (f"{t.label} reaches no trusted root for {', '.join(purposes) or 'any purpose'} even before "
                       "the distrust, so it proves nothing")
            failures.append(message)
            results.append({"sha256": t.sha256, "label": t.label, "kind": t.cert_kind, "purpose": "",
                            "expect": expect, "paths": [], "ok": False, "message": message})
    if not tests:
        failures.append("no test certificate attached")
    passed = not failures
    summary = ("every attached certificate behaves as the distrust intends through every known path"
               if passed else "; ".join(failures))
    return passed, results, summary


# --- announcement draft ---------------------------------------------------------------------


def announcement_draft(action: DistrustAction) -> str:
    es = entries(action)
    # The announcement is public: the draft names only incidents anyone may open (staff add others by choice).
    incidents = ", ".join(f"Bug {i.number}" for i in action.incidents.all() if not i.security_sensitive)
    what = {
        Kind.FULL: "will no longer trust",
        Kind.DISTRUST_AFTER: f"will no longer trust certificates issued after {action.distrust_after:%Y-%m-%d %H:%M} UTC by"
        if action.distrust_after else "will stop trusting new certificates from",
        Kind.ONECRL: "has added to OneCRL (revoked)",
    }[action.kind]
    purposes = " and ".join({"server": "websites (TLS)", "email": "e-mail (S/MIME)"}[p] for p in action.purposes)
    lines = [f"Subject: Announcement: {action.published_title}", "", "All,", "",
             f"Mozilla {what} the following certificate(s) for {purposes or 'all purposes'}:", ""]
    lines += [f"  - {e.label}" + (f" (SHA-256 {e.certificate.sha256})" if e.certificate is not None else "")
              for e in es]
    lines.append("")
    if action.decision:
        lines += ["Course of action:", action.decision, ""]
    if action.rationale:
        lines += ["Rationale:", action.rationale, ""]
    release = action.nss_version or action.roots_module_version
    if release:
        kind = "an off-schedule (chemspill) release" if action.release_kind == "chemspill" else "a regular release"
        lines.append(f"The change ships in NSS {release}, {kind}"
                     + (f" on {action.release_date:%Y-%m-%d}" if action.release_date else "") + ".")
    if action.onecrl_published_on:
        lines.append(f"The OneCRL entries were published on {action.onecrl_published_on:%Y-%m-%d}.")
    if incidents:
        lines += ["", f"Related incident(s): {incidents}."]
    if action.bug:
        lines.append(f"Tracking bug: {action.bug}")
    return "\n".join(lines).strip() + "\n"


RESULT_DEFAULT = (
    "Users get an error when they browse to a website that uses or chains up to the distrusted certificate(s). "
    "Where a certificate object was added to the built-in list, Certificate Manager shows it like other "
    "certificates and users may turn its trust bits back on by hand."
)
