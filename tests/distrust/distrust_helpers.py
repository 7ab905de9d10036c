"""Factories for the distrust tests (imported as `distrust_helpers`): a generated registry (two roots, a cross-signed
intermediate, leaves), incidents, and an action carried to a given step.

The registry is filled through the registry feature's own actions (certificates_import,
root_store_entry_add), so issuer links and cross-sign groups are computed as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from tests.domain import certgen

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass
class Scenario:
    root1: certgen.Issued
    root2: certgen.Issued
    inter: certgen.Issued  # issued by root1
    inter_x: certgen.Issued  # same subject and key, issued by root2
    leaf: certgen.Issued  # issued by inter (so it chains through both)
    certs: dict  # name -> compliance Certificate

    def sha(self, name: str) -> str:
        return self.certs[name].sha256


def build_registry(*, with_cross_sign: bool = True, leaf_not_before: datetime | None = None) -> Scenario:
    from registry.actions import certificates_import, root_store_entry_add
    from registry.models import Certificate, RootStoreEntry

    root1 = certgen.root("Distrust Test Root One")
    root2 = certgen.root("Distrust Test Root Two")
    inter = certgen.intermediate("Distrust Test Issuing CA", root1)
    inter_x = certgen.cross_sign(inter, root2)
    kw = {"not_before": leaf_not_before} if leaf_not_before else {}
    leaf = certgen.leaf("bad.example.test", inter, **kw)
    items = [(root1.der, "root1"), (root2.der, "root2"), (inter.der, "inter"), (leaf.der, "leaf")]
    if with_cross_sign:
        items.append((inter_x.der, "inter_x"))
    certificates_import(actor=None, items=items)
    by_name = {}
    for name, issued in (("root1", root1), ("root2", root2), ("inter", inter), ("inter_x", inter_x), ("leaf", leaf)):
        cert = Certificate.objects.filter(sha256=issued.parsed().sha256).first()
        if cert is not None:
            by_name[name] = cert
    delegator = RootStoreEntry.Trust.TRUSTED_DELEGATOR
    for name in ("root1", "root2"):
        root_store_entry_add(actor=None, certificate=by_name[name], label=by_name[name].label or name,
                             trust_server=delegator, trust_email=delegator)
    return Scenario(root1, root2, inter, inter_x, leaf, by_name)


def decide_data(**kw):
    data = dict(decision="Actively distrust the intermediate certificates, and push out an update.",
                rationale="Key compromise.", discussed_in="private", decided_on=date(2025, 3, 2))
    data.update(kw)
    return data


USAGE_CSV = "root,metric,value,period\nDistrust Test Root One,TLS handshakes (%),0.012,2025-02\n"


def advance(staff, action, until: str, scenario: Scenario | None = None, *, targets=("inter",), waive=True):
    """Carry an action through the steps before `until` (the target intermediate, closure waived or added)."""
    from distrust import actions, workflow

    for key in workflow.STEP_KEYS:
        if key == until:
            return action
        if action.steps.get(step=key).status == "done":
            continue
        if key == "report":
            actions.step_complete(actor=staff, action=action, step="report")
        elif key == "decide":
            for name in targets:
                actions.target_add(actor=staff, action=action, sha256=scenario.sha(name))
            actions.step_save(actor=staff, action=action, step="decide", data=decide_data(), complete=True)
        elif key == "impact":
            actions.usage_import_csv(actor=staff, action=action, text=USAGE_CSV)
            actions.step_save(actor=staff, action=action, step="impact", data={"impact_notes": "low"}, complete=True)
        elif key == "implement":
            actions.artifacts_generate(actor=staff, action=action)
            for item in action.closure_items.all():
                if waive:
                    actions.closure_decide(actor=staff, action=action, item_id=item.pk, decision="waived",
                                           reason="cross-sign expires soon")
                else:
                    actions.closure_decide(actor=staff, action=action, item_id=item.pk, decision="added")
            actions.artifacts_generate(actor=staff, action=action)
            actions.step_complete(actor=staff, action=action, step="implement")
        elif key == "test":
            actions.test_certificate_add(actor=staff, action=action, sha256=scenario.sha("leaf"))
            actions.test_run(actor=staff, action=action)
            actions.step_complete(actor=staff, action=action, step="test")
        elif key == "release":
            from distrust import workflow

            # An embargoed action (or one that copied confidential text) is released with a wording staff chose.
            wording = dict(public_title=f"Public: {action.title}", public_wording_confirmed=True) \
                if workflow.needs_public_wording(action) else {}
            actions.step_save(actor=staff, action=action, step="release", complete=True, data=dict(
                nss_version="3.110", release_kind="chemspill", release_date=date(2025, 3, 10),
                onecrl_published_on=date(2025, 3, 9), **wording))
        elif key == "communicate":
            actions.step_save(actor=staff, action=action, step="communicate", complete=True,
                              data=dict(announcement="Announcement text", all_cas_mailed=True))
        elif key == "result":
            actions.step_save(actor=staff, action=action, step="result", complete=True,
                              data=dict(user_visible_result="Errors."))
    return action
