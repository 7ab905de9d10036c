"""The home page by role (issue 15): what each person sees first, only what they may see, labels not keys,
counts linking to the filtered lists, and a fixed number of queries per role whatever the data."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.models import AuditStatement
from compliance.actions import incidents as act
from distrust.models import DistrustAction

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _file(owner, title, *, sensitive=False, actor=None):
    return act.incident_create(actor=actor, ca_owner=owner, title=title, description="What happened.",
                               security_sensitive=sensitive)


@pytest.fixture
def world(owner_a, owner_b, staff, rep_a, rep_b, reviewer):
    """Incidents of A and B (public and security-sensitive), questions to each CA and to the reviewer,
    a reviewer's comment and CC, a statement awaiting its auditor, distrust actions (one embargoed)."""
    w = {
        "public_a": _file(owner_a, "Public A"),
        "secret_a": _file(owner_a, "Secret A", sensitive=True),
        "public_b": _file(owner_b, "Public B"),
        "secret_b": _file(owner_b, "Secret B", sensitive=True),
        "unconfirmed": _file(owner_b, "Reported by a reviewer", actor=reviewer),
        "watched": _file(owner_a, "Commented on by the reviewer"),
    }
    act.question_ask(actor=staff, incident=w["public_a"], body="When is the full report coming?")
    act.question_ask(actor=staff, incident=w["secret_a"], body="Which keys were exposed?")
    act.question_ask(actor=staff, incident=w["public_b"], body="Why was B late?")
    act.question_ask(actor=staff, incident=w["secret_b"], body="B's secret question")
    act.question_ask(actor=staff, incident=w["watched"], body="Reviewer, can you share the certificate?",
                     asked_user=reviewer)
    act.comment_create(actor=reviewer, incident=w["watched"], body="I found another one.")
    act.comment_create(actor=reviewer, incident=w["public_b"], body="Same pattern as last year.")
    w["secret_a"].cc.add(reviewer)  # named on the CC list: the reviewer may see Secret A
    AuditStatement.objects.create(
        ca_owner=owner_a, source=AuditStatement.Source.CA, verification=AuditStatement.Verification.PENDING,
        period_start=date(2024, 1, 1), period_end=date(2024, 12, 31), statement_date=date(2025, 2, 1),
        unverified_since=timezone.now() - timedelta(days=3), url="https://example.test/a.pdf",
    )
    DistrustAction.objects.create(title="Embargoed distrust of X", state=DistrustAction.State.IMPLEMENT,
                                  is_embargoed=True)
    DistrustAction.objects.create(title="Public distrust of Y", state=DistrustAction.State.DECIDE)
    DistrustAction.objects.create(title="Done", state=DistrustAction.State.CLOSED)
    return w


