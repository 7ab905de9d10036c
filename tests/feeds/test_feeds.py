"""Atom feeds show what the pages show, to whom the pages show it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    return [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")], response.content.decode()


def test_all_incidents_feed_leaves_out_security_incidents_for_the_public(client, incidents):
    titles, _ = entries(client.get("/feeds/incidents.atom"))
    assert sorted(t.split(": ", 1)[1] for t in titles) == ["Acme Trust: Public A", "Borealis PKI: Public B"]


def test_ca_rep_sees_own_cas_security_incident_in_the_feed_by_session_or_key(client, client_for, make_key, rep_a, incidents):
    titles, _ = entries(client_for(rep_a).get("/feeds/incidents.atom"))
    assert any("Secret A" in t for t in titles) and not any("Secret B" in t for t in titles)
    titles, _ = entries(client.get("/feeds/incidents.atom", headers={"Authorization": f"Token {make_key(rep_a)}"}))
    assert any("Secret A" in t for t in titles) and not any("Secret B" in t for t in titles)
    assert client.get("/feeds/incidents.atom", headers={"Authorization": "Token rw_revoked"}).status_code == 401


def test_per_ca_and_per_tag_feeds(client, owner_b, incidents):
    titles, _ = entries(client.get(f"/feeds/cas/{owner_b.pk}/incidents.atom"))
    assert [t.split(": ", 1)[1] for t in titles] == ["Borealis PKI: Public B"]
    titles, _ = entries(client.get("/feeds/tags/crl-failure.atom"))
    assert [t.split(": ", 1)[1] for t in titles] == ["Acme Trust: Public A"]
    assert client.get("/feeds/cas/999999/incidents.atom").status_code == 404


def test_comment_feed_never_shows_a_private_comment_to_non_staff(client, client_for, staff, rep_a, incidents):
    path = f"/feeds/incidents/{incidents['public_a'].number}/comments.atom"
    for who in (client, client_for(rep_a)):
        _, text = entries(who.get(path))
        assert "A public update." in text and "PRIVATE staff remark" not in text
    _, text = entries(client_for(staff).get(path))
    assert "PRIVATE staff remark" in text


def test_comment_feed_of_a_security_incident_is_404_to_those_who_may_not_see_it(client, client_for, rep_a, rep_b, incidents):
    path = f"/feeds/incidents/{incidents['secret_a'].number}/comments.atom"
    assert client.get(path).status_code == 404
    assert client_for(rep_b).get(path).status_code == 404
    assert client_for(rep_a).get(path).status_code == 200


def test_the_list_links_to_the_feed_and_csv_of_its_own_filter(client, client_for, rep_a, incidents):
    page = client.get("/incidents/?q=Public&tag=crl-failure&sort=number&page=1").content.decode()
    assert 'href="/feeds/incidents.atom?q=Public&amp;tag=crl-failure"' in page  # one page, newest change first
    assert 'rel="alternate" type="application/atom+xml"' in page
    assert 'href="/incidents/export.csv?q=Public&amp;tag=crl-failure&amp;sort=number"' in page
    titles, body = entries(client.get("/feeds/incidents.atom?q=Public&tag=crl-failure"))
    assert [t.split(": ", 1)[1] for t in titles] == ["Acme Trust: Public A"]
    assert "/incidents/?q=Public&amp;tag=crl-failure" in body  # the feed's own link is the list it follows
    csv = client.get("/incidents/export.csv?q=Public&tag=crl-failure").content.decode()
    assert "Public A" in csv and "Public B" not in csv
    # The filtered feed asks the same rule as the list: a matching security-sensitive incident only for those
    # who may see it.
    titles, _ = entries(client.get("/feeds/incidents.atom?q=Secret"))
    assert titles == []
    titles, _ = entries(client_for(rep_a).get("/feeds/incidents.atom?q=Secret"))
    assert [t.split(": ", 1)[1] for t in titles] == ["Acme Trust: Secret A"]


def test_a_list_with_a_bad_filter_links_to_the_unfiltered_feed(client, incidents):
    response = client.get("/incidents/?status=BOGUS")
    assert response.status_code == 400
    assert 'href="/feeds/incidents.atom"' in response.content.decode()
    # The feed itself, given a bad filter, is empty rather than everything.
    titles, _ = entries(client.get("/feeds/incidents.atom?status=BOGUS"))
    assert titles == []
