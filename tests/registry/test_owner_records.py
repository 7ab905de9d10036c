"""CA owner records kept in the app (issue 14): staff create and edit owners (CCADB ID, country,
status, contacts, CP/CPS and test website URLs) and grant or revoke CA representation, on pages and
through /api/v1/, each change in history from -> to with labels. CA representatives (even for their
own owner), reviewers and anonymous visitors can do none of it."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts import permissions
from config.errors import DomainError, NotPermitted
from history.models import Event
from history.selectors import for_subject
from registry.actions.owners import ca_owner_create, ca_owner_update, representation_grant, representation_revoke
from registry.models import CAOwner, CAOwnerContact, CAOwnerURL

pytestmark = pytest.mark.django_db


def _form(**over) -> dict:
    """The edit page's POST: the record, two contact rows and three URL rows."""
    data = {
        "owner-name": "Cormorant CA", "owner-ccadb_id": "A000777", "owner-country": "NO", "owner-status": "applying",
        "contacts-TOTAL_FORMS": "2", "contacts-INITIAL_FORMS": "0", "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "50",
        "contacts-0-name": "Kari Nordmann", "contacts-0-email": "kari@cormorant.example", "contacts-0-role": "Primary POC",
        "contacts-1-name": "", "contacts-1-email": "", "contacts-1-role": "",
        "urls-TOTAL_FORMS": "3", "urls-INITIAL_FORMS": "0", "urls-MIN_NUM_FORMS": "0", "urls-MAX_NUM_FORMS": "50",
        "urls-0-kind": "cp_cps", "urls-0-url": "https://cormorant.example/cps.pdf",
        "urls-1-kind": "test_revoked", "urls-1-url": "https://revoked.cormorant.example/",
        "urls-2-kind": "", "urls-2-url": "",
    }
    data.update(over)
    return data


# --- actions ------------------------------------------------------------------------------------


def test_staff_create_an_owner_with_contacts_and_urls_and_history_reads_labels(staff):
    owner = ca_owner_create(
        actor=staff, name="Cormorant CA", ccadb_id="a000777", country="NO", status="applying",
        contacts=[{"name": "Kari Nordmann", "email": "kari@cormorant.example", "role": "Primary POC"}],
        urls=[{"kind": "cps", "url": "https://cormorant.example/cps.pdf"},
              {"kind": "test_valid", "url": "https://valid.cormorant.example/"}],
    )
    owner.refresh_from_db()
    assert (owner.ccadb_id, owner.status) == ("A000777", "applying")
    assert [str(c) for c in owner.contacts.all()] == ["Kari Nordmann <kari@cormorant.example> (Primary POC)"]
    assert [(u.kind, u.url) for u in owner.urls.all()] == [
        ("cps", "https://cormorant.example/cps.pdf"), ("test_valid", "https://valid.cormorant.example/")]
    created = for_subject(owner).get(action="owner_created")
    assert created.new["status"] == "Applying"  # the label, not the key
    assert created.new["urls"][1] == "Test website: valid: https://valid.cormorant.example/"
    contacts_row = for_subject(owner).get(action="owner_changed")
    assert contacts_row.staff_only and contacts_row.new == {"contacts": [str(owner.contacts.get())]}


def test_an_update_records_each_change_from_and_to_with_labels(staff, owner_a):
    ca_owner_update(actor=staff, owner=owner_a, status="distrusted", country="US",
                    urls=[{"kind": "test_expired", "url": "https://expired.acme.example/"}])
    row = for_subject(owner_a).get(action="owner_changed")
    assert row.old == {"status": "Included", "urls": []}
    assert row.new == {"status": "Distrusted", "urls": ["Test website: expired: https://expired.acme.example/"]}
    assert "Status: Included → Distrusted" in row.summary
    # Saving the same values again records nothing.
    ca_owner_update(actor=staff, owner=owner_a, status="distrusted",
                    urls=[{"kind": "test_expired", "url": "https://expired.acme.example/"}])
    assert for_subject(owner_a).filter(action="owner_changed").count() == 1