def _section(html: str, key: str) -> str:
    match = re.search(rf'<section[^>]*data-testid="home-{key}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _count(html: str, key: str) -> int:
    match = re.search(rf'data-testid="home-{key}-count"[^>]*>(\d+)<', html)
    assert match, f"no count for {key}"
    return int(match.group(1))


def test_a_ca_representative_sees_the_questions_asked_of_their_ca_and_what_is_due(world, rep_a, client_for):
    html = client_for(rep_a).get("/").content.decode()
    questions = _section(html, "questions")
    assert "Public A" in questions and "Secret A" in questions  # their CA's, security-sensitive ones too
    assert "Public B" not in questions and "Secret B" not in questions  # never another CA's
    assert "Commented on by the reviewer" not in questions  # asked of the reviewer, not of the CA
    assert _count(html, "questions") == 2
    assert "Answer to question" in questions and "due " in questions  # the deadline's label and date
    assert 'href="/incidents/?open_questions=yes&amp;ca=' in questions
    due = _section(html, "due")
    assert "Public A" in due and "Secret A" in due and "Public B" not in due
    assert _count(html, "due") == 3  # A's three open incidents each owe their next report or answer
    assert "first_response" not in html and "full_report" not in html  # labels, not stored keys
    assert "Statements awaiting verification" not in html and "Distrust actions" not in html


def test_rep_b_sees_only_b(world, rep_b, client_for):
    html = client_for(rep_b).get("/").content.decode()
    questions = _section(html, "questions")
    assert "Public B" in questions and "Secret B" in questions
    assert "Public A" not in html and "Secret A" not in html


def test_staff_see_triage_overdue_statements_and_distrust_by_step(world, staff, client_for):
    html = client_for(staff).get("/").content.decode()
    fresh = _section(html, "new")
    assert "Reported by a reviewer" in fresh and "Unconfirmed" in fresh
    assert '<a href="/incidents/?status=UNCONFIRMED">Unconfirmed: 1</a>' in fresh
    assert ">UNCONFIRMED<" not in html
    assert _count(html, "overdue") == 0 and "No incident is overdue." in html
    statements = _section(html, "statements")
    assert "Acme Trust: 2024-01-01..2024-12-31 statement" in statements and _count(html, "statements") == 1
    distrust = _section(html, "distrust")
    assert '<a href="/distrust/?state=implement">4. Implement: 1</a>' in distrust  # embargoed: staff only
    assert '<a href="/distrust/?state=decide">2. Decide: 1</a>' in distrust
    assert _count(html, "distrust") == 2  # the closed one is not waiting


def test_staff_see_an_overdue_incident_with_its_deadline(world, staff, client_for):
    later = timezone.now() + timedelta(days=30)
    from notifications.home import home_for

    home = home_for(staff, now=later)
    overdue = next(s for s in home.sections if s.key == "overdue")
    assert overdue.count == 6 and overdue.url == "/incidents/?overdue=yes&sort=due"
    assert all(r.overdue and "overdue by" in r.when for r in overdue.rows)


def test_a_reviewer_sees_what_they_comment_on_or_are_cc_d_on_and_nothing_hidden(world, reviewer, staff, client_for):
    html = client_for(reviewer).get("/").content.decode()
    following = _section(html, "following")
    assert "Commented on by the reviewer" in following and "Public B" in following
    assert "Secret A" in following  # CC'd
    assert "Secret B" not in html and "Public A" not in following
    assert "Reviewer, can you share" not in html  # rows name incidents, not question bodies
    assert "Commented on by the reviewer" in _section(html, "questions")  # asked of them personally
    # A commented incident made security-sensitive drops out for someone not named on it.
    act.incident_update(actor=staff, incident=world["public_b"], security_sensitive=True)
    html = client_for(reviewer).get("/").content.decode()
    assert "Public B" not in html
    assert "New and unconfirmed" not in html and "Distrust actions" not in html


def test_anonymous_gets_the_public_summary(world, client_for):
    html = client_for(None).get("/").content.decode()
    assert "Root store program work in one place" in html
    assert "home-" not in html and "Public A" not in html and "Secret" not in html


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["staff", "rep_a", "reviewer", None])
def test_each_role_runs_a_fixed_number_of_queries(who, world, request, owner_a, staff, reviewer, client_for,
                                                  django_assert_num_queries):
    user = request.getfixturevalue(who) if who else None
    client = client_for(user)
    client.get("/")  # warm the session
    before = _queries(client)
    for n in range(15):  # more of everything each section reads
        incident = _file(owner_a, f"More {n}", sensitive=bool(n % 2))
        act.question_ask(actor=staff, incident=incident, body="And this one?")
        act.comment_create(actor=reviewer, incident=incident, body="Seen.") if n % 2 == 0 else None
        AuditStatement.objects.create(
            ca_owner=owner_a, source=AuditStatement.Source.CA, verification=AuditStatement.Verification.PENDING,
            period_start=date(2020, 1, 1), period_end=date(2020, 12, 31), statement_date=date(2021, 2, 1),
            unverified_since=timezone.now(), url="https://example.test/more.pdf")
        DistrustAction.objects.create(title=f"Distrust {n}", state=DistrustAction.State.values[n % 8])
    after = _queries(client)
    assert after == before  # the whole page, navigation and session included
    # The sections' own reads, counted apart from what base.html and the session add.
    from django.contrib.auth.models import AnonymousUser

    from notifications.home import home_for

    reader = type(user).objects.get(pk=user.pk) if user else AnonymousUser()
    # Staff: 6; the others: their represented owners (1), then 2 per section (a count, the rows).
    expected = {"staff": 6, "rep_a": 7, "reviewer": 5, None: 0}[who]
    with django_assert_num_queries(expected):
        home_for(reader)
