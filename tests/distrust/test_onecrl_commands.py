"""import_onecrl / export_onecrl on the real 1,092-record remote-settings dump."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from distrust.models import OneCRLEntry
from tests.distrust.distrust_helpers import FIXTURES

DUMP = FIXTURES / "onecrl" / "onecrl_kinto_dump_2019-11-05.json"


@pytest.mark.django_db
def test_import_then_export_gives_back_the_real_dump_byte_for_byte(tmp_path):
    out = io.StringIO()
    call_command("import_onecrl", str(DUMP), stdout=out)
    assert "1092 records read, 1092 new" in out.getvalue()
    assert OneCRLEntry.objects.count() == 1092
    target = tmp_path / "onecrl.json"
    call_command("export_onecrl", str(target), stderr=io.StringIO())
    assert target.read_text() == DUMP.read_text() + "\n"


@pytest.mark.django_db
def test_importing_the_same_dump_again_duplicates_nothing():
    call_command("import_onecrl", str(DUMP), stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_onecrl", str(DUMP), stdout=out)
    assert "0 new, 1092 already held" in out.getvalue()
    assert OneCRLEntry.objects.count() == 1092


@pytest.mark.django_db
def test_a_bad_dump_is_refused_naming_the_record_and_nothing_is_stored(tmp_path):
    doc = json.loads(DUMP.read_text())
    doc["data"][5]["serialNumber"] = "not base64!"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(CommandError, match=r"bad.json: record '.*': serialNumber .* is not valid base64"):
        call_command("import_onecrl", str(bad), stdout=io.StringIO())
    assert OneCRLEntry.objects.count() == 0
    with pytest.raises(CommandError, match="cannot read it"):
        call_command("import_onecrl", str(tmp_path / "missing.json"), stdout=io.StringIO())


@pytest.mark.django_db
def test_published_action_records_join_the_exported_collection(staff, scenario, make_action):
    from tests.distrust.distrust_helpers import advance

    call_command("import_onecrl", str(DUMP), stdout=io.StringIO())
    advance(staff, make_action(), "communicate", scenario, waive=False)
    out = io.StringIO()
    call_command("export_onecrl", stdout=out)
    records = json.loads(out.getvalue())["data"]
    assert len(records) == 1094
    mine = [r for r in records if "last_modified" not in r]
    assert len(mine) == 2 and records[:2] == mine  # unpublished by the server yet: listed first
    assert {r["details"]["created"] for r in mine} == {"2025-03-09T00:00:00Z"}
