"""Relations without contradictions: RESOLVED DUPLICATE names the bug it duplicates (Bugzilla's
dupe_of), on the triage page and in the API; depends_on refuses loops, naming them; duplicate_of
refuses itself and loops of duplicates. Only staff change any of it, and a refusal changes nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from compliance.actions import incidents as act
from compliance.actions import relations
from compliance.forms import TriageForm
from compliance.models import Incident, IncidentRelation
from config.errors import DomainError, NotPermitted
from history.models import Event
from tests.conftest import _user
from tests.stale_helpers import as_post, base_of

pytestmark = pytest.mark.django_db

S, R = Incident.Status, Incident.Resolution
DUP = IncidentRelation.Kind.DUPLICATE_OF
DEP = IncidentRelation.Kind.DEPENDS_ON


@pytest.fixture
def three(make_incident, owner_a):
    return [make_incident(owner_a, title=f"Bug {n}") for n in "ABC"]


def _state(*incidents):
    """Everything a refused change must leave as it was: fields, relations, history rows."""
    rows = []
    for incident in incidents:
        incident.refresh_from_db()
        rows.append((incident.status, incident.resolution, incident.updated_at))
    relations = sorted(IncidentRelation.objects.values_list("source_id", "target_id", "kind"))
    return rows, relations, Event.objects.count()


def _triage(client, incident, **changes):
    page = client.get(f"/incidents/{incident.number}/triage/")
    assert page.status_code == 200
    data = {**as_post(TriageForm.initial_for(incident)), "base": base_of(page), **changes}
    return client.post(f"/incidents/{incident.number}/triage/", data)


def _relate(client, incident, kind, other, remove=False):
    data = {"rel-kind": kind, "rel-other": str(other), ("remove" if remove else "add"): "1"}
    return client.post(f"/incidents/{incident.number}/relations/", data)


# ------------------------------------------------------------------ RESOLVED DUPLICATE


def test_triage_page_refuses_duplicate_without_naming_the_duplicate_beside_the_field(
        public_a, public_b, staff, client_for):
    before = _state(public_a, public_b)
    page = _triage(client_for(staff), public_a, status="RESOLVED", resolution="DUPLICATE", dupe_of="")
    assert page.status_code == 400
    form = page.context["form"]
    assert form.errors["dupe_of"] == ["name the bug this one duplicates (Duplicate of bug #)"]
    assert "name the bug this one duplicates" in page.content.decode()
    assert _state(public_a, public_b) == before


def test_triage_page_resolves_as_duplicate_of_the_named_bug_and_the_page_links_to_it(
        public_a, public_b, staff, reviewer, client_for):
    saved = _triage(client_for(staff), public_a, status="RESOLVED", resolution="DUPLICATE",
                    dupe_of=str(public_b.number))
    assert saved.status_code == 302
    public_a.refresh_from_db()
    assert (public_a.status, public_a.resolution) == (S.RESOLVED, R.DUPLICATE)
    assert IncidentRelation.objects.filter(source=public_a, target=public_b, kind=DUP).count() == 1
    assert Event.objects.filter(subject_id=public_a.pk, field="duplicate_of", old="",
                                new=str(public_b.number), actor_name="staff").exists()
    for reader in (reviewer, None):
        html = client_for(reader).get(public_a.get_absolute_url()).content.decode()
        assert f'Duplicate of <a href="/incidents/{public_b.number}/">bug {public_b.number}</a>' in html
    # The triage form opens with the duplicate filled in, and saving it unchanged changes nothing.
    assert TriageForm.initial_for(public_a)["dupe_of"] == public_b.number
    before = _state(public_a, public_b)
    assert _triage(client_for(staff), public_a).status_code == 302
    assert _state(public_a, public_b) == before


def test_the_duplicate_link_is_not_shown_to_someone_who_may_not_see_the_other_bug(
        public_a, secret_b, staff, reviewer, client_for):
    act.incident_update(actor=staff, incident=public_a, dupe_of=secret_b.number)
    html = client_for(reviewer).get(public_a.get_absolute_url()).content.decode()
    assert "RESOLVED DUPLICATE" in html and f"bug {secret_b.number}" not in html
    assert "Duplicate of <a" in client_for(staff).get(public_a.get_absolute_url()).content.decode()


def test_naming_a_duplicate_alone_resolves_as_duplicate_like_bugzillas_dupe_of(public_a, public_b, staff):
    act.incident_update(actor=staff, incident=public_a, dupe_of=public_b.number)
    public_a.refresh_from_db()
    assert (public_a.status, public_a.resolution) == (S.RESOLVED, R.DUPLICATE)
    fields = set(Event.objects.filter(subject_id=public_a.pk).values_list("field", "new"))
    assert {("status", "RESOLVED"), ("resolution", "DUPLICATE"), ("duplicate_of", str(public_b.number))} <= fields


def test_a_duplicate_beside_another_resolution_or_an_open_status_is_refused(public_a, public_b, staff):
    before = _state(public_a, public_b)
    for kwargs in ({"status": S.RESOLVED, "resolution": R.FIXED}, {"status": S.NEW}, {"resolution": R.INVALID}):
        with pytest.raises(DomainError) as refused:
            act.incident_update(actor=staff, incident=public_a, dupe_of=public_b.number, **kwargs)
        assert "dupe_of" in refused.value.errors
    assert _state(public_a, public_b) == before


def test_bad_duplicate_numbers_are_refused_and_change_nothing(public_a, staff):
    before = _state(public_a)
    for number, message in ((public_a.number, "cannot be a duplicate of itself"), (999999, "there is no bug 999999"),
                            (0, "there is no bug 0"), ("12", "there is no bug 12")):
        with pytest.raises(DomainError) as refused:
            act.incident_update(actor=staff, incident=public_a, status=S.RESOLVED, resolution=R.DUPLICATE,
                                dupe_of=number)
        assert message in refused.value.errors["dupe_of"][0]
    assert _state(public_a) == before


def test_changing_the_duplicate_replaces_it_and_reopening_drops_it_as_in_bugzilla(three, staff):
    a, b, c = three
    act.incident_update(actor=staff, incident=a, dupe_of=b.number)
    act.incident_update(actor=staff, incident=a, dupe_of=c.number)
    assert list(IncidentRelation.objects.filter(source=a, kind=DUP).values_list("target_id", flat=True)) == [c.pk]
    # Emptying it while the bug stays a duplicate is refused.
    with pytest.raises(DomainError, match="name the bug this one duplicates"):
        act.incident_update(actor=staff, incident=a, dupe_of=None)
    act.incident_update(actor=staff, incident=a, status=S.REOPENED)
    a.refresh_from_db()
    assert (a.status, a.resolution) == (S.REOPENED, "")
    assert not IncidentRelation.objects.filter(source=a, kind=DUP).exists()
    changes = list(Event.objects.filter(subject_id=a.pk, field="duplicate_of").order_by("pk").values_list("old", "new"))
    assert changes == [("", str(b.number)), (str(b.number), str(c.number)), (str(c.number), "")]


def test_an_imported_duplicate_without_a_named_bug_can_still_be_edited(public_a, staff):
    # Bugzilla dumps carry no dupe_of: 30 real bugs are RESOLVED DUPLICATE without one.
    Incident.objects.filter(pk=public_a.pk).update(status=S.RESOLVED, resolution=R.DUPLICATE)
    public_a.refresh_from_db()
    act.incident_update(actor=staff, incident=public_a, whiteboard="[ca-compliance]")
    public_a.refresh_from_db()
    assert public_a.whiteboard == "[ca-compliance]" and public_a.resolution == R.DUPLICATE


def test_api_refuses_duplicate_without_dupe_of_and_accepts_it_with_one(public_a, public_b, staff, client_for):
    api = client_for(staff)
    url = f"/api/v1/incidents/{public_a.number}/"
    before = _state(public_a, public_b)
    refused = api.patch(url, {"status": "RESOLVED", "resolution": "DUPLICATE"}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["dupe_of"] == ["name the bug this one duplicates (Duplicate of bug #)"]
    for bad in ("twelve", -3, public_a.number):
        assert api.patch(url, {"dupe_of": bad}, content_type="application/json").status_code == 400
    assert _state(public_a, public_b) == before
    done = api.patch(url, {"dupe_of": public_b.number}, content_type="application/json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["resolution"]) == ("RESOLVED", "DUPLICATE")
    # Bugzilla clients read it back as dupe_of.
    bug = api.get(f"/rest/bug/{public_a.number}").json()["bugs"][0]
    assert bug["dupe_of"] == public_b.number


@pytest.mark.parametrize("who", ["rep_a", "reviewer", "anonymous"])
def test_only_staff_mark_duplicates(who, request, public_a, public_b, client_for):
    user = request.getfixturevalue(who)
    before = _state(public_a, public_b)
    if who != "anonymous":
        with pytest.raises(NotPermitted):
            act.incident_update(actor=user, incident=public_a, dupe_of=public_b.number)
    client = client_for(user)
    page = client.post(f"/incidents/{public_a.number}/triage/",
                       {"title": public_a.title, "status": "RESOLVED", "resolution": "DUPLICATE",
                        "dupe_of": str(public_b.number), "source": public_a.source})
    assert page.status_code in (302, 403) and (page.status_code == 403 or "/accounts/login/" in page["Location"])
    api = client.patch(f"/api/v1/incidents/{public_a.number}/", {"dupe_of": public_b.number},
                       content_type="application/json")
    assert api.status_code in (401, 403)
    assert _relate(client, public_a, "duplicate_of", public_b.number).status_code in (302, 403)
    assert _state(public_a, public_b) == before


# ------------------------------------------------------------------ depends_on / blocks


def test_a_bug_cannot_depend_on_and_block_the_same_bug(three, staff):
    a, b, _ = three
    act.incident_relate(actor=staff, incident=a, kind="depends_on", other_number=b.number)
    before = _state(a, b)
    with pytest.raises(DomainError) as refused:
        act.incident_relate(actor=staff, incident=a, kind="blocks", other_number=b.number)
    assert f"bug {b.number} → bug {a.number} → bug {b.number}" in refused.value.message
    assert "cannot depend on and block the same bug" in refused.value.message
    with pytest.raises(DomainError, match="dependency"):
        act.incident_relate(actor=staff, incident=b, kind="depends_on", other_number=a.number)
    assert _state(a, b) == before


def test_a_longer_dependency_loop_is_refused_naming_every_bug_in_it(three, staff, client_for):
    a, b, c = three
    act.incident_relate(actor=staff, incident=a, kind="depends_on", other_number=b.number)
    act.incident_relate(actor=staff, incident=b, kind="depends_on", other_number=c.number)
    before = _state(a, b, c)
    page = _relate(client_for(staff), c, "depends_on", a.number)
    assert page.status_code == 400
    loop = f"bug {c.number} → bug {a.number} → bug {b.number} → bug {c.number}"
    assert page.context["relation_form"].errors["other"] == [f"dependency loop: {loop}"]
    assert loop in page.content.decode()
    assert _state(a, b, c) == before
    # The same edge the other way round is no loop: c blocks a (a depends on c) is accepted.
    assert _relate(client_for(staff), c, "blocks", a.number).status_code == 302
    assert IncidentRelation.objects.filter(source=a, target=c, kind=DEP).exists()


def test_a_loop_through_a_bug_the_reader_may_not_see_names_it_without_its_number(three, secret_b, staff):
    a, b, _ = three
    act.incident_relate(actor=staff, incident=a, kind="depends_on", other_number=secret_b.number)
    IncidentRelation.objects.create(source=secret_b, target=b, kind=DEP)
    with pytest.raises(DomainError) as refused:
        act.incident_relate(actor=staff, incident=b, kind="depends_on", other_number=a.number)
    loop = f"bug {b.number} → bug {a.number} → bug {secret_b.number} → bug {b.number}"
    assert loop in refused.value.message  # staff may see every bug
    shown = relations.loop_names([b.pk, a.pk, secret_b.pk, b.pk], actor=_user("outsider"))
    assert shown == f"bug {b.number} → bug {a.number} → a bug you cannot see → bug {b.number}"


# ------------------------------------------------------------------ duplicate_of relations


def test_a_loop_of_duplicates_is_refused_on_the_relation_form_and_in_triage(three, staff, client_for):
    a, b, c = three
    act.incident_relate(actor=staff, incident=a, kind="duplicate_of", other_number=b.number)
    act.incident_relate(actor=staff, incident=b, kind="duplicate_of", other_number=c.number)
    before = _state(a, b, c)
    page = _relate(client_for(staff), c, "duplicate_of", a.number)
    assert page.status_code == 400
    assert "duplicate loop" in page.context["relation_form"].errors["other"][0]
    with pytest.raises(DomainError) as refused:
        act.incident_update(actor=staff, incident=c, dupe_of=a.number)
    assert f"bug {c.number} → bug {a.number} → bug {b.number} → bug {c.number}" in refused.value.errors["dupe_of"][0]
    assert _state(a, b, c) == before


def test_a_bug_duplicates_one_bug_and_a_resolved_duplicate_keeps_its_link(three, staff, client_for):
    a, b, c = three
    act.incident_update(actor=staff, incident=a, dupe_of=b.number)
    before = _state(a, b, c)
    page = _relate(client_for(staff), a, "duplicate_of", c.number)
    assert page.status_code == 400 and f"already a duplicate of bug {b.number}" in page.content.decode()
    removed = _relate(client_for(staff), a, "duplicate_of", b.number, remove=True)
    assert removed.status_code == 400 and "reopen it" in removed.content.decode()
    assert _state(a, b, c) == before


@pytest.mark.django_db(transaction=True)
def test_two_staff_closing_a_loop_at_the_same_moment_cannot_both_succeed(make_incident, owner_a, staff):
    """Two connections: the first adds a -> b and holds its transaction open; the second, adding
    b -> a meanwhile, waits for it and then sees the loop (without the lock both would pass)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the advisory lock is PostgreSQL's")
    a, b = make_incident(owner_a, title="A"), make_incident(owner_a, title="B")
    results = {}

    def second():
        try:
            act.incident_relate(actor=staff, incident=b, kind="depends_on", other_number=a.number)
            results["second"] = "added"
        except DomainError as exc:
            results["second"] = exc.message
        finally:
            connection.close()

    with transaction.atomic():
        act.incident_relate(actor=staff, incident=a, kind="depends_on", other_number=b.number)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the second writer did not wait for the first"
    thread.join(30)
    assert "dependency loop" in results["second"]
    assert list(IncidentRelation.objects.values_list("source_id", "target_id")) == [(a.pk, b.pk)]