@pytest.mark.parametrize("status", [s.value for s in CAOwner.Status])
def test_every_status_of_the_brief_is_a_choice(staff, owner_a, status):
    assert {"applying", "included", "distrusted", "removed"} <= set(CAOwner.Status.values)
    ca_owner_update(actor=staff, owner=owner_a, status=status)
    owner_a.refresh_from_db()
    assert owner_a.status == status


def test_bad_input_is_refused_field_by_field_and_nothing_changes(staff, owner_a, owner_b):
    before = Event.objects.count()
    with pytest.raises(DomainError) as caught:
        ca_owner_update(
            actor=staff, owner=owner_a, ccadb_id="A000002", status="sleeping", name="",
            contacts=[{"name": "No Mail", "email": "not-an-address"}],
            urls=[{"kind": "cps", "url": "ftp//broken"}, {"kind": "", "url": "https://x.example/"}],
        )
    errors = caught.value.errors
    assert {"ccadb_id", "status", "name", "contacts.0.email", "urls.0.url", "urls.1.kind"} <= set(errors)
    owner_a.refresh_from_db()
    assert (owner_a.name, owner_a.ccadb_id, owner_a.status) == ("Acme Trust", "A000001", "included")
    assert not CAOwnerContact.objects.exists() and not CAOwnerURL.objects.exists()
    assert Event.objects.count() == before
    with pytest.raises(DomainError) as caught:
        ca_owner_create(actor=staff, name="Acme Trust", ccadb_id="B12")
    assert {"name", "ccadb_id"} <= set(caught.value.errors)
    assert CAOwner.objects.count() == 2


@pytest.mark.parametrize("who", ["rep_a", "rep_b", "reviewer"])
def test_nobody_but_staff_writes_owner_records_or_representation_in_the_actions(request, who, owner_a):
    user = request.getfixturevalue(who)
    assert not permissions.can_edit_ca_owner(user, owner_a)
    assert not permissions.can_manage_representation(user, owner_a)
    before = Event.objects.count()
    with pytest.raises(NotPermitted):
        ca_owner_create(actor=user, name="Sneaky CA")
    with pytest.raises(NotPermitted):
        ca_owner_update(actor=user, owner=owner_a, status="removed")
    with pytest.raises(NotPermitted):
        representation_grant(actor=user, owner=owner_a, user=user)
    with pytest.raises(NotPermitted):
        representation_revoke(actor=user, owner=owner_a, user=user)
    assert Event.objects.count() == before
    assert CAOwner.objects.filter(name="Sneaky CA").count() == 0
    owner_a.refresh_from_db()
    assert owner_a.status == "included"


def test_grant_and_revoke_record_who_granted_whom_for_which_owner(staff, reviewer, owner_a):
    assert representation_grant(actor=staff, owner=owner_a, user=reviewer)
    assert not representation_grant(actor=staff, owner=owner_a, user=reviewer)  # already: nothing recorded
    assert permissions.represents(reviewer, owner_a.pk)
    assert representation_revoke(actor=staff, owner=owner_a, user=reviewer)
    reviewer.refresh_from_db()
    assert not reviewer.represented_owners.exists()
    on_owner = list(for_subject(owner_a).filter(field="representatives"))
    assert [(e.action, e.actor_name, e.old, e.new, e.staff_only) for e in on_owner] == [
        ("representative_granted", "staff", "", "reviewer", True),
        ("representative_revoked", "staff", "reviewer", "", True),
    ]
    assert on_owner[0].summary == "staff granted reviewer representation of Acme Trust"
    on_user = list(for_subject(reviewer).filter(action="representation_changed"))
    assert [(e.old, e.new, e.summary) for e in on_user] == [
        ([], ["Acme Trust"], "staff granted representation of Acme Trust"),
        (["Acme Trust"], [], "staff revoked representation of Acme Trust"),
    ]


# --- pages --------------------------------------------------------------------------------------


