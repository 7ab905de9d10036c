"""`Idempotency-Key` on the API's POST operations (accounts/idempotency.py): a retry creates nothing twice.

The cast: rep_a (represents Acme Trust, owner A) files and comments; staff may do everything;
reviewer may create neither auditors nor distrust actions; anonymous may create nothing. Rows are
counted in the database, not only read from responses. The last tests walk the URLconf: every POST
route under /api/v1/ must replay a keyed retry and create nothing the second time, and nothing under
/rest/ (read-only) accepts a POST at all.
"""

from __future__ import annotations

import json
import re
import threading

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.test.client import encode_multipart
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts import idempotency
from accounts.authentication import ApiKeyAuthentication
from accounts.models import IdempotencyKey
from audits.models import Auditor, AuditStatement
from compliance.actions import incidents as act
from compliance.models import Comment, Incident, ReportVersion
from distrust.models import DistrustAction

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"
PRELIMINARY = {"kind": "preliminary", "data": {"incident_description": "Bad OU values.", "relevant_policies": "N/A",
                                               "source_of_disclosure": "Self Reported"}}


def send(api, path, data, key, *, idem=KEY, **headers):
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return api("post", path, key, data=json.dumps(data), content_type="application/json", headers=headers)


def incident_body(owner, title="Certificates with a bad OU"):
    return {"ca_owner": owner.pk, "title": title, "description": "What happened."}


# --- retries --------------------------------------------------------------------------------------

def test_retry_with_the_same_key_files_one_incident_and_replays_the_first_response(api, make_key, rep_a, owner_a):
    key = make_key(rep_a)
    first = send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first.headers
    again = send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.filter(ca_owner=owner_a).count() == 1
    # Without a key, a repeat is a new incident: the header is what makes a retry safe.
    assert send(api, "/api/v1/incidents/", incident_body(owner_a), key, idem=None).status_code == 201
    assert Incident.objects.filter(ca_owner=owner_a).count() == 2


