"""The seed's eight steps of active distrust as one table, with the gate of each step.

A step is pending (an earlier step is not done), open (the one being worked on) or
done. Steps are done in order: completing the open step opens the next one; reopening
a done step (with a reason) sends it and every later step back, since what follows
was built on it. A gate returns what is still missing; an empty list lets the step
complete. distrust/actions.py applies the table; pages show the gates' messages.

Each row holds everything about its step: the fields its form may change, the
collections of the action that may change while it is open, its gate, and what saving
and completing it trigger (hooks). Nothing outside this module names a step except the
hooks themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config import stale
from distrust.models import Artifact, ClosureItem, DistrustAction, DistrustStep

Gate = Callable[[DistrustAction], list[str]]
# A hook runs inside the action's transaction, may set fields on the action (the caller saves
# it) or write rows, and returns what to record in the history row's detail.
Hook = Callable[[DistrustAction, Any], dict[str, Any]]

# The collections of an action that a step may let change, by their related name on DistrustAction.
TARGETS = "targets"
USAGE_FIGURES = "usage_figures"
ARTIFACTS = "artifacts"  # generating them also refreshes the cross-sign closure
CLOSURE_ITEMS = "closure_items"  # deciding on a cross-signed certificate
TEST_CERTIFICATES = "test_certificates"
TEST_RUNS = "test_runs"
COLLECTIONS: tuple[str, ...] = (TARGETS, USAGE_FIGURES, ARTIFACTS, CLOSURE_ITEMS, TEST_CERTIFICATES, TEST_RUNS)

# The fields a new action copies from its incident (selectors.incident_prefill). Copied from a
# security-sensitive incident they hold embargoed text: DistrustAction.confidential_fields names them,
# only staff read them, and Release waits until staff chose and confirmed the public wording.
COPIED_FROM_INCIDENT: tuple[str, ...] = ("title", "reported_by")


def confidential_copies(incidents: Any) -> list[str]:
    """The fields of an action linked to `incidents` whose text may come from a confidential one."""
    return list(COPIED_FROM_INCIDENT) if any(i.security_sensitive for i in incidents) else []


def needs_public_wording(a: DistrustAction) -> bool:
    """Whether Release must wait for staff to choose and confirm what is published: the action copied text
    from a confidential source, was prepared under embargo, or names an incident that is now confidential."""
    return bool(a.confidential_fields) or a.is_embargoed or a.incidents.filter(security_sensitive=True).exists()


# --- gates: each returns the sentences of what is missing ---------------------------------


def gate_report(a: DistrustAction) -> list[str]:
    missing = []
    if not a.incidents.exists():
        missing.append("link at least one incident")
    if not a.reported_by.strip():
        missing.append("say who reported the security concern")
    if a.reported_on is None:
        missing.append("give the date of the report")
    return missing


def gate_decide(a: DistrustAction) -> list[str]:
    missing = []
    if not a.decision.strip():
        missing.append("record the course of action")
    if not a.rationale.strip():
        missing.append("record the rationale")
    if not a.discussed_in:
        missing.append("say where it was discussed (private security group or public list)")
    if a.decided_on is None:
        missing.append("give the date of the decision")
    if not a.purposes:
        missing.append("choose at least one purpose (websites, e-mail)")
    targets = list(a.targets.all())
    if not targets:
        missing.append("add at least one certificate to distrust")
    if a.kind == DistrustAction.Kind.DISTRUST_AFTER:
        if a.distrust_after is None:
            missing.append("give the distrust-after date")
        not_roots = [t.label for t in targets if t.cert_kind != "root"]
        if not_roots:
            missing.append("distrust-after applies to included roots only; not a registry root: " + ", ".join(not_roots))
    if a.kind == DistrustAction.Kind.ONECRL:
        roots = [t.label for t in targets if t.cert_kind == "root"]
        if roots:
            missing.append("OneCRL revokes intermediates and leaves, not roots: " + ", ".join(roots))
    return missing


def gate_impact(a: DistrustAction) -> list[str]:
    missing = []
    if not a.usage_figures.exists():
        missing.append("enter usage figures for the affected roots (or import them as CSV)")
    if a.chain_count is None:
        missing.append("measure how many registry certificates chain through the targets (save the step)")
    return missing


def gate_implement(a: DistrustAction) -> list[str]:
    from distrust import artifacts

    missing = []
    pending = list(a.closure_items.filter(decision=ClosureItem.Decision.PENDING).select_related("certificate"))
    if pending:
        missing.append(
            "decide on each cross-signed certificate (add or waive with a reason): "
            + ", ".join(str(item.certificate) for item in pending)
        )
    digest = artifacts.config_digest(a)
    have = {art.kind: art for art in a.artifacts.all()}
    for kind in artifacts.required_artifacts(a):
        art = have.get(kind)
        if art is None:
            missing.append(f"generate the {Artifact.Kind(kind).label}")
        elif art.config_digest != digest:
            missing.append(f"regenerate the {Artifact.Kind(kind).label}: the distrust changed since it was generated")
    return missing


def gate_test(a: DistrustAction) -> list[str]:
    from distrust import artifacts

    missing = []
    tests = list(a.test_certificates.all())
    bad = [t for t in tests if artifacts.expectation(a, t) == "untrusted" and t.cert_kind in ("intermediate", "leaf")]
    if not bad:
        missing.append("attach at least one bad certificate (an intermediate at least, a leaf preferably)")
    if a.kind == DistrustAction.Kind.DISTRUST_AFTER and not any(artifacts.expectation(a, t) == "trusted" for t in tests):
        missing.append("attach a certificate issued before the distrust-after date, to show it still works")
    run = a.test_runs.first()
    if run is None:
        missing.append("run the test")
    elif run.config_digest != artifacts.config_digest(a, tests=tests):
        missing.append("run the test again: the distrust or the test certificates changed since the last run")
    elif not run.passed:
        missing.append("the last test run failed: " + run.summary)
    return missing


def gate_release(a: DistrustAction) -> list[str]:
    from distrust import artifacts

    missing = []
    needed = artifacts.required_artifacts(a)
    if Artifact.Kind.CERTDATA_DIFF in needed and not (a.nss_version.strip() or a.roots_module_version.strip()):
        missing.append("give the NSS version or the roots module version that ships the change")
    if not a.release_kind:
        missing.append("say whether it is a regular or an off-schedule (chemspill) release")
    if a.release_date is None:
        missing.append("give the release date")
    if Artifact.Kind.ONECRL in needed and artifacts.onecrl_record_count(a) and a.onecrl_published_on is None:
        missing.append("give the OneCRL publication date")
    if needs_public_wording(a):
        if not a.public_title.strip():
            missing.append("write the public title (published on the pages, in the API and as the OneCRL records' "
                           "reason in place of the internal title, which came from a confidential source)")
        elif not a.public_wording_confirmed:
            missing.append("confirm that the public title reveals nothing confidential and may be published")
    return missing


CVE_RE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def gate_communicate(a: DistrustAction) -> list[str]:
    missing = []
    if not a.announcement.strip():
        missing.append("write the announcement for the policy mailing list")
    if a.is_security_incident and not CVE_RE.match(a.cve_id):
        missing.append("give the CVE id (a security incident gets one)")
    return missing


def gate_result(a: DistrustAction) -> list[str]:
    return [] if a.user_visible_result.strip() else ["describe what users now see"]


# --- hooks: what saving or completing a step does besides recording it ----------------------


def no_hook(a: DistrustAction, actor: Any) -> dict[str, Any]:
    return {}


def save_impact(a: DistrustAction, actor: Any) -> dict[str, Any]:
    """Saving the impact step measures how many registry certificates chain through the targets."""
    from distrust import artifacts

    counts = artifacts.chain_counts(a)
    a.chain_count, a.chain_intermediates, a.chain_leaves = counts["total"], counts["intermediates"], counts["leaves"]
    return {"chain_count": counts["total"]}


def complete_test(a: DistrustAction, actor: Any) -> dict[str, Any]:
    """The history row names the test run that let the step complete."""
    run = a.test_runs.first()
    return {"test_run": run.pk if run else None}


def complete_release(a: DistrustAction, actor: Any) -> dict[str, Any]:
    """Releasing publishes the action's OneCRL records into the managed collection, ships its root store changes
    in the release it names (distrust/root_store.py) and ends the embargo."""
    from distrust import artifacts, onecrl_store, root_store

    # The stored OneCRL artifact was generated before staff chose the public wording: it restates its
    # records' reason with that wording before anyone but staff may download it.
    artifacts.restate_onecrl_reason(a)
    detail: dict[str, Any] = {"onecrl_published": onecrl_store.publish_action_records(
        a, who=getattr(actor, "username", ""))}
    # The root store follows: trust removed or distrust-after set, recorded in the release the step names.
    detail.update(root_store.ship(a, actor))
    if a.is_embargoed:
        a.is_embargoed = False  # released: the embargo ends
        detail["embargo_lifted"] = True
    return detail


# --- THE table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    asks: str  # what the seed asks of the step
    fields: tuple[str, ...]  # what the step's form may change (DistrustAction fields, and incident_numbers)
    # Collections (see COLLECTIONS) that may change while this step is the open one. A collection
    # opens at one step and stays changeable until a later one is done, so each forms one run of rows.
    may_change: frozenset[str]
    gate: Gate
    on_save: Hook = no_hook  # after the fields are set, before the action is saved
    on_complete: Hook = no_hook  # after the gate passed and the next step opened
    # (confirmation field, the fields it vouches for): a save that changes one of those fields clears the
    # confirmation unless the same save gives it again, so a confirmation is of the wording it saw.
    confirms: tuple[tuple[str, tuple[str, ...]], ...] = ()


STEPS: tuple[Step, ...] = (
    Step("report", "Report", "The incident(s) and who reported the security concern.",
         fields=("reported_by", "reported_on", "incident_numbers"),
         may_change=frozenset({TARGETS, USAGE_FIGURES, TEST_CERTIFICATES}),
         gate=gate_report),
    Step("decide", "Decide", "Course of action (from the immediate minimum response), rationale, where discussed, date; "
         "the certificates, purposes and kind of distrust.",
         fields=("decision", "rationale", "discussed_in", "discussion_url", "decided_on", "kind", "purpose_server",
                 "purpose_email", "distrust_after", "bug"),
         may_change=frozenset({TARGETS, USAGE_FIGURES, TEST_CERTIFICATES}),
         gate=gate_decide),
    Step("impact", "Measure impact", "Usage figures for the affected roots; certificates chaining through the targets.",
         fields=("impact_notes",),
         may_change=frozenset({USAGE_FIGURES, TEST_CERTIFICATES}),
         gate=gate_impact, on_save=save_impact),
    Step("implement", "Implement", "OneCRL records, the NSS certdata.txt diff, the cross-sign closure.",
         fields=("include_certificate_objects",),
         may_change=frozenset({ARTIFACTS, CLOSURE_ITEMS, TEST_CERTIFICATES}),
         gate=gate_implement),
    Step("test", "Test", "Bad certificates no longer reach a trusted root through any known path.",
         fields=(),
         may_change=frozenset({TEST_CERTIFICATES, TEST_RUNS}),
         gate=gate_test, on_complete=complete_test),
    Step("release", "Release", "NSS or roots module version, regular or chemspill, date; OneCRL publication date; "
         "the public title staff chose and confirmed when the action copied confidential text.",
         fields=("nss_version", "roots_module_version", "release_kind", "release_date", "onecrl_published_on",
                 "public_title", "public_wording_confirmed"),
         may_change=frozenset(),
         gate=gate_release, on_complete=complete_release,
         confirms=(("public_wording_confirmed", ("public_title",)),)),
    Step("communicate", "Communicate", "Announcement to the policy list, CVE id, mail to all CAs, blog post.",
         fields=("announcement", "is_security_incident", "cve_id", "all_cas_mailed", "blog_url"),
         may_change=frozenset(),
         gate=gate_communicate),
    Step("result", "Result", "What users now see; the action closes.",
         fields=("user_visible_result",),
         may_change=frozenset(),
         gate=gate_result),
)

# The transitions of one step's status: event -> (from status, to status).
TRANSITIONS: dict[str, tuple[str, str]] = {
    "complete": (DistrustStep.Status.OPEN, DistrustStep.Status.DONE),  # the gate must pass; the next step opens
    "reopen": (DistrustStep.Status.DONE, DistrustStep.Status.OPEN),    # needs a reason; later steps back to pending
}

STEP_KEYS: tuple[str, ...] = tuple(s.key for s in STEPS)
BY_KEY: dict[str, Step] = {s.key: s for s in STEPS}


def step(key: str) -> Step:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"no step {key!r}; the steps are {', '.join(STEP_KEYS)}") from None


def position(key: str) -> int:
    return STEP_KEYS.index(key) + 1


def next_key(key: str) -> str | None:
    i = STEP_KEYS.index(key)
    return STEP_KEYS[i + 1] if i + 1 < len(STEP_KEYS) else None


def missing(action: DistrustAction, key: str) -> list[str]:
    """What the step still needs before it can be completed."""
    return step(key).gate(action)


def changing(collection: str) -> tuple[str, ...]:
    """The keys of the steps, in order, while which `collection` may change."""
    if collection not in COLLECTIONS:
        raise KeyError(f"no collection {collection!r}; the collections are {', '.join(COLLECTIONS)}")
    return tuple(s.key for s in STEPS if collection in s.may_change)


def home(collection: str) -> str:
    """The step a collection belongs to: the last one while which it may change (its page shows it, its
    history rows name it)."""
    return changing(collection)[-1]


# --- versions (config.stale) ----------------------------------------------------------------


def snapshot(action: DistrustAction) -> dict[str, Any]:
    """What the step forms and the API's step writes edit (every field of every step, the incidents) and
    the open step: its digest is the version step pages carry in `base` and the API serves as ETag."""
    names = sorted({name for s in STEPS for name in s.fields} - {"incident_numbers"})
    values: dict[str, Any] = {name: getattr(action, name) for name in names}
    values["incident_numbers"] = sorted(action.incidents.values_list("number", flat=True))
    values["state"] = action.state
    return stale.canonical(values)


def version(action: DistrustAction) -> str:
    return stale.version_of(snapshot(action))