def test_staff_create_an_owner_on_the_page_and_its_page_shows_labels(client_for, staff):
    page = client_for(staff)
    assert page.get(reverse("registry:ca_create")).status_code == 200
    response = page.post(reverse("registry:ca_create"), _form())
    owner = CAOwner.objects.get(name="Cormorant CA")
    assert response.status_code == 302 and response["Location"] == owner.get_absolute_url()
    body = page.get(owner.get_absolute_url()).content.decode()
    for text in ("A000777", "Applying", "Combined CP/CPS", "Test website: revoked", "https://cormorant.example/cps.pdf",
                 "kari@cormorant.example", "Primary POC", "CA owner created"):
        assert text in body, text
    assert "test_revoked" not in body and "cp_cps" not in body.replace('name="', "")


def test_a_refused_form_keeps_what_was_typed_with_errors_next_to_the_fields(client_for, staff, owner_b):
    page = client_for(staff)
    response = page.post(reverse("registry:ca_create"), _form(**{
        "contacts-0-email": "kari-at-cormorant",
        "urls-1-kind": "",
    }))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="Cormorant CA"' in body and 'value="kari-at-cormorant"' in body
    assert 'value="https://revoked.cormorant.example/"' in body
    assert "Enter a valid email address" in body
    assert "Kind is needed for this row" in body
    # What only the action can know (another owner has this CCADB ID) comes back beside its field too.
    response = page.post(reverse("registry:ca_create"), _form(**{"owner-ccadb_id": "A000002"}))  # Borealis PKI's
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="A000002"' in body and 'value="kari@cormorant.example"' in body
    assert "CA owner with this CCADB unique ID already exists." in body
    assert body.index("already exists") > body.index('name="owner-ccadb_id"') > body.index('name="owner-name"')
    assert not CAOwner.objects.filter(name="Cormorant CA").exists() and not CAOwnerContact.objects.exists()


def test_staff_edit_an_owner_and_remove_a_url_by_emptying_its_row(client_for, staff, owner_a):
    ca_owner_update(actor=staff, owner=owner_a, urls=[{"kind": "cps", "url": "https://acme.example/cps"}])
    page = client_for(staff)
    form = page.get(reverse("registry:ca_edit", args=[owner_a.pk])).content.decode()
    assert 'value="https://acme.example/cps"' in form
    data = _form(**{"owner-name": "Acme Trust", "owner-ccadb_id": "A000001", "owner-status": "removed",
                    "urls-0-kind": "", "urls-0-url": "", "urls-1-kind": "", "urls-1-url": "",
                    "contacts-0-name": "", "contacts-0-email": "", "contacts-0-role": ""})
    assert page.post(reverse("registry:ca_edit", args=[owner_a.pk]), data).status_code == 302
    owner_a.refresh_from_db()
    assert owner_a.status == "removed" and not owner_a.urls.exists()
    body = page.get(owner_a.get_absolute_url()).content.decode()
    assert "<li>Status: Included → Removed</li>" in body
    assert "<li>URLs: Certification Practice Statement (CPS): https://acme.example/cps → none</li>" in body


@pytest.mark.parametrize("who", ["rep_a", "rep_b", "reviewer", None])
def test_nobody_but_staff_creates_or_edits_owners_or_representation_on_pages(request, client_for, who, owner_a, reviewer):
    user = request.getfixturevalue(who) if who else None
    page = client_for(user)
    urls = [
        ("get", reverse("registry:ca_create"), None),
        ("post", reverse("registry:ca_create"), _form()),
        ("get", reverse("registry:ca_edit", args=[owner_a.pk]), None),
        ("post", reverse("registry:ca_edit", args=[owner_a.pk]), _form(**{"owner-name": "Acme Renamed"})),
        ("post", reverse("registry:ca_representative_grant", args=[owner_a.pk]), {"user": "reviewer"}),
        ("post", reverse("registry:ca_representative_revoke", args=[owner_a.pk, 1]), {}),
        ("post", reverse("registry:attach_by_chaining"), {}),
    ]
    before = Event.objects.count()
    for method, url, data in urls:
        response = getattr(page, method)(url, data or {})
        if user is None:
            assert response.status_code == 302 and "/login/" in response["Location"], url
        else:
            assert response.status_code == 403, (url, response.status_code)
    owner_a.refresh_from_db()
    assert owner_a.name == "Acme Trust" and not CAOwner.objects.filter(name="Cormorant CA").exists()
    assert not permissions.represents(reviewer, owner_a.pk) and Event.objects.count() == before
    # Nor do they see the controls, the representatives or their history on the owner page.
    body = page.get(owner_a.get_absolute_url()).content.decode()
    assert "Edit this CA owner" not in body and 'id="representatives"' not in body
    assert "Grant representation" not in body


