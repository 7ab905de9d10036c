"""Full-text search (compliance.search) on the real Bugzilla bugs and on made-up incidents, through
the list page, the API list and /rest/bug?quicksearch=, on whichever engine the run uses
(PostgreSQL's text search or SQLite's FTS5: run this file on both)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q

from accounts import permissions as perm
from compliance import search
from compliance.actions import incidents as act
from compliance.models import Comment, Incident
from registry.models import CAOwner
from tests.incidents import incident_helpers

# The one copy of the 1,688 bugs, beside the demo that loads it (compliance/demo_data/SOURCE.md).
DUMP = Path(__file__).resolve().parent.parent.parent / "compliance" / "demo_data" / "ca_compliance_bugs_2014-2026.json"
ROLES = ["staff", "rep_a", "rep_b", "reviewer", "anonymous"]


@pytest.fixture
def real_bugs(db):
    CAOwner.objects.create(name="DigiCert")
    call_command("import_bugzilla_json", str(DUMP), stdout=io.StringIO())
    assert Incident.objects.count() == 1688


def _user(request, role):
    return request.getfixturevalue(role)


def _client(client_for, user):
    return client_for(None if user is None or not user.is_authenticated else user)


def _list_numbers(client, q: str, **params) -> list[int]:
    response = client.get("/incidents/", {"q": q, **params})
    assert response.status_code == 200, response.content[:500]
    return [incident.number for incident, _ in response.context["rows"]]


def _api_numbers(client, q: str) -> list[int]:
    response = client.get("/api/v1/incidents/", {"q": q, "page_size": 200})
    assert response.status_code == 200, response.content[:500]
    return [row["number"] for row in response.json()["results"]]


def _rest_numbers(client, quicksearch: str) -> list[int]:
    response = client.get("/rest/bug", {"quicksearch": quicksearch, "include_fields": "id", "limit": 0})
    assert response.status_code == 200, response.content[:500]
    return [bug["id"] for bug in response.json()["bugs"]]


def test_each_engine_has_its_own_backend():
    expected = "postgres" if connection.vendor == "postgresql" else "sqlite"
    assert search.backend().__name__ == f"compliance.search.{expected}"


@pytest.mark.django_db
def test_digicert_revocation_finds_the_digicert_revocation_bugs_best_first(real_bugs, client):
    phrase = "DigiCert revocation"
    # The old search matched the whole phrase against title and whiteboard: nothing.
    assert not Incident.objects.filter(Q(title__icontains=phrase) | Q(whiteboard__icontains=phrase)).exists()
    numbers = _list_numbers(client, phrase)
    found = list(Incident.objects.filter(number__in=numbers))
    assert len(found) >= 10
    by_number = {i.number: i for i in found}
    # Every one is a DigiCert bug about revocation (in its title or its whiteboard tags)...
    for incident in found:
        assert incident.title.lower().startswith("digicert"), incident.title
        assert "revo" in (incident.title + incident.whiteboard).lower()
    # ... and every DigiCert bug with "revocation" in its title is among them, those first.
    # ("Unrevocation" is another word: full-text search matches words, not substrings.)
    titled = {i.number for i in Incident.objects.filter(title__istartswith="digicert")
              if re.search(r"\brevocations?\b", i.title, re.IGNORECASE)}
    assert len(titled) >= 8
    assert titled <= set(numbers)
    assert set(numbers[:len(titled)]) == titled
    assert "revocation" in by_number[numbers[0]].title.lower()
    # The same through the API and Bugzilla's quicksearch (ALL: closed bugs too).
    assert _api_numbers(client, phrase) == numbers
    assert set(_rest_numbers(client, f"ALL {phrase}")) == set(numbers)
    # Bugzilla's default: open bugs only.
    open_numbers = set(Incident.objects.filter(number__in=numbers).exclude(status="RESOLVED").values_list("number", flat=True))
    assert set(_rest_numbers(client, phrase)) == open_numbers


@pytest.mark.django_db
def test_a_phrase_must_match_in_order_and_an_exclusion_excludes(real_bugs, client):
    delayed = set(_api_numbers(client, '"delayed revocation"'))
    # Words in that order (stemmed: "Delay revocation", "delayed revocations" count too).
    in_order = re.compile(r"\bdelay\w*\W+revocation", re.IGNORECASE)
    for incident in Incident.objects.filter(number__in=delayed):
        assert in_order.search(f"{incident.title} {incident.whiteboard}"), incident.title
    words = set(_api_numbers(client, "delayed revocation"))  # both words, in any order
    assert len(delayed) >= 20 and delayed < words
    without = set(_api_numbers(client, "revocation -delayed"))
    assert without and not (without & delayed)


@pytest.mark.django_db
def test_a_word_only_in_a_comment_finds_that_bug(real_bugs, staff, client_for, rep_b, anonymous):
    bug = Incident.objects.get(number=1910805)
    word = "zygodactylous"
    assert not Incident.objects.filter(Q(title__icontains=word) | Q(whiteboard__icontains=word)).exists()
    act.comment_create(actor=staff, incident=bug, body=f"The fix shipped; the {word} linter now runs on every issuance.")
    for user in (staff, rep_b, anonymous):
        client = _client(client_for, user)
        assert _list_numbers(client, word) == [1910805]
        assert _api_numbers(client, word) == [1910805]
        assert _rest_numbers(client, f"ALL {word}") == [1910805]
    page = client_for(None).get("/incidents/", {"q": f"{word} linter"}).content.decode()
    assert f"<mark>{word}</mark>" in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_a_private_comments_words_are_found_only_by_who_may_read_it(role, request, real_bugs, staff, owner_a,
                                                                    client_for):
    bug = Incident.objects.get(number=1910805)
    bug.ca_owner = owner_a  # rep_a represents this bug's CA
    bug.save()
    word = "plumbagoquartz"
    comment = act.comment_create(actor=staff, incident=bug, body=f"Internal: {word} escalation.", is_private=True)
    user = _user(request, role)
    may_read = perm.can_view_comment(user, comment)
    assert may_read == (role == "staff")  # the rule as it stands: private comments are staff-only
    client = _client(client_for, user)
    expected = [1910805] if may_read else []
    assert _list_numbers(client, word) == expected
    assert _api_numbers(client, word) == expected
    assert _rest_numbers(client, f"ALL {word}") == expected
    # Not through a phrase, an exclusion's absence or a snippet either.
    assert _list_numbers(client, f'"{word} escalation"') == expected
    assert (1910805 in _list_numbers(client, f"DigiCert revocation -{word}")) == (not may_read)
    page = client.get("/incidents/", {"q": "delayed revocation"}).content.decode()
    if not may_read:
        assert word not in page  # snippets come from what the reader may read


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_security_sensitive_incidents_appear_only_for_who_may_see_them(role, request, owner_a, rep_a, staff,
                                                                       client_for):
    secret = act.incident_create(actor=rep_a, ca_owner=owner_a, title="Acme Trust: hsm quokkaflare exposure",
                                 description="quokkaflare details", security_sensitive=True)
    public = act.incident_create(actor=rep_a, ca_owner=owner_a, title="Acme Trust: late quokkaflare audit",
                                 description="Public.")
    act.comment_create(actor=rep_a, incident=secret, body="Only the hsmonly word is here.")
    user = _user(request, role)
    secret.refresh_from_db()
    sees = perm.can_view_incident(user, secret)
    assert sees == (role in ("staff", "rep_a"))
    client = _client(client_for, user)
    expected = sorted([public.number, secret.number] if sees else [public.number])
    assert sorted(_list_numbers(client, "quokkaflare")) == expected
    assert sorted(_api_numbers(client, "quokkaflare")) == expected
    assert sorted(_rest_numbers(client, "ALL quokkaflare")) == expected
    assert _list_numbers(client, "hsmonly") == ([secret.number] if sees else [])
    assert _rest_numbers(client, f"#{secret.number}") == ([secret.number] if sees else [])
    # A bug number alone lists that bug, if it may be seen.
    assert _list_numbers(client, f"#{secret.number}") == ([secret.number] if sees else [])
    assert _list_numbers(client, str(secret.number)) == ([secret.number] if sees else [])


@pytest.mark.django_db
def test_report_versions_are_searched_and_writes_keep_the_index(rep_a, owner_a, staff, client):
    incident = act.incident_create(actor=rep_a, ca_owner=owner_a, title="Acme Trust: OU present", description="x")
    act.report_post(actor=rep_a, incident=incident, kind="full",
                    data=incident_helpers.full_report_data(incident_description="A marmosetlint gap let OU through."))
    assert _list_numbers(client, "marmosetlint") == [incident.number]
    act.incident_update(actor=staff, incident=incident, title="Acme Trust: OU present (wallabyword)")
    assert _list_numbers(client, "wallabyword") == [incident.number]
    assert _list_numbers(client, "present") == [incident.number]
    # Writes that send no signal (bulk) are picked up by rebuild_search_index.
    Comment.objects.bulk_create([Comment(incident=incident, body="bulk echidnaword", created_at=incident.created_at)])
    assert _list_numbers(client, "echidnaword") == []
    call_command("rebuild_search_index", stdout=io.StringIO())
    assert _list_numbers(client, "echidnaword") == [incident.number]
    Comment.objects.filter(body__contains="echidnaword").delete()  # deletes send their signals
    assert _list_numbers(client, "echidnaword") == []
    incident.delete()
    assert _list_numbers(client, "wallabyword") == []


@pytest.mark.django_db
def test_quicksearch_field_and_status_prefixes(owner_a, owner_b, rep_a, staff, reviewer, client_for):
    a = act.incident_create(actor=rep_a, ca_owner=owner_a, title="Acme Trust: crl gap", description="d",
                            whiteboard="")
    b = act.incident_create(actor=staff, ca_owner=owner_b, title="Borealis PKI: crl gap", description="d",
                            whiteboard="[ca-compliance] [crl-failure]")
    act.incident_update(actor=staff, incident=b, status="RESOLVED", resolution="FIXED", assignee=reviewer)
    client = client_for(staff)
    assert sorted(_list_numbers(client, "crl")) == sorted([a.number, b.number])  # the list: every status
    assert _rest_numbers(client, "crl") == [a.number]  # Bugzilla: open bugs by default
    assert sorted(_rest_numbers(client, "ALL crl")) == sorted([a.number, b.number])
    assert _rest_numbers(client, "RESOLVED crl") == [b.number]
    assert _list_numbers(client, "OPEN crl") == [a.number]
    assert _list_numbers(client, "crl whiteboard:crl-failure") == [b.number]
    assert _list_numbers(client, "crl -whiteboard:crl-failure") == [a.number]
    assert _list_numbers(client, "crl status:resolved") == [b.number]
    assert _list_numbers(client, "crl assignee:review") == [b.number]
    assert _list_numbers(client, "crl assigned_to:nobody-here") == []
    assert _list_numbers(client, "crl reporter:rep_a") == [a.number]
    assert sorted(_list_numbers(client, "product:CA crl")) == sorted([a.number, b.number])
    assert _list_numbers(client, "product:Firefox crl") == []
    assert sorted(_list_numbers(client, "component:compliance")) == sorted([a.number, b.number])
    assert _list_numbers(client, "component:vulnerability") == []
    assert _rest_numbers(client, str(b.number)) == [b.number]  # a number names the bug, whatever its status


@pytest.mark.django_db
def test_snippets_escape_everything_but_their_marks(owner_a, rep_a, client):
    incident = act.incident_create(actor=rep_a, ca_owner=owner_a, title="Acme Trust: tags", description="d")
    act.comment_create(actor=rep_a, incident=incident,
                       body='See <script>alert("x")</script> and <b>bold</b> near the kookaburra \x01 marker.')
    page = client.get("/incidents/", {"q": "kookaburra"}).content.decode()
    assert "<mark>kookaburra</mark>" in page
    assert "<script>alert" not in page and "<b>bold" not in page
    snippet = re.search(r'<div class="snippet" data-testid="snippet">(.*?)</div>', page).group(1)
    assert set(re.findall(r"</?[a-z]+", snippet)) == {"<mark", "</mark"}  # PostgreSQL drops tags, SQLite escapes
    assert search.highlight("a \x01<b>\x02 c") == "a <mark>&lt;b&gt;</mark> c"
    assert search.highlight("no match here") == ""


@pytest.mark.django_db
def test_words_the_engine_cannot_use_find_nothing_without_an_error(owner_a, rep_a, client):
    act.incident_create(actor=rep_a, ca_owner=owner_a, title="Acme Trust: something", description="d")
    for q in ['"', "-", "AND OR NOT", '" OR "', "{title}: x", "*", "NEAR(a b)", "x'; DROP TABLE x; --", "é ü ß"]:
        response = client.get("/incidents/", {"q": q})
        assert response.status_code == 200, q
        assert client.get("/rest/bug", {"quicksearch": q}).status_code == 200, q
