"""The Test step tests the files that ship, not the plan.

The stored artifacts are read back with the parsers that read real files: the certdata.txt diff is applied
(strictly, pki.patch) to the registry's certdata.txt and both files parsed (pki.certdata); the OneCRL JSON
is parsed (pki.onecrl). What they do -- trust objects, distrust-after dates, blocked issuer + serials -- is
compared with the plan (the action's targets and added cross-signs, kinds, purposes, date, bug); every
difference is a sentence naming the file and what differs. The registry's trust graph, without the action's
own entries, then gets what the files do (plus the OneCRL records the plan relies on as already published)
and the path test runs on that graph.

Nothing here writes; distrust.actions.testing stores the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distrust import artifacts, selectors
from distrust.models import Artifact, DistrustAction
from pki import certdata, onecrl
from pki.onecrl import OneCRLError
from pki.patch import PatchError, apply_unified_diff
from pki.paths import AnchorTrust
from pki.shipped import KeyState, certdata_changes, certdata_states
from pki.x509 import nss_name_text

PURPOSE_LABELS = {"server": "websites (TLS)", "email": "e-mail (S/MIME)"}
FILE_NAMES = {Artifact.Kind.ONECRL: "onecrl.json", Artifact.Kind.CERTDATA_DIFF: "certdata.diff"}


@dataclass
class ShippedCheck:
    differences: list[str] = field(default_factory=list)  # each names its file
    after: Any = None  # the registry's graph with the files applied; None when a file cannot be read


def _name(key: tuple[bytes, bytes], labels: dict[tuple[bytes, bytes], str]) -> str:
    if key in labels:
        return labels[key]
    try:
        issuer = nss_name_text(key[0])
    except ValueError:
        issuer = key[0].hex()
    return f"{issuer} serial {artifacts._serial_content(key[1]).hex().upper()}"


def _purposes(purposes: Any) -> str:
    return " and ".join(PURPOSE_LABELS[p] for p in sorted(purposes))


def _when(dt: Any) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC") if dt is not None else "none"


def _same_time(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return a.replace(microsecond=0) == b.replace(microsecond=0)  # certdata holds whole seconds


def _compare_certdata(action: DistrustAction, labels: dict, changes: dict, states: dict[Any, KeyState]) -> list[str]:
    out = []
    where = "certdata.diff"
    for key, label in labels.items():
        new = states.get(key) or KeyState()
        if action.kind == DistrustAction.Kind.DISTRUST_AFTER:
            for purpose in action.purposes:
                have = new.server_distrust_after if purpose == "server" else new.email_distrust_after
                if not _same_time(have, action.distrust_after):
                    out.append(f"{where} gives {label} a {PURPOSE_LABELS[purpose]} distrust-after of {_when(have)}; "
                               f"the plan says {_when(action.distrust_after)}")
        else:
            missing = set(action.purposes) - new.distrusted_for()
            if missing:
                out.append(f"{where} does not distrust {label} for {_purposes(missing)}")
    for key in changes:
        if key not in labels:
            out.append(f"{where} changes the trust of {_name(key, labels)}, which the plan does not name")
    return out


def _apply_certdata(after: Any, graph: Any, keys: set, states: dict[Any, KeyState]) -> None:
    anchor_by_key = {(c.issuer_der, c.serial_der): sha for sha, c in graph.certs.items() if sha in after.anchors}
    for key in keys:
        state = states.get(key)
        if state is None:
            continue
        purposes = state.distrusted_for()
        if purposes:
            after.distrusted.setdefault(key, set()).update(purposes)
        sha = anchor_by_key.get(key)
        if sha is not None:
            old = after.anchors[sha]
            after.anchors[sha] = AnchorTrust(server=old.server, email=old.email,
                                             server_distrust_after=state.server_distrust_after,
                                             email_distrust_after=state.email_distrust_after)


def _compare_onecrl(action: DistrustAction, records: list, labels: dict) -> list[str]:
    out = []
    where = "onecrl.json"
    needed, _ = artifacts.onecrl_plan(action)
    expected = {(e.issuer_der, e.serial_content): e for e in needed}
    bug = onecrl.bug_reference(artifacts.onecrl_bug(action))
    seen = set()
    for rec in records:
        if not rec.by_issuer_serial:
            out.append(f"{where} holds a subject + key record ({rec.id}), which the plan does not make")
            continue
        key = rec.key()
        e = expected.get(key)
        serial_der = selectors.serial_der_from_content(key[1])
        if e is None:
            out.append(f"{where} blocks {_name((key[0], serial_der), labels)}, which the plan does not name")
            continue
        seen.add(key)
        if not rec.enabled:
            out.append(f"{where}: the record for {e.label} is disabled")
        if rec.details.bug != bug:
            out.append(f"{where}: the record for {e.label} names bug {rec.details.bug or '(none)'}; "
                       f"the plan says {bug or '(none)'}")
    for key, e in expected.items():
        if key not in seen:
            out.append(f"{where} has no record for {e.label} (serial {key[1].hex().upper()})")
    return out


def check_files(action: DistrustAction, graph: Any) -> ShippedCheck:
    """Read the stored artifacts back, compare them with the plan, and build the graph they make."""
    check = ShippedCheck()
    entries = artifacts.entries(action)
    labels = {e.key: e.label for e in entries}
    after = artifacts.baseline(action, graph)
    have = {a.kind: a for a in action.artifacts.all()}
    readable = True
    for kind in artifacts.required_artifacts(action):
        if kind not in have:
            check.differences.append(f"{FILE_NAMES[kind]} was not generated (generate the artifacts at step 4)")
            readable = False
    if Artifact.Kind.CERTDATA_DIFF in have:
        old_text = selectors.current_certdata_text()
        try:
            new_text = apply_unified_diff(old_text, have[Artifact.Kind.CERTDATA_DIFF].content)
            old_file = certdata.parse(old_text, source="the registry's certdata.txt")
            new_file = certdata.parse(new_text, source="certdata.txt with certdata.diff applied")
        except (PatchError, certdata.CertdataError) as exc:
            check.differences.append(f"certdata.diff cannot be applied and read back: {exc}")
            readable = False
        else:
            changes = certdata_changes(old_file, new_file)
            states = certdata_states(new_file)
            check.differences += _compare_certdata(action, labels, changes, states)
            _apply_certdata(after, graph, set(labels) | set(changes), states)
    if Artifact.Kind.ONECRL in have:
        try:
            records = onecrl.parse_collection(have[Artifact.Kind.ONECRL].content, source="onecrl.json")
        except OneCRLError as exc:
            check.differences.append(f"onecrl.json cannot be read back: {exc}")
            readable = False
        else:
            check.differences += _compare_onecrl(action, records, labels)
            for rec in records:
                if rec.by_issuer_serial and rec.enabled:
                    key = (rec.issuer_der, selectors.serial_der_from_content(rec.serial_content))
                    after.distrusted.setdefault(key, set()).update(("server", "email"))
            # What the plan relies on as already blocked by a published record ships too.
            _, already = artifacts.onecrl_plan(action)
            for key in already:
                after.distrusted.setdefault(key, set()).update(("server", "email"))
    check.after = after if readable else None
    return check
