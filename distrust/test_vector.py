"""The NSS-style test vector of a distrust (the seed's step 5: "add test to cert.sh").

One text file: for each case the certificate to verify, the intermediates NSS is given with it (the
shortest path the registry knows, anchor left out: NSS has it built in), the purpose and the expected
result -- the bad intermediate (each target the registry holds that is not a root) and every attached test
certificate: bad leaves "untrusted", for distrust-after a leaf issued before the date "trusted". A shell
function in cert.sh's style runs NSS's vfychain on each case and compares. Nothing here writes.
"""

from __future__ import annotations

import base64
import textwrap
from typing import Any

from distrust import artifacts, selectors
from distrust.models import DistrustAction

USAGE = {"server": ("1", "websites (TLS server authentication)"), "email": ("4", "e-mail (S/MIME)")}


def _pem(der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def cases(action: DistrustAction) -> list[dict[str, Any]]:
    """[{label, kind, sha256, der, chain: [(label, der)], purpose, expect}], in a fixed order."""
    tests = list(action.test_certificates.select_related("certificate"))
    for t in tests:
        if t.certificate is not None and not t.der:
            t.der = t.certificate.der
    graph = selectors.trust_graph()
    artifacts.add_test_certificates(graph, tests)
    subjects: list[tuple[str, str, str, str, bytes | None]] = []  # (sha, label, kind, expect, der)
    for t in action.targets.select_related("certificate").order_by("pk"):
        c = t.certificate
        if c is not None and c.kind != "root":
            subjects.append((c.sha256, str(c), c.kind, "untrusted", bytes(c.der)))
    for t in tests:
        subjects.append((t.sha256, t.label, t.cert_kind, artifacts.expectation(action, t), bytes(t.der)))
    seen: set[str] = set()
    shas = {s for sha, *_ in subjects for p in _paths(graph, sha, action) for s in p}
    ders = {c.sha256: bytes(c.der) for c in selectors.certificates_by_sha256(sorted(shas)).values()}
    out = []
    for sha, label, kind, expect, der in subjects:
        for purpose in action.purposes:
            if (sha, purpose) in seen:
                continue
            seen.add((sha, purpose))
            paths = graph.evaluate(sha, purpose).paths
            path = paths[0].path if paths else [sha]
            chain = [(graph.certs[s].label or s[:16], ders.get(s, b"")) for s in path[1:-1]]
            out.append({"label": label, "kind": kind or "unknown", "sha256": sha, "der": der, "chain": chain,
                        "purpose": purpose, "expect": expect})
    return out


def _paths(graph: Any, sha: str, action: DistrustAction) -> list[list[str]]:
    out = []
    for purpose in action.purposes:
        report = graph.evaluate(sha, purpose)
        if report.paths:
            out.append(report.paths[0].path)
    return out


def render(action: DistrustAction) -> str:
    all_cases = cases(action)
    run = action.test_runs.first()
    name = f"distrust_{action.pk}"
    lines = [
        f"# NSS-style test vector of Rootwatch distrust action {action.pk}: {action.published_title}",
        "# The seed's step 5, \"add test to cert.sh\": each case is a certificate, the intermediates given with it,",
        "# a purpose and the result NSS must give once the change ships (the anchor is NSS's built-in root).",
        f"# Kind: {action.get_kind_display()}"
        + (f"; distrust after {action.distrust_after:%Y-%m-%d %H:%M:%S} UTC" if action.distrust_after else ""),
        "# Last test run: " + (f"{run.ran_at:%Y-%m-%d %H:%M:%S} UTC, {'passed' if run.passed else 'failed'}"
                               if run else "none yet"),
        "#",
        "# case  expected   purpose                                  certificate",
    ]
    for n, c in enumerate(all_cases, start=1):
        lines.append(f"# {n:<5} {c['expect']:<10} {USAGE[c['purpose']][1]:<40} {c['label']} ({c['kind']}, "
                     f"SHA-256 {c['sha256']})")
    if not any(c["kind"] == "leaf" for c in all_cases):
        lines.append("# No leaf certificate is attached: attach one at the Test step for a case through the chain.")
    lines += ["", f"{name}()", "{", f'  echo "$SCRIPTNAME: {action.published_title}"',
              '  DISTRUST_DB=${DISTRUST_DB:-${HOSTDIR}/distrust}']
    for n, c in enumerate(all_cases, start=1):
        files = " ".join([f"case{n}.pem"] + [f"case{n}-ca{i}.pem" for i in range(1, len(c["chain"]) + 1)])
        expected = "0" if c["expect"] == "trusted" else "1"
        lines += [
            f'  echo "case {n}: {c["label"]} must be {c["expect"]} for {USAGE[c["purpose"]][1]}"',
            f'  vfychain -d "${{DISTRUST_DB}}" -pp -u {USAGE[c["purpose"]][0]} {files}',
            f'  html_msg $? {expected} "distrust {action.pk} case {n}: {c["label"]} {c["expect"]}"',
        ]
    lines += ["}", ""]
    for n, c in enumerate(all_cases, start=1):
        lines.append(f"# case{n}.pem: {c['label']} ({c['kind']}), expected {c['expect']} for "
                     f"{USAGE[c['purpose']][1]}")
        lines.append(_pem(c["der"]).rstrip("\n"))
        for i, (label, der) in enumerate(c["chain"], start=1):
            lines.append(f"# case{n}-ca{i}.pem: {label}")
            lines.append(_pem(der).rstrip("\n"))
        lines.append("")
    return "\n".join(lines)
