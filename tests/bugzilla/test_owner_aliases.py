"""The Bugzilla import's CA owner alias table is data staff edit (issue 16): seeded with the 26
aliases found in the real dump, read by the import, and the prefixes it leaves unmatched are kept
for a staff page, listed, never guessed. Shown on the 1,688 real bugs (compliance/demo_data's dump,
as tests/incidents/test_incident_import_owners.py imports them) and the demo's 45 CCADB owners."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Count

from compliance.demo import DUMP
from compliance.domain.owner_names import ALIASES, OwnerMatcher, title_prefix, whole_key
from compliance.models import Incident, OwnerAlias, UnmatchedOwnerPrefix
from registry import demo as registry_demo
from registry.models import CAOwner

pytestmark = pytest.mark.django_db

ALIASES_URL = "/incidents/owner-aliases/"
UNMATCHED_URL = "/incidents/owner-aliases/unmatched/"


def _import() -> str:
    out = io.StringIO()
    call_command("import_bugzilla_json", str(DUMP), stdout=out)
    return out.getvalue()


def _with_bugs() -> dict[str, int]:
    return dict(CAOwner.objects.annotate(n=Count("incidents")).filter(n__gt=0).values_list("name", "n"))


@pytest.fixture
def registry():
    registry_demo.load(io.StringIO())  # NSS's roots and their CCADB owners: the demo's 45 CA owners
    assert CAOwner.objects.count() == 45


def test_the_table_is_seeded_with_the_26_aliases_of_the_code():
    assert dict(OwnerAlias.objects.values_list("alias", "owner_name")) == ALIASES
    assert len(ALIASES) == 26


def test_every_owner_named_in_the_real_bugs_gets_its_bugs_and_the_rest_is_listed_not_guessed(registry, staff,
                                                                                            client_for):
    bugs = json.loads(DUMP.read_text(encoding="utf-8"))
    assert len(bugs) == 1688
    output = _import()
    with_bugs = _with_bugs()
    # Every registry owner the real bugs name (by name, short name or an alias of the table) gets its bugs.
    matcher = OwnerMatcher(list(CAOwner.objects.values_list("pk", "name")),
                           aliases=dict(OwnerAlias.objects.values_list("alias", "owner_name")))
    named = {matcher.match_title(b["summary"]).owner for b in bugs} - {None}
    assert len(named) == 45 and len(with_bugs) == 45
    assert with_bugs["Internet Security Research Group"] == 38  # "Let's Encrypt" through the table
    assert with_bugs["GlobalSign nv-sa"] == 57
    assert Incident.objects.exclude(ca_owner=None).count() == 1359
    # The unmatched prefixes are stored for staff: the same 329 bugs the command lists, none with an owner.
    stored = {r.prefix: r.bugs for r in UnmatchedOwnerPrefix.objects.all()}
    assert sum(stored.values()) == 329 and "1359 matched to a CA owner, 329 without one." in output
    assert stored["Entrust"] == 71 and stored["Apple"] == 14
    owner_keys = {whole_key(n) for n in CAOwner.objects.values_list("name", flat=True)}
    assert not {whole_key(p) for p in stored} & owner_keys  # not an owner's name left behind
    for prefix in ("Entrust", "Apple"):
        assert not Incident.objects.filter(title__startswith=f"{prefix}:").exclude(ca_owner=None).exists()
    # The staff page shows them, most bugs first, each with a link to map it.
    page = client_for(staff).get(UNMATCHED_URL).content.decode()
    assert "left 329 bugs under" in page
    assert page.index(">Entrust<") < page.index(">Apple<")
    assert f'href="{ALIASES_URL}?alias=Entrust"' in page


def test_an_alias_staff_add_on_the_page_is_what_the_next_import_uses(registry, staff, client_for):
    OwnerAlias.objects.filter(alias="Let's Encrypt").delete()
    _import()
    assert "Internet Security Research Group" not in _with_bugs()
    assert UnmatchedOwnerPrefix.objects.get(prefix="Let's Encrypt").bugs == 38
    isrg = CAOwner.objects.get(name="Internet Security Research Group")
    c = client_for(staff)
    assert "Let&#x27;s Encrypt" in c.get(f"{ALIASES_URL}?alias=Let%27s+Encrypt").content.decode()
    response = c.post(ALIASES_URL, {"alias": "Let's Encrypt", "ca_owner": isrg.pk})
    assert response.status_code == 302
    assert OwnerAlias.objects.get(alias="Let's Encrypt").owner_name == "Internet Security Research Group"
    _import()
    assert _with_bugs()["Internet Security Research Group"] == 38
    assert not UnmatchedOwnerPrefix.objects.filter(prefix="Let's Encrypt").exists()


def test_staff_change_and_remove_an_alias_and_bad_input_changes_nothing(registry, staff, client_for):
    c = client_for(staff)
    comodo = OwnerAlias.objects.get(alias="Comodo")
    sectigo = CAOwner.objects.get(name="Sectigo")
    before = dict(OwnerAlias.objects.values_list("alias", "owner_name"))
    for data, field, message in [
        ({"alias": "", "ca_owner": sectigo.pk}, "alias", "This field is required."),
        ({"alias": "comodo!", "ca_owner": sectigo.pk}, "alias", "This alias already exists"),
        ({"alias": "SECTIGO", "ca_owner": sectigo.pk}, "alias", "the CA owner&#x27;s own name"),
        ({"alias": "Comodo CA", "ca_owner": 999999}, "ca_owner", "Select a valid choice"),
    ]:
        response = c.post(ALIASES_URL, data)
        page = response.content.decode()
        assert response.status_code == 400 and message in page, (data, page[-3000:])
        assert page.index(f'id="id_{field}"') < page.index(message)  # beside the add form's field
        assert f'value="{data["alias"]}"' in page or not data["alias"]  # what was typed is kept
    assert dict(OwnerAlias.objects.values_list("alias", "owner_name")) == before
    page = c.get(ALIASES_URL).content.decode()
    assert page.count('name="alias_id"') == 2 * 26
    assert c.post(ALIASES_URL, {"alias_id": comodo.pk, "alias": "Comodo CA", "ca_owner": sectigo.pk}).status_code == 302
    assert OwnerAlias.objects.get(pk=comodo.pk).alias == "Comodo CA"
    assert c.post(ALIASES_URL, {"alias_id": comodo.pk, "delete": "1"}).status_code == 302
    assert not OwnerAlias.objects.filter(pk=comodo.pk).exists()
    assert c.post(ALIASES_URL, {"alias_id": "999999", "delete": "1"}).status_code == 404


def test_nobody_but_staff_sees_or_edits_the_table(registry, rep_a, rep_b, reviewer, client_for):
    sectigo = CAOwner.objects.get(name="Sectigo")
    before = dict(OwnerAlias.objects.values_list("alias", "owner_name"))
    comodo = OwnerAlias.objects.get(alias="Comodo")
    for user in (rep_a, rep_b, reviewer, None):
        c = client_for(user)
        for url in (ALIASES_URL, UNMATCHED_URL):
            response = c.get(url)
            assert response.status_code == (302 if user is None else 403)
        assert c.post(ALIASES_URL, {"alias": "Mine", "ca_owner": sectigo.pk}).status_code in (302, 403)
        assert c.post(ALIASES_URL, {"alias_id": comodo.pk, "delete": "1"}).status_code in (302, 403)
        assert "owner-aliases" not in c.get("/incidents/").content.decode()
    assert dict(OwnerAlias.objects.values_list("alias", "owner_name")) == before


def test_the_actions_refuse_non_staff(registry, rep_a, reviewer, anonymous):
    from compliance.actions import owner_aliases as acts
    from config.errors import NotPermitted

    sectigo = CAOwner.objects.get(name="Sectigo")
    for user in (rep_a, reviewer, anonymous):
        with pytest.raises(NotPermitted):
            acts.alias_save(actor=user, alias="Mine", ca_owner=sectigo)
        with pytest.raises(NotPermitted):
            acts.alias_delete(actor=user, alias=OwnerAlias.objects.first())
    assert OwnerAlias.objects.count() == 26


def test_titles_without_a_prefix_are_counted_too(registry):
    bugs = json.loads(DUMP.read_text(encoding="utf-8"))
    _import()
    without = sum(1 for b in bugs if not title_prefix(b["summary"]))
    row = UnmatchedOwnerPrefix.objects.filter(prefix="").first()
    assert (row.bugs if row else 0) == without
