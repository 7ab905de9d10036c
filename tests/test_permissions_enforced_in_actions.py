"""Every write action checks accounts.permissions itself: a form or an API view is never the only guard.

Each test calls an action directly, as someone who must not do it (nobody signed in, a
community reviewer, another CA's representative, a CA representative on a staff-only
action), and asserts NotPermitted and that not one row of the database changed.
"""

from __future__ import annotations

import ast
import contextlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core import serializers

from accounts import permissions as perm
from config.errors import NotPermitted

ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = ("accounts", "registry", "compliance", "audits", "distrust", "notifications", "history")


def _database() -> dict[str, str]:
    """Every row of the project's apps, serialized: equal dumps mean nothing was written."""
    dump = {}
    for config in apps.get_app_configs():
        if config.label not in PROJECT_APPS:
            continue
        for model in config.get_models():
            dump[model._meta.label] = serializers.serialize("json", model.objects.order_by("pk"))
    return dump


@contextlib.contextmanager
def refused():
    """The block must raise NotPermitted and leave the database exactly as it was."""
    before = _database()
    with pytest.raises(NotPermitted):
        yield
    after = _database()
    changed = [label for label in before if before[label] != after[label]]
    assert not changed, f"refused, yet these tables changed: {changed}"


# --------------------------------------------------------------------------- cast


@pytest.fixture
def public_a(staff, owner_a):
    from compliance.actions import incidents as act

    return act.incident_create(actor=staff, ca_owner=owner_a, title="Public case", description="What happened.")


@pytest.fixture
def secret_a(staff, owner_a):
    from compliance.actions import incidents as act

    return act.incident_create(actor=staff, ca_owner=owner_a, title="Key compromise", description="Embargoed.",
                               security_sensitive=True)


# ---------------------------------------------------------------------- incidents


@pytest.mark.django_db
def test_only_staff_set_the_whiteboard_when_filing_even_when_calling_the_action(staff, rep_a, reviewer, owner_a):
    from compliance.actions import incidents as act

    for user in (rep_a, reviewer):
        with refused():
            act.incident_create(actor=user, ca_owner=owner_a, title="Misissuance", description="x",
                                whiteboard="[ca-compliance] Next update 2030-01-01")
    # Without a whiteboard the same people may file; staff may set it at once.
    assert act.incident_create(actor=rep_a, ca_owner=owner_a, title="Misissuance", description="x").whiteboard == ""
    filed = act.incident_create(actor=staff, ca_owner=owner_a, title="Misissuance", description="x",
                                whiteboard="[ca-compliance]")
    assert filed.whiteboard == "[ca-compliance]"


@pytest.mark.django_db
def test_the_api_still_drops_a_whiteboard_a_non_staff_filer_sends(client_for, rep_a, owner_a):
    from compliance.models import Incident

    r = client_for(rep_a).post("/api/v1/incidents/", {
        "ca_owner": owner_a.pk, "title": "Misissuance", "description": "x", "whiteboard": "[ca-compliance]",
    }, content_type="application/json")
    assert r.status_code == 201, r.content
    assert Incident.objects.get().whiteboard == ""


@pytest.mark.django_db
def test_nobody_signed_in_files_nothing(anonymous, owner_a):
    from compliance.actions import incidents as act

    with refused():
        act.incident_create(actor=anonymous, ca_owner=owner_a, title="x", description="x")


@pytest.mark.django_db
def test_triage_and_links_are_staff_only(public_a, secret_a, rep_a, reviewer, anonymous):
    from compliance.actions import incidents as act

    for user in (rep_a, reviewer, anonymous):
        with refused():
            act.incident_update(actor=user, incident=public_a, status="RESOLVED", resolution="FIXED")
        with refused():
            act.incident_update(actor=user, incident=public_a, whiteboard="[ca-compliance]")
        with refused():
            act.incident_relate(actor=user, incident=public_a, kind="see_also", other_number=secret_a.number)


@pytest.mark.django_db
def test_assessment_and_decisions_are_staff_only(public_a, rep_a, reviewer):
    from compliance.actions import incidents as act

    for user in (rep_a, reviewer):
        with refused():
            act.assessment_save(actor=user, incident=public_a, cert_type="tls", count=3, enumerable=True)
        with refused():
            act.decision_record(actor=user, incident=public_a, action="no_action")