def test_staff_grant_and_revoke_on_the_owner_page_and_the_user_sees_it_on_their_account(client_for, staff, reviewer, owner_a):
    page = client_for(staff)
    refused = page.post(reverse("registry:ca_representative_grant", args=[owner_a.pk]), {"user": "nobody-here"})
    assert refused.status_code == 400
    assert 'value="nobody-here"' in refused.content.decode()
    assert "No account with the user name or e-mail address" in refused.content.decode()
    granted = page.post(reverse("registry:ca_representative_grant", args=[owner_a.pk]), {"user": "REVIEWER@example.test"})
    assert granted.status_code == 302
    assert permissions.represents(type(reviewer).objects.get(pk=reviewer.pk), owner_a.pk)
    body = page.get(owner_a.get_absolute_url()).content.decode()
    assert "reviewer (reviewer@example.test)" in body and "CA representation granted" in body
    revoked = page.post(reverse("registry:ca_representative_revoke", args=[owner_a.pk, reviewer.pk]))
    assert revoked.status_code == 302
    account = client_for(reviewer).get(reverse("account")).content.decode()
    assert "staff granted representation of Acme Trust" in account
    assert "staff revoked representation of Acme Trust" in account
    # The owner page shows the representation history to staff only.
    assert "staff revoked reviewer representation of Acme Trust" in page.get(owner_a.get_absolute_url()).content.decode()
    public = client_for(None).get(owner_a.get_absolute_url()).content.decode()
    assert "representation" not in public.lower()


def test_contacts_are_shown_to_staff_and_the_owners_representatives_only(client_for, staff, rep_a, rep_b, reviewer, owner_a):
    ca_owner_update(actor=staff, owner=owner_a, contacts=[{"name": "Pat Acme", "email": "pat@acme.example"}],
                    urls=[{"kind": "cps", "url": "https://acme.example/cps"}])
    for user, sees in ((staff, True), (rep_a, True), (rep_b, False), (reviewer, False), (None, False)):
        body = client_for(user).get(owner_a.get_absolute_url()).content.decode()
        assert ("pat@acme.example" in body) == sees, user
        assert "https://acme.example/cps" in body  # URLs are public


# --- API ----------------------------------------------------------------------------------------


def _api(client_for, user):
    c = client_for(user)

    def call(method, url, body=None):
        if method == "get":
            return c.get(url)
        return getattr(c, method)(url, json.dumps(body or {}), content_type="application/json")

    return call


BODY = {
    "name": "Cormorant CA", "ccadb_id": "A000777", "country": "NO", "status": "applying",
    "contacts": [{"name": "Kari Nordmann", "email": "kari@cormorant.example", "role": "Primary POC"}],
    "urls": [{"kind": "cp_cps", "url": "https://cormorant.example/cps.pdf"}],
}


def test_staff_create_and_patch_owners_through_the_api(client_for, staff):
    api = _api(client_for, staff)
    created = api("post", "/api/v1/cas/", BODY)
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["status"], data["status_label"]) == ("applying", "Applying")
    assert data["urls"] == [{"kind": "cp_cps", "kind_label": "Combined CP/CPS", "url": "https://cormorant.example/cps.pdf"}]
    assert data["contacts"][0]["email"] == "kari@cormorant.example"
    patched = api("patch", f"/api/v1/cas/{data['id']}/", {"status": "included", "country": "SE"})
    assert patched.status_code == 200 and patched.json()["status_label"] == "Included"
    row = for_subject(CAOwner.objects.get(pk=data["id"])).get(action="owner_changed", staff_only=False)
    assert (row.old, row.new) == ({"status": "Applying", "country": "NO"}, {"status": "Included", "country": "SE"})
    bad = api("patch", f"/api/v1/cas/{data['id']}/", {"ccadb_id": "123", "urls": [{"kind": "cps", "url": "nope"}]})
    assert bad.status_code == 400
    assert {"ccadb_id", "urls.0.url"} <= set(bad.json()["errors"])
    assert CAOwner.objects.get(pk=data["id"]).status == "included"  # nothing changed


