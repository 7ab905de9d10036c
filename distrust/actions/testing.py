"""Test: test certificates and test runs."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from distrust import artifacts, selectors, shipped, workflow
from distrust.actions._common import (
    _locked,
    _require_manage,
    _require_may_change,
)
from distrust.models import (
    DistrustAction,
    TestCertificate,
    TestRun,
)
from history import actions as history
from pki.x509 import CertificateError, load_any
from pki.x509 import kind as cert_kind

# --- test -----------------------------------------------------------------------------------

@transaction.atomic
def test_certificate_add(*, actor: Any, action: DistrustAction, sha256: str = "",
                         data: bytes = b"") -> TestCertificate:
    """Attach a registry certificate (SHA-256) or an uploaded one (PEM or DER)."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TEST_CERTIFICATES, "attach a test certificate")
    if sha256.strip():
        cert = selectors.certificate_by_fingerprint(sha256)
        if cert is None:
            raise DomainError(f"No certificate with SHA-256 {sha256.strip()} in the registry; upload it instead.",
                              errors={"sha256": ["not in the registry"]})
        der = bytes(cert.der)
    elif data:
        try:
            parsed = load_any(data, source="the uploaded certificate")
        except CertificateError as exc:
            raise DomainError(f"The test certificate is not in the registry and cannot be parsed: {exc}",
                              errors={"certificate": ["cannot be parsed"]}) from None
        if len(parsed) != 1:
            raise DomainError(f"Upload one certificate at a time (found {len(parsed)}).",
                              errors={"certificate": ["one at a time"]})
        der = parsed[0].der
        cert = selectors.certificate_by_fingerprint(parsed[0].sha256)
    else:
        raise DomainError("Give a registry SHA-256 or upload a certificate.", errors={"certificate": ["required"]})
    try:
        (parsed_cert,) = load_any(der, source="test certificate")
    except CertificateError as exc:
        raise DomainError(f"The test certificate cannot be parsed: {exc}") from None
    if action.test_certificates.filter(sha256=parsed_cert.sha256).exists():
        raise DomainError(f"{parsed_cert.label} is already attached.", errors={"certificate": ["duplicate"]})
    test = TestCertificate.objects.create(
        action=action, certificate=cert, der=der if cert is None else b"", sha256=parsed_cert.sha256,
        label=(str(cert) if cert else parsed_cert.label or parsed_cert.subject_text)[:255],
        cert_kind=cert_kind(parsed_cert), not_before=parsed_cert.not_before,
    )
    history.record(actor=actor, subject=action, action="test_certificate_added",
                   field=workflow.home(workflow.TEST_CERTIFICATES),
                   detail={"sha256": test.sha256, "kind": test.cert_kind, "in_registry": cert is not None})
    return test


@transaction.atomic
def test_certificate_remove(*, actor: Any, action: DistrustAction, test_id: int) -> None:
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TEST_CERTIFICATES, "remove a test certificate")
    deleted, _ = action.test_certificates.filter(pk=test_id).delete()
    if not deleted:
        raise DomainError(f"Action {action.pk} has no test certificate {test_id}.")
    history.record(actor=actor, subject=action, action="test_certificate_removed",
                   field=workflow.home(workflow.TEST_CERTIFICATES), detail={"id": test_id})


@transaction.atomic
def test_run(*, actor: Any, action: DistrustAction) -> TestRun:
    """Apply the distrust to the registry's trust store and judge every attached certificate on every path."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TEST_RUNS, "run the test")
    tests = list(action.test_certificates.select_related("certificate"))
    for t in tests:
        if t.certificate is not None and not t.der:
            t.der = t.certificate.der
    # The files that ship, read back and applied to the registry's graph (distrust.shipped), are what is tested.
    graph = selectors.trust_graph()
    artifacts.add_test_certificates(graph, tests)
    check = shipped.check_files(action, graph)
    if check.after is None:  # a file cannot be read back: nothing to run the paths on
        passed, summary = False, "the files that ship differ from the plan: " + "; ".join(check.differences)
        results = [{"sha256": "", "label": d.split(" ", 1)[0], "kind": "file", "purpose": "", "expect": "as planned",
                    "paths": [], "ok": False, "message": d} for d in check.differences]
    else:
        passed, results, summary = artifacts.run_trust_test(action, tests, graph=graph, after=check.after,
                                                            differences=check.differences)
    run = TestRun.objects.create(action=action, passed=passed, results=results, summary=summary,
                                 config_digest=artifacts.config_digest(action, tests=tests),
                                 ran_at=timezone.now(), ran_by=actor)
    history.record(actor=actor, subject=action, action="tested", field=workflow.home(workflow.TEST_RUNS),
                   new="passed" if passed else "failed", detail={"run": run.pk}, summary="" if passed else summary)
    return run


test_certificate_add.__test__ = False  # keep pytest from collecting the imported names
test_certificate_remove.__test__ = False
test_run.__test__ = False