@pytest.mark.django_db
def test_another_cas_representative_can_neither_read_nor_touch_a_security_incident(secret_a, rep_b, reviewer):
    from compliance.actions import incidents as act

    for user in (rep_b, reviewer):
        with refused():
            act.comment_create(actor=user, incident=secret_a, body="Let me see.")
        with refused():
            act.question_ask(actor=user, incident=secret_a, body="What happened?")
        with refused():
            act.incident_watch(actor=user, incident=secret_a, watching=True)
        with refused():
            act.report_post(actor=user, incident=secret_a, kind="preliminary", data={
                "incident_description": "x", "relevant_policies": "x", "source_of_disclosure": "Self Reported",
            })


@pytest.mark.django_db
def test_comments_updates_and_private_comments_need_their_own_permission(public_a, rep_b, reviewer, anonymous):
    from compliance.actions import incidents as act

    with refused():
        act.comment_create(actor=anonymous, incident=public_a, body="Hello")
    with refused():
        act.incident_watch(actor=anonymous, incident=public_a, watching=True)
    for user in (rep_b, reviewer):
        with refused():
            act.comment_create(actor=user, incident=public_a, body="Staff only?", is_private=True)
        with refused():  # an update restarts the CA's cadence: only its representatives (or staff) post one
            act.comment_create(actor=user, incident=public_a, body="Update", kind="update")
        with refused():
            act.report_post(actor=user, incident=public_a, kind="preliminary", data={
                "incident_description": "x", "relevant_policies": "x", "source_of_disclosure": "Self Reported",
            })


# ------------------------------------------------------------------------- audits


def _pending_statement(rep_a, owner_a):
    from audits import actions

    return actions.statement_submit(
        actor=rep_a, ca_owner=owner_a, auditor=None, new_auditor_name="Some Audit Firm", source="ca",
        kind="period", period_start=date(2024, 1, 1), period_end=date(2024, 12, 31),
        statement_date=date(2025, 2, 1), url="https://example.test/audit.pdf",
        criteria=[actions.CriterionInput("webtrust-tls-br", "2.8")], today=date(2025, 3, 1),
    )


@pytest.mark.django_db
def test_statements_are_submitted_only_for_ones_own_ca_and_from_the_auditor_only_by_staff(
    rep_a, rep_b, reviewer, anonymous, owner_a
):
    from audits import actions

    common = dict(auditor=None, new_auditor_name="Some Audit Firm", kind="period", period_start=date(2024, 1, 1),
                  period_end=date(2024, 12, 31), statement_date=date(2025, 2, 1), url="https://example.test/a.pdf",
                  criteria=[actions.CriterionInput("webtrust-tls-br", "2.8")], today=date(2025, 3, 1))
    for user in (rep_b, reviewer, anonymous):
        with refused():
            actions.statement_submit(actor=user, ca_owner=owner_a, source="ca", **common)
    with refused():  # a CA cannot vouch for its own statement as if the auditor had sent it
        actions.statement_submit(actor=rep_a, ca_owner=owner_a, source="auditor", **common)


@pytest.mark.django_db
def test_statement_changes_verification_and_auditors_are_guarded_in_the_actions(rep_a, rep_b, reviewer, owner_a):
    from audits import actions

    statement = _pending_statement(rep_a, owner_a)
    with refused():
        actions.statement_update(
            actor=rep_b, statement=statement, auditor=statement.auditor, kind="period", period_start=date(2024, 1, 1),
            period_end=date(2024, 12, 31), statement_date=date(2025, 2, 1), url="https://example.test/other.pdf",
            criteria=[actions.CriterionInput("webtrust-tls-br", "2.8")], today=date(2025, 3, 1),
        )
    for user in (rep_a, reviewer):
        with refused():
            actions.statement_set_verification(actor=user, statement=statement, confirmed=True, note="I say so")
        with refused():
            actions.statement_request_verification(actor=user, statement=statement)
        with refused():
            actions.auditor_create(actor=user, name="Friendly Auditors")
        with refused():
            actions.auditor_update(actor=user, auditor=statement.auditor, contact_email="me@ca.test")
        with refused():
            actions.auditor_set_approval(actor=user, auditor=statement.auditor, approval="approved", reason="x")
        with refused():
            actions.statements_import_ccadb(actor=user, rows=[])