@pytest.mark.parametrize("who", ["rep_a", "rep_b", "reviewer", None])
def test_nobody_but_staff_writes_owners_or_representation_through_the_api(request, client_for, who, owner_a, reviewer):
    user = request.getfixturevalue(who) if who else None
    api = _api(client_for, user)
    before = Event.objects.count()
    answers = [
        api("post", "/api/v1/cas/", BODY),
        api("patch", f"/api/v1/cas/{owner_a.pk}/", {"status": "removed"}),
        api("put", f"/api/v1/cas/{owner_a.pk}/", {**BODY, "name": "Acme Renamed"}),
        api("post", f"/api/v1/cas/{owner_a.pk}/representatives/", {"user": "reviewer"}),
        api("delete", f"/api/v1/cas/{owner_a.pk}/representatives/{reviewer.pk}/"),
        api("post", "/api/v1/cas/attach-by-chaining/"),
    ]
    expected = {401, 403} if user is None else {403}
    assert [a.status_code in expected for a in answers] == [True] * len(answers), [a.status_code for a in answers]
    owner_a.refresh_from_db()
    assert (owner_a.name, owner_a.status) == ("Acme Trust", "included")
    assert not CAOwner.objects.filter(name="Cormorant CA").exists()
    assert not permissions.represents(reviewer, owner_a.pk) and Event.objects.count() == before
    # Nor may they list who represents the owner.
    assert api("get", f"/api/v1/cas/{owner_a.pk}/representatives/").status_code in expected


def test_staff_grant_list_and_revoke_representation_through_the_api(client_for, staff, reviewer, owner_a):
    api = _api(client_for, staff)
    url = f"/api/v1/cas/{owner_a.pk}/representatives/"
    assert api("post", url, {"user": "nobody"}).status_code == 400
    granted = api("post", url, {"user": "reviewer"})
    assert granted.status_code == 201, granted.content
    listed = api("get", url).json()
    assert [r["username"] for r in listed["representatives"]] == ["reviewer"]
    assert [h["summary"] for h in listed["history"]] == ["staff granted reviewer representation of Acme Trust"]
    assert api("delete", f"{url}{reviewer.pk}/").status_code == 204
    assert not permissions.represents(type(reviewer).objects.get(pk=reviewer.pk), owner_a.pk)


def test_the_owner_list_api_runs_a_fixed_number_of_queries(client_for, staff, django_assert_max_num_queries):
    for i in range(30):
        ca_owner_create(actor=staff, name=f"Owner {i:02}", urls=[{"kind": "cps", "url": f"https://o{i}.example/cps"}],
                        contacts=[{"name": f"C {i}", "email": f"c{i}@o.example"}])
    api = _api(client_for, staff)
    with django_assert_max_num_queries(8):
        data = api("get", "/api/v1/cas/?page_size=100").json()
    assert data["count"] == 30 and all(len(o["urls"]) == 1 and len(o["contacts"]) == 1 for o in data["results"])
    anonymous = _api(client_for, None)("get", "/api/v1/cas/?page_size=100").json()
    assert all(o["contacts"] is None for o in anonymous["results"])  # contacts: staff and representatives


def test_the_owner_pages_show_status_labels_and_the_list_links_to_create_for_staff_only(client_for, staff, rep_a, owner_a):
    assert "New CA owner" in client_for(staff).get(reverse("registry:ca_list")).content.decode()
    body = client_for(rep_a).get(reverse("registry:ca_list")).content.decode()
    assert "New CA owner" not in body and "Included" in body
