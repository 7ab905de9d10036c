"""The permission module, role by role, including everyone who must be refused."""

from types import SimpleNamespace

import pytest

from accounts import permissions as perm
from accounts.permissions import Role


def incident(owner, *, sensitive):
    return SimpleNamespace(ca_owner_id=owner.pk, security_sensitive=sensitive)


@pytest.mark.django_db
def test_roles_are_derived_from_the_user(staff, rep_a, reviewer, anonymous):
    assert perm.role(staff) is Role.STAFF
    assert perm.role(rep_a) is Role.CA_REP
    assert perm.role(reviewer) is Role.REVIEWER
    assert perm.role(anonymous) is Role.ANONYMOUS


@pytest.mark.django_db
def test_inactive_staff_has_no_powers(staff):
    staff.is_active = False
    assert perm.role(staff) is Role.ANONYMOUS
    assert not perm.can_edit_registry(staff)


@pytest.mark.django_db
def test_security_sensitive_incident_visible_to_staff_and_own_ca_reps_only(
    staff, rep_a, rep_b, reviewer, anonymous, owner_a
):
    secret = incident(owner_a, sensitive=True)
    assert perm.can_view_incident(staff, secret)
    assert perm.can_view_incident(rep_a, secret)
    assert not perm.can_view_incident(rep_b, secret)
    assert not perm.can_view_incident(reviewer, secret)
    assert not perm.can_view_incident(anonymous, secret)


@pytest.mark.django_db
def test_public_incident_is_readable_by_all_but_commentable_only_when_signed_in(
    staff, rep_b, reviewer, anonymous, owner_a
):
    public = incident(owner_a, sensitive=False)
    for user in (staff, rep_b, reviewer, anonymous):
        assert perm.can_view_incident(user, public)
    assert perm.can_comment(reviewer, public)
    assert not perm.can_comment(anonymous, public)
    assert not perm.can_create_incident(anonymous)
    assert perm.can_create_incident(reviewer)


@pytest.mark.django_db
def test_reports_are_filed_by_the_cas_own_representatives(staff, rep_a, rep_b, reviewer, owner_a):
    inc = incident(owner_a, sensitive=False)
    assert perm.can_file_report(rep_a, inc)
    assert perm.can_file_report(staff, inc)
    assert not perm.can_file_report(rep_b, inc)
    assert not perm.can_file_report(reviewer, inc)


@pytest.mark.django_db
def test_only_staff_triage_assess_post_private_and_manage(staff, rep_a, reviewer, anonymous, owner_a):
    inc = incident(owner_a, sensitive=False)
    assert perm.can_triage(staff, inc) and perm.can_assess(staff, inc)
    for user in (rep_a, reviewer, anonymous):
        assert not perm.can_triage(user, inc)
        assert not perm.can_assess(user, inc)
        assert not perm.can_post_private_comment(user)
        assert not perm.can_view_private_comments(user)
        assert not perm.can_manage_distrust(user)
        assert not perm.can_manage_auditors(user)
        assert not perm.can_edit_registry(user)
        assert not perm.can_view_operations(user)


@pytest.mark.django_db
def test_private_comment_hidden_from_everyone_but_staff(staff, rep_a, reviewer, anonymous, owner_a):
    # Comments are only ever read as lists, so the rule is its queryset filter (comment_visibility_q).
    from django.utils import timezone

    from compliance.models import Comment, Incident

    now = timezone.now()
    public = Incident.objects.create(number=1, ca_owner=owner_a, title="Acme Trust: x", first_disclosed_at=now,
                                     created_at=now, updated_at=now)
    comment = Comment.objects.create(incident=public, kind="comment", body="staff only", is_private=True,
                                     created_at=now)

    def sees(user):
        return Comment.objects.filter(perm.comment_visibility_q(user), pk=comment.pk).exists()

    assert sees(staff)
    for user in (rep_a, reviewer, anonymous):
        assert not sees(user)


@pytest.mark.django_db
def test_question_is_answered_only_by_whom_it_asks(rep_a, rep_b, reviewer, owner_a):
    inc = incident(owner_a, sensitive=False)
    to_ca = SimpleNamespace(incident=inc, asked_user_id=None)
    assert perm.can_answer_question(rep_a, to_ca)
    assert not perm.can_answer_question(rep_b, to_ca)
    assert not perm.can_answer_question(reviewer, to_ca)
    to_reviewer = SimpleNamespace(incident=inc, asked_user_id=reviewer.pk)
    assert perm.can_answer_question(reviewer, to_reviewer)
    assert not perm.can_answer_question(rep_a, to_reviewer)


@pytest.mark.django_db
def test_pending_statement_visible_to_staff_and_that_cas_reps(staff, rep_a, rep_b, reviewer, anonymous, owner_a):
    pending = SimpleNamespace(ca_owner_id=owner_a.pk, is_public=False)
    assert perm.can_view_statement(staff, pending)
    assert perm.can_view_statement(rep_a, pending)
    assert perm.can_change_statement(rep_a, pending)
    for user in (rep_b, reviewer, anonymous):
        assert not perm.can_view_statement(user, pending)
        assert not perm.can_change_statement(user, pending)
    assert perm.can_submit_statement(rep_a, owner_a.pk)
    assert not perm.can_submit_statement(rep_b, owner_a.pk)
    assert not perm.can_submit_statement(reviewer, owner_a.pk)


@pytest.mark.django_db
def test_embargoed_distrust_action_is_staff_only(staff, rep_a, reviewer, anonymous):
    embargoed = SimpleNamespace(is_embargoed=True)
    assert perm.can_view_distrust(staff, embargoed)
    for user in (rep_a, reviewer, anonymous):
        assert not perm.can_view_distrust(user, embargoed)
        assert perm.can_view_distrust(user, SimpleNamespace(is_embargoed=False))


@pytest.mark.django_db
def test_list_filter_for_anonymous_and_reviewers_excludes_every_security_sensitive_incident(reviewer, anonymous,
                                                                                           owner_a):
    from compliance.actions import incidents as act
    from compliance.models import Incident

    assert perm.incident_visibility_q(anonymous).children == [("security_sensitive", False)]
    public = act.incident_create(actor=None, ca_owner=owner_a, title="Public", description="d")
    act.incident_create(actor=None, ca_owner=owner_a, title="Secret", description="d", security_sensitive=True)
    for user in (reviewer, anonymous):
        # A reviewer named on none of them (not reporter, assignee or CC) sees only the public one.
        assert list(Incident.objects.filter(perm.incident_visibility_q(user))) == [public]


@pytest.mark.django_db
def test_list_filter_for_a_rep_adds_only_their_own_cas(rep_a, owner_a, owner_b):
    q = perm.incident_visibility_q(rep_a)
    assert ("ca_owner_id__in", frozenset({owner_a.pk})) in q.children
    assert all(owner_b.pk not in (c[1] if isinstance(c[1], frozenset) else ()) for c in q.children)