# ----------------------------------------------------------------------- registry


@pytest.mark.django_db
def test_registry_writes_are_staff_only_even_for_the_cas_own_representative(rep_a, reviewer, owner_a):
    from registry import actions

    for user in (rep_a, reviewer):
        with refused():
            actions.certificates_import(actor=user, items=[(b"not a certificate", "x")], owner=owner_a)
        with refused():
            actions.certdata_import(actor=user, text="BEGINDATA\n", source="upload")
        with refused():
            actions.root_store_entry_add(actor=user, issuer_der=b"\x30\x00", serial_der=b"\x02\x01\x01", label="x")
        with refused():
            actions.ccadb_records_import(actor=user, rows=[], source="upload")
        with refused():
            actions.ca_owner_update(actor=user, owner=owner_a, name="Acme Trust Renamed")


@pytest.mark.django_db
def test_root_store_entries_are_changed_only_by_staff(staff, rep_a):
    from registry import actions

    entry = actions.root_store_entry_add(actor=staff, issuer_der=b"\x30\x00", serial_der=b"\x02\x01\x01", label="R1")
    with refused():
        actions.root_store_entry_update(actor=rep_a, entry=entry, trust_server="trusted_delegator")


# ----------------------------------------------------------------------- distrust


@pytest.mark.django_db
def test_distrust_actions_are_managed_only_by_staff(staff, rep_a, reviewer):
    from distrust import actions, workflow

    action = actions.action_create(actor=staff, title="Distrust Example Root")
    for user in (rep_a, reviewer):
        with refused():
            actions.action_create(actor=user, title="Distrust a competitor")
        with refused():
            actions.step_complete(actor=user, action=action, step=workflow.STEP_KEYS[0])
        with refused():
            actions.onecrl_import(actor=user, text='{"data": []}', source="upload")


# ---------------------------------------------------------- accounts, notifications


@pytest.mark.django_db
def test_api_keys_are_made_by_signed_in_users_and_revoked_by_their_owner(rep_a, reviewer, anonymous):
    from accounts import api_keys

    with refused():
        api_keys.api_key_create(actor=anonymous, name="script")
    key = api_keys.api_key_create(actor=rep_a, name="dashboard").key
    with refused():
        api_keys.api_key_revoke(actor=reviewer, key=key)


@pytest.mark.django_db
def test_roles_are_granted_only_by_staff(rep_a, reviewer, anonymous, owner_a, owner_b):
    from accounts import actions

    for user in (rep_a, reviewer, anonymous):
        with refused():
            actions.user_set_staff(actor=user, user=reviewer, is_staff=True)
        with refused():  # not even a CA's own representative adds a colleague, or another CA
            actions.user_set_represented_owners(actor=user, user=rep_a, owners=[owner_a, owner_b])


@pytest.mark.django_db
def test_notification_settings_and_the_sweep_button_are_guarded_in_the_actions(
    rep_a, rep_b, reviewer, anonymous, owner_a, secret_a
):
    from notifications import actions
    from notifications.models import Kind, Notification, SubjectType, Watch

    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    Notification.objects.create(subject_type=SubjectType.INCIDENT, subject_id=secret_a.pk, kind=Kind.UPDATE_SOON,
                                due_date=now.date(), due_at=now, recipient=rep_a, title="t", next_attempt_at=now,
                                created_at=now)
    Notification.objects.create(subject_type=SubjectType.INCIDENT, subject_id=secret_a.pk, kind=Kind.UPDATE_SOON,
                                due_date=now.date(), due_at=now, email="auditor@example.test", title="t",
                                next_attempt_at=now, created_at=now)
    watch = Watch.objects.create(user=rep_a, ca_owner=owner_a)
    with refused():  # rows mailed to a bare address belong to nobody, least of all to whoever is signed out
        actions.notifications_mark_read(actor=anonymous)
    with refused():
        actions.preference_set(actor=anonymous, delivery="none")
    with refused():
        actions.watch_add(actor=anonymous, ca_owner=owner_a)
    with refused():
        actions.watch_remove(actor=anonymous, watch_id=watch.pk)
    from compliance.actions import cc

    for user in (rep_b, reviewer):
        with refused():  # watching an incident is joining its CC list
            cc.cc_add(actor=user, incident=secret_a, user=user)
    for user in (rep_a, reviewer, anonymous):
        with refused():
            actions.sweep_enqueue(actor=user)