def test_retry_of_a_comment_posts_one_comment(api, make_key, rep_a, incidents):
    key, incident = make_key(rep_a), incidents["public_a"]
    before = Comment.objects.filter(incident=incident).count()
    url = f"/api/v1/incidents/{incident.number}/comments/"
    responses = [send(api, url, {"body": "We revoked them."}, key) for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert responses[1].content == responses[2].content == responses[0].content
    assert Comment.objects.filter(incident=incident).count() == before + 1


def test_retry_of_an_audit_statement_submits_one_statement(api, make_key, rep_a, owner_a):
    key = make_key(rep_a)
    body = {"ca_owner": owner_a.pk, "auditor_name": "Example Audit LLP", "period_start": "2024-01-01",
            "period_end": "2024-12-31", "statement_date": "2025-01-31", "url": "https://audit.example.test/a.pdf",
            "criteria": [{"key": "webtrust-ca"}]}
    first = send(api, "/api/v1/audits/", body, key)
    assert first.status_code == 201, first.content
    again = send(api, "/api/v1/audits/", body, key)
    assert (again.status_code, again.content) == (201, first.content)
    assert AuditStatement.objects.filter(ca_owner=owner_a).count() == 1


def test_session_clients_are_keyed_too(client_for, rep_a, incidents):
    c = client_for(rep_a)
    url = f"/api/v1/incidents/{incidents['public_a'].number}/comments/"
    post = lambda: c.post(url, {"body": "Update."}, content_type="application/json",  # noqa: E731
                          headers={"Idempotency-Key": KEY})
    assert post().status_code == 201
    assert post()["Idempotent-Replayed"] == "true"
    assert Comment.objects.filter(incident=incidents["public_a"], body="Update.").count() == 1


def test_a_multipart_retry_with_a_new_boundary_is_the_same_request(api, make_key, staff):
    """A client library draws a new multipart boundary for every send: the parsed form is compared."""
    key = make_key(staff)
    responses = []
    for boundary in ("BoUnDaRyOnE", "anotherBoundary42"):
        body = encode_multipart(boundary, {"name": "Form Audit GmbH", "location": "Essen, DE"})
        responses.append(api("post", "/api/v1/auditors/", key, data=body,
                             content_type=f"multipart/form-data; boundary={boundary}",
                             headers={"Idempotency-Key": KEY}))
    assert [r.status_code for r in responses] == [201, 201], responses[0].content
    assert responses[1]["Idempotent-Replayed"] == "true" and responses[1].content == responses[0].content
    assert Auditor.objects.filter(name="Form Audit GmbH").count() == 1


# --- the same key, another request ----------------------------------------------------------------

def test_the_same_key_with_a_different_body_is_422_and_changes_nothing(api, make_key, rep_a, owner_a):
    key = make_key(rep_a)
    first = send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    stored = IdempotencyKey.objects.get()
    other = send(api, "/api/v1/incidents/", incident_body(owner_a, title="Another incident"), key)
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    assert "different request" in other.json()["detail"] and "Idempotency-Key" in other.json()["errors"]
    assert not Incident.objects.filter(title__contains="Another incident").exists()
    assert Incident.objects.count() == 1
    row = IdempotencyKey.objects.get()
    assert (row.request_fingerprint, bytes(row.response_body)) == (stored.request_fingerprint, bytes(stored.response_body))
    # The first request's retry is still answered from the store.
    assert send(api, "/api/v1/incidents/", incident_body(owner_a), key).content == first.content
    # A different query string is a different request too.
    assert api("post", "/api/v1/incidents/?x=1", key, data=json.dumps(incident_body(owner_a)),
               content_type="application/json", headers={"Idempotency-Key": KEY}).status_code == 422


def test_the_key_is_scoped_to_the_path(api, make_key, rep_a, incidents):
    key = make_key(rep_a)
    for name in ("public_a", "secret_a"):
        url = f"/api/v1/incidents/{incidents[name].number}/comments/"
        assert send(api, url, {"body": "Same words."}, key).status_code == 201
    assert Comment.objects.filter(body="Same words.").count() == 2


def test_another_user_with_the_same_key_files_their_own(api, make_key, rep_a, staff, owner_a):
    body = incident_body(owner_a)
    a = send(api, "/api/v1/incidents/", body, make_key(rep_a))
    s = send(api, "/api/v1/incidents/", body, make_key(staff))
    assert (a.status_code, s.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in s.headers
    assert a.json()["id"] != s.json()["id"]
    assert Incident.objects.filter(ca_owner=owner_a).count() == 2


def test_each_api_key_is_its_own_scope(api, make_key, rep_a, owner_a):
    """Two programs of one person (two keys) that happen to pick the same key value do not collide."""
    first, second = make_key(rep_a, name="ci"), make_key(rep_a, name="dashboard")
    assert send(api, "/api/v1/incidents/", incident_body(owner_a), first).status_code == 201
    other = send(api, "/api/v1/incidents/", incident_body(owner_a, title="From the dashboard"), second)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert Incident.objects.count() == 2


# --- refusals store nothing -----------------------------------------------------------------------

def test_no_permission_is_still_403_and_nothing_is_stored(api, make_key, reviewer, rep_b, incidents):
    key = make_key(reviewer)
    for _ in range(2):
        r = send(api, "/api/v1/auditors/", {"name": "Sneaky Audit"}, key)
        assert r.status_code == 403 and "Idempotent-Replayed" not in r.headers
        r = send(api, "/api/v1/distrust/", {"title": "Distrust everything"}, key)
        assert r.status_code == 403
    # Another CA's representative files no report on A's incident.
    r = send(api, f"/api/v1/incidents/{incidents['public_a'].number}/reports/",
             PRELIMINARY, make_key(rep_b))
    assert r.status_code == 403
    assert not Auditor.objects.filter(name="Sneaky Audit").exists()
    assert DistrustAction.objects.count() == 0 and ReportVersion.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_a_failed_request_is_not_stored_so_the_fixed_request_may_reuse_the_key(api, make_key, rep_a, owner_a):
    key = make_key(rep_a)
    bad = send(api, "/api/v1/incidents/", {"ca_owner": owner_a.pk, "description": "no title"}, key)
    assert bad.status_code == 400 and "title" in bad.json()["errors"]
    assert IdempotencyKey.objects.count() == 0
    fixed = send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert Incident.objects.count() == 1


def test_malformed_json_is_400_and_claims_no_key(api, make_key, rep_a):
    r = api("post", "/api/v1/incidents/", make_key(rep_a), data="{not json", content_type="application/json",
            headers={"Idempotency-Key": KEY})
    assert r.status_code == 400 and r.json()["error"] == "parse_error"
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.parametrize("value, problem", [
    ("", "empty"),
    ("   ", "empty"),
    ('""', "empty"),
    ("k" * 256, "too long"),
    ("clé-1", "printable ASCII"),
    ("tab\there", "printable ASCII"),
])
def test_an_empty_long_or_non_ascii_key_is_400_and_changes_nothing(api, make_key, rep_a, owner_a, value, problem):
    r = send(api, "/api/v1/incidents/", incident_body(owner_a), make_key(rep_a), idem=value)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid" and problem in r.json()["detail"]
    assert r.json()["errors"]["Idempotency-Key"]
    assert Incident.objects.count() == 0 and IdempotencyKey.objects.count() == 0


def test_a_key_of_255_characters_and_its_quoted_form_are_the_same_key(api, make_key, rep_a, owner_a):
    key, value = make_key(rep_a), "k" * 255
    assert send(api, "/api/v1/incidents/", incident_body(owner_a), key, idem=value).status_code == 201
    again = send(api, "/api/v1/incidents/", incident_body(owner_a), key, idem=f'"{value}"')
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_anonymous_requests_cannot_use_a_key(client, owner_a, incidents):
    r = client.post("/api/v1/incidents/", json.dumps(incident_body(owner_a)), content_type="application/json",
                    headers={"Idempotency-Key": KEY})
    assert r.status_code == 401 and "authenticated client" in r.json()["detail"]
    r = client.post(f"/api/v1/incidents/{incidents['public_a'].number}/comments/", json.dumps({"body": "hi"}),
                    content_type="application/json", headers={"Idempotency-Key": KEY})
    assert r.status_code == 401
    assert Incident.objects.count() == 4 and Comment.objects.filter(body="hi").count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_a_read_only_key_is_refused_before_any_key_is_claimed(api, make_key, rep_a, owner_a):
    r = send(api, "/api/v1/incidents/", incident_body(owner_a), make_key(rep_a, read_only=True))
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
    assert Incident.objects.count() == 0 and IdempotencyKey.objects.count() == 0


# --- in flight, abandoned, expired ----------------------------------------------------------------

def _claim_as(rep_key_plain, path, body):
    """The state a first request is in while its view runs: the key claimed, no response yet."""
    raw = APIRequestFactory().post(path, json.dumps(body), content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Token {rep_key_plain}")
    request = Request(raw, authenticators=[ApiKeyAuthentication()], parsers=[JSONParser()])
    return idempotency.claim(idempotency.scope_of(request, KEY))


def test_a_request_still_in_flight_with_the_same_key_is_409(api, make_key, rep_a, owner_a):
    key = make_key(rep_a)
    _claim_as(key, "/api/v1/incidents/", incident_body(owner_a))
    r = send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    assert r.status_code == 409 and r.json()["error"] == "idempotency_key_in_use"
    assert r["Retry-After"] == "1"
    assert Incident.objects.count() == 0


def test_a_claim_abandoned_by_a_dead_process_is_taken_over_after_the_timeout(api, make_key, rep_a, owner_a):
    key = make_key(rep_a)
    row = _claim_as(key, "/api/v1/incidents/", incident_body(owner_a))
    IdempotencyKey.objects.filter(pk=row.pk).update(claimed_at=row.claimed_at - idempotency.CLAIM_TIMEOUT)
    first = send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert send(api, "/api/v1/incidents/", incident_body(owner_a), key).content == first.content
    assert Incident.objects.count() == 1 and IdempotencyKey.objects.count() == 1


def test_keys_expire_after_24_hours_and_new_keys_clean_up_expired_ones(api, make_key, rep_a, staff, owner_a):
    key = make_key(rep_a)
    send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    send(api, "/api/v1/incidents/", incident_body(owner_a), key, idem="another")
    day_ago = IdempotencyKey.objects.get(key=KEY).created_at - idempotency.KEY_LIFETIME
    IdempotencyKey.objects.update(created_at=day_ago)
    # The expired key is a new key: the request runs again.
    again = send(api, "/api/v1/incidents/", incident_body(owner_a), key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert Incident.objects.count() == 3
    # Claiming a new key deleted the other expired row (cleanup on write, any principal's).
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [KEY]


@pytest.mark.django_db(transaction=True)
def test_a_real_concurrent_retry_is_409_while_the_first_runs_then_replays(make_key, rep_a, owner_a):
    """Two connections: the first request waits inside the report action on the incident's row lock,
    which this test holds; the retry sent meanwhile is refused, and nothing is posted twice."""
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (SELECT ... FOR UPDATE) to hold a request half-way: PostgreSQL")
    key = make_key(rep_a)
    incident = act.incident_create(actor=None, ca_owner=owner_a, title="Locked", description="d")
    url = f"/api/v1/incidents/{incident.number}/reports/"
    body = json.dumps(PRELIMINARY)
    headers = {"Authorization": f"Token {key}", "Idempotency-Key": KEY}
    results = {}

    def first_request():
        try:
            results["first"] = Client().post(url, body, content_type="application/json", headers=headers)
        finally:
            connection.close()

    with transaction.atomic():
        Incident.objects.select_for_update().get(pk=incident.pk)
        thread = threading.Thread(target=first_request)
        thread.start()
        for _ in range(200):
            if IdempotencyKey.objects.filter(key=KEY).exists():
                break
            thread.join(0.05)
        assert IdempotencyKey.objects.filter(key=KEY, response_status__isnull=True).exists()
        retry = Client().post(url, body, content_type="application/json", headers=headers)
        assert retry.status_code == 409 and retry["Retry-After"] == "1"
    thread.join(30)
    assert results["first"].status_code == 201, results["first"].content
    replay = Client().post(url, body, content_type="application/json", headers=headers)
    assert replay["Idempotent-Replayed"] == "true" and replay.content == results["first"].content
    assert ReportVersion.objects.filter(comment__incident=incident).count() == 1


# --- the schema -----------------------------------------------------------------------------------

def test_the_schema_documents_the_header_its_422_and_the_replay_header(client, db):
    spec = client.get("/api/v1/schema/?format=json").json()
    posts = {path: item["post"] for path, item in spec["paths"].items() if "post" in item}
    assert len(posts) >= 16
    for path, op in posts.items():
        (param,) = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
        assert param["in"] == "header" and not param.get("required", False), path
        assert param["schema"]["maxLength"] == 255, path
        assert "422" in op["responses"], path
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert ok and all("Idempotent-Replayed" in op["responses"][c]["headers"] for c in ok), path
    # Reads take no key.
    assert all(p["name"] != "Idempotency-Key" for p in spec["paths"]["/api/v1/incidents/"]["get"].get("parameters", []))


# --- the URLconf walk -----------------------------------------------------------------------------

PROJECT_APPS = ("accounts", "history", "registry", "compliance", "audits", "distrust", "notifications")


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for label in PROJECT_APPS
            for m in apps.get_app_config(label).get_models()}


def routes(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from routes(p, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern), p


def api_post_routes() -> dict[str, object]:
    found = {}
    for route, pattern in routes():
        view_class = getattr(pattern.callback, "view_class", None)
        if route.startswith("api/v1/") and view_class is not None and hasattr(view_class, "post"):
            found[pattern.name] = view_class
    return found


@pytest.fixture
def world(db, staff, rep_a, owner_a, reviewer):
    """For each POST route under /api/v1/: who sends it, its URL arguments and a body that succeeds."""
    from distrust import actions as distrust
    from registry.models import Release
    from tests.distrust.distrust_helpers import USAGE_CSV, advance, build_registry

    scenario = build_registry()
    incident = act.incident_create(actor=None, ca_owner=owner_a, title="Walk", description="d")
    question = act.question_ask(actor=staff, incident=incident, body="Which certificates?")

    def action(until=None, title="Walk"):
        a = distrust.action_create(actor=staff, title=title, incident_numbers=[incident.number],
                                   reported_by="A researcher", reported_on=incident.created_at.date(), bug="1")
        return advance(staff, a, until, scenario) if until else a

    at_implement = action("implement")
    distrust.artifacts_generate(actor=staff, action=at_implement)
    at_test = action("test")
    distrust.test_certificate_add(actor=staff, action=at_test, sha256=scenario.sha("leaf"))
    n = {"number": incident.number}
    return {
        "api-incident-list": (rep_a, {}, incident_body(owner_a, "Walk filed")),
        "api-incident-comments": (rep_a, n, {"body": "A comment."}),
        "api-incident-questions": (staff, n, {"body": "When?"}),
        "api-incident-question-answer": (rep_a, {**n, "question_id": question.pk}, {"body": "These."}),
        "api-incident-reports": (rep_a, n, PRELIMINARY),
        "api-audits": (rep_a, {}, {"ca_owner": owner_a.pk, "auditor_name": "Walk Audit", "period_start": "2024-01-01",
                                   "period_end": "2024-12-31", "statement_date": "2025-01-31",
                                   "url": "https://audit.example.test/w.pdf", "criteria": [{"key": "webtrust-ca"}]}),
        "api-auditors": (staff, {}, {"name": "Walk Auditor"}),
        "api-distrust-list": (staff, {}, {"title": "Walk distrust", "incident_numbers": [incident.number]}),
        "api-distrust-step": (staff, {"pk": action().pk, "step": "report"},
                              {"reported_by": "researcher@example.test", "reported_on": "2025-03-01"}),
        "api-distrust-step-reopen": (staff, {"pk": action("decide").pk, "step": "report"}, {"reason": "walk"}),
        "api-distrust-targets": (staff, {"pk": action("decide", "targets").pk}, {"sha256": scenario.sha("inter")}),
        "api-distrust-targets-bulk": (staff, {"pk": action("decide", "targets").pk},
                                      {"source": "csv", "text": f"sha256\n{scenario.sha('inter')}\n", "confirm": True}),
        "api-distrust-usage": (staff, {"pk": action("impact").pk}, {"csv": USAGE_CSV}),
        "api-distrust-artifacts": (staff, {"pk": action("implement").pk}, {}),
        "api-distrust-closure": (staff, {"pk": at_implement.pk, "item_id": at_implement.closure_items.first().pk},
                                 {"decision": "added"}),
        "api-distrust-test-certificates": (staff, {"pk": action("test").pk}, {"pem": scenario.leaf.pem}),
        "api-distrust-test-runs": (staff, {"pk": at_test.pk}, {}),
        "api-ca-list": (staff, {}, {"name": "Walk CA", "status": "applying",
                                    "urls": [{"kind": "cps", "url": "https://walk.example/cps"}]}),
        "api-ca-representatives": (staff, {"pk": owner_a.pk}, {"user": reviewer.username}),
        "api-ca-attach-by-chaining": (staff, {}, {}),
        # build_registry's root store entries wait in the draft release.
        "api-release-publish": (staff, {"pk": Release.objects.get(status=Release.Status.DRAFT).pk},
                                {"nss_version": "3.150", "kind": "regular", "released_on": "2025-05-01"}),
    }


def test_every_post_route_under_the_api_runs_once_per_key(world, api, make_key, client):
    """A new POST route fails here until it is listed in `world` above and replays a keyed retry."""
    found = api_post_routes()
    assert set(found) == set(world), f"POST routes without a case here: {sorted(set(found) - set(world))}"
    keys = {}
    for name, (user, kwargs, body) in world.items():
        url = reverse(name, kwargs=kwargs)
        keys.setdefault(user.pk, make_key(user))
        before = row_counts()
        # Anonymous clients create nothing; with a key they are told to authenticate.
        anon = client.post(url, json.dumps(body), content_type="application/json")
        assert 400 <= anon.status_code < 500, (name, anon.status_code)
        anon = client.post(url, json.dumps(body), content_type="application/json",
                           headers={"Idempotency-Key": f"anon-{name}"})
        assert anon.status_code == 401, (name, anon.status_code)
        assert row_counts() == before, name
        first = send(api, url, body, keys[user.pk], idem=f"walk-{name}")
        assert 200 <= first.status_code < 300, (name, first.status_code, first.content[:300])
        after_first = row_counts()
        assert after_first["accounts.IdempotencyKey"] == before["accounts.IdempotencyKey"] + 1, \
            f"{name}: no Idempotency-Key stored (is its post decorated with @idempotent?)"
        if first.status_code == 201:
            changed = {m for m in after_first if after_first[m] != before[m]} - {"accounts.IdempotencyKey"}
            assert changed, f"{name} answered 201 and created nothing"
        again = send(api, url, body, keys[user.pk], idem=f"walk-{name}")
        assert (again.status_code, again.content) == (first.status_code, first.content), name
        assert again.get("Idempotent-Replayed") == "true", f"{name} does not take Idempotency-Key"
        assert row_counts() == after_first, f"{name}: the keyed retry changed the database"
        assert getattr(found[name].post, "idempotent", False), name


def test_no_post_under_rest_with_an_incomplete_write_creates_anything(staff, make_key, incidents, api):
    """The Bugzilla-compatible API's writes (POST /rest/bug, comment, attachment) refuse a body that is not a
    whole write of theirs, and every other route refuses a POST: nothing is created, keyed or not (Bugzilla
    clients send no Idempotency-Key; /rest/ never answers as a replay)."""
    key, number = make_key(staff), str(incidents["public_a"].number)
    samples = {"bug_id": number, "name": "Acme", "rest": "bug/create", "attachment_id": "1"}
    urls = []
    for route, _pattern in routes():
        if route.startswith("rest"):
            path = route.replace("^", "").replace("$", "").replace("/?", "/")
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: samples[m.group(1)], path)
            urls.append("/" + re.sub(r"\(\?:([^|)]*)[^)]*\)", r"\1", path))
    assert len(urls) >= 10 and "/rest/bug/create" in urls and f"/rest/bug/{number}/comment/" in urls, urls
    before = row_counts()
    for url in urls:
        r = send(api, url, {"summary": "x", "product": "CA Program"}, key, idem=f"rest-{url}")
        assert r.status_code >= 400 and "Idempotent-Replayed" not in r.headers, (url, r.status_code)
    assert row_counts() == before