# ------------------------------------------------- who hears of a security incident


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _overdue_incident(owner, number: int, **kwargs):
    from compliance.models import Incident

    disclosed = NOW - timedelta(days=30)
    return Incident.objects.create(number=number, ca_owner=owner, title=f"{owner.name}: case {number}",
                                   status=Incident.Status.ASSIGNED, first_disclosed_at=disclosed, created_at=disclosed,
                                   updated_at=disclosed, **kwargs)


def _asked(incident, who, *, days: int = 8):
    from compliance.models import Comment, Question

    at = NOW - timedelta(days=days)
    comment = Comment.objects.create(incident=incident, kind="question", body="How many?", created_at=at)
    return Question.objects.create(incident=incident, comment=comment, asked_user=who, asked_at=at)


def _recipients(incident):
    from notifications.models import Notification, SubjectType

    ids = list(Notification.objects.filter(subject_type=SubjectType.INCIDENT, subject_id=incident.pk)
               .values_list("recipient__username", flat=True))
    return set(ids)


@pytest.mark.django_db
def test_security_incident_reminders_reach_exactly_who_may_see_it(owner_a, staff, rep_a, rep_b, reviewer):
    from notifications import actions
    from notifications.models import Watch

    secret = _overdue_incident(owner_a, 1, security_sensitive=True)
    Watch.objects.create(user=reviewer, ca_owner=owner_a)
    Watch.objects.create(user=rep_b, ca_owner=owner_a)  # another CA's representative watching this CA
    actions.sweep_run(now=NOW, enqueue=False)
    assert _recipients(secret) == {u.username for u in (staff, rep_a) if perm.can_view_incident(u, secret)}
    assert _recipients(secret) == {"staff", "rep_a"}


@pytest.mark.django_db
def test_a_question_to_a_named_representative_reaches_them_on_a_security_incident(owner_a, staff, rep_a):
    """The finding leaves out the CA's other representatives, not whom the question asks."""
    from notifications import actions
    from notifications.models import Kind, Notification

    secret = _overdue_incident(owner_a, 2, security_sensitive=True)
    _asked(secret, rep_a)
    actions.sweep_run(now=NOW, enqueue=False)
    assert Notification.objects.filter(kind=Kind.QUESTION_UNANSWERED, recipient=rep_a).count() == 1


@pytest.mark.django_db
def test_the_sweep_asks_accounts_permissions_who_may_see_a_security_incident(monkeypatch, owner_a, staff, rep_a):
    """Not a copy of the rule: whatever can_view_incident answers, the audience follows."""
    from notifications import actions

    public = _overdue_incident(owner_a, 3)
    secret = _overdue_incident(owner_a, 4, security_sensitive=True)
    monkeypatch.setattr(perm, "can_view_incident", lambda user, incident: user.username == "rep_a")
    actions.sweep_run(now=NOW, enqueue=False)
    assert _recipients(secret) == {"rep_a"}
    assert _recipients(public) == {"staff", "rep_a"}  # a public incident is nobody's secret


# ---------------------------------------------------------- no permission unused


def _public_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


def _names_used(path: Path) -> set[str]:
    used = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            used.update(alias.name for alias in node.names)
    return used


def test_every_public_permission_function_is_called_by_the_project():
    """A rule nobody asks is either dead or re-stated somewhere else: both are bugs waiting."""
    module = ROOT / "accounts" / "permissions.py"
    skip = {"tests", ".venv", "node_modules", "migrations", ".git"}
    used: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if skip & set(path.relative_to(ROOT).parts):
            continue
        used |= _names_used(path)  # permissions.py counts too: one rule may build on another
    templates = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "templates").rglob("*.html"))
    unused = sorted(name for name in _public_functions(module) if name not in used and name not in templates)
    assert not unused, f"accounts/permissions.py functions nothing calls: {unused}"
