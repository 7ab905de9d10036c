"""The real python-bugzilla client, library and command line, against a live Rootwatch server.

Nothing is adapted for it: `Bugzilla(url, force_rest=True)` and `bugzilla --bugzilla URL query ...`
as their users run them. The server is pytest-django's live_server (real HTTP, real database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bugzilla
import pytest

pytestmark = pytest.mark.django_db(transaction=True)
BUGZILLA_CLI = str(Path(sys.executable).with_name("bugzilla"))


@pytest.fixture
def rest_url(live_server):
    return f"{live_server.url}/rest"


@pytest.fixture
def cli(rest_url, tmp_path):
    """cli(*args, api_key=None) -> CompletedProcess of `bugzilla --bugzilla <live>/rest <args>`."""

    def run(*args, api_key=None):
        home = tmp_path / "home"
        config = home / ".config" / "python-bugzilla"
        config.mkdir(parents=True, exist_ok=True)
        rc = config / "bugzillarc"
        host = rest_url.split("://", 1)[1]
        rc.write_text(f"[{host}]\napi_key = {api_key}\n" if api_key else "")
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        # The key is read from bugzillarc, as its users configure it; HOME is a fresh directory.
        return subprocess.run(
            [BUGZILLA_CLI, "--bugzilla", rest_url, *args],
            capture_output=True, text=True, env=env, timeout=60,
        )

    return run


def numbers(bug_list):
    return sorted(b.id for b in bug_list)


def test_library_queries_by_product_component_status_and_whiteboard(rest_url, bugs):
    bz = bugzilla.Bugzilla(rest_url, force_rest=True)
    assert bz.is_rest() and bz.bz_ver_major == 5
    public = sorted([bugs["public_a"].number, bugs["public_b"].number])
    assert numbers(bz.query(bz.build_query(product="CA Program"))) == public
    assert numbers(bz.query(bz.build_query(product="CA Program", component="CA Certificate Compliance"))) == public
    assert numbers(bz.query(bz.build_query(product="CA Program", component="CA Security Vulnerability"))) == []
    assert numbers(bz.query(bz.build_query(status="ASSIGNED"))) == public
    assert numbers(bz.query(bz.build_query(status="RESOLVED"))) == []
    # A whiteboard search is a boolean chart (field0-0-0=status_whiteboard, type substring):
    assert numbers(bz.query(bz.build_query(status_whiteboard="audit-delay"))) == [bugs["public_b"].number]
    # So is a flag search (flagtypes.name):
    assert numbers(bz.query(bz.build_query(flag="needinfo?"))) == [bugs["public_a"].number]
    assert numbers(bz.query(bz.build_query(bug_id=[bugs["public_b"].number]))) == [bugs["public_b"].number]


def test_library_gets_a_bug_with_comments(rest_url, bugs):
    bz = bugzilla.Bugzilla(rest_url, force_rest=True)
    bug = bz.getbug(bugs["public_a"].number)
    assert bug.summary == "Acme Trust: OCSP responder returned unknown"
    assert bug.product == "CA Program" and bug.component == "CA Certificate Compliance"
    assert bug.status == "ASSIGNED" and "[ocsp-failure]" in bug.whiteboard
    assert bug.get_flag_status("needinfo") == "?"
    comments = bug.getcomments()
    assert [c["count"] for c in comments] == [0, 1, 3]
    assert comments[0]["text"] == "Description of OCSP responder returned unknown."
    assert all("Staff-only" not in c["text"] for c in comments)
    history = bug.get_history_raw()
    assert history["bugs"][0]["id"] == bugs["public_a"].number and history["bugs"][0]["history"]
    assert "bug_status" in bz.getbugfields()


def test_library_unknown_bug_is_code_101(rest_url, bugs):
    bz = bugzilla.Bugzilla(rest_url, force_rest=True)
    with pytest.raises(bugzilla.BugzillaError) as raised:
        bz.getbug(999999)
    assert raised.value.code == 101


def test_library_security_bug_is_invisible_without_the_right_key(rest_url, make_key, rep_a, rep_b, bugs):
    secret = bugs["secret_a"].number
    anonymous = bugzilla.Bugzilla(rest_url, force_rest=True)
    with pytest.raises(bugzilla.BugzillaError) as raised:
        anonymous.getbug(secret)
    assert raised.value.code == 102
    assert secret not in numbers(anonymous.query(anonymous.build_query(product="CA Program")))

    other_ca = bugzilla.Bugzilla(rest_url, force_rest=True, api_key=make_key(rep_b))
    with pytest.raises(bugzilla.BugzillaError):
        other_ca.getbug(secret)
    assert secret not in numbers(other_ca.query(other_ca.build_query(component="CA Security Vulnerability")))

    own_ca = bugzilla.Bugzilla(rest_url, force_rest=True, api_key=make_key(rep_a))
    bug = own_ca.getbug(secret)
    assert bug.component == "CA Security Vulnerability" and bug.groups == ["ca-program-security"]
    assert numbers(own_ca.query(own_ca.build_query(component="CA Security Vulnerability"))) == [secret]


def test_library_with_a_revoked_key_fails_with_code_306(rest_url, make_key, rep_a, bugs):
    from accounts import api_keys
    from accounts.models import ApiKey

    key = make_key(rep_a)
    api_keys.api_key_revoke(actor=rep_a, key=ApiKey.objects.get())
    with pytest.raises(bugzilla.BugzillaError) as raised:
        bugzilla.Bugzilla(rest_url, force_rest=True, api_key=key)
    assert raised.value.code == 306


def test_cli_query_by_product_lists_public_bugs_only(cli, bugs):
    result = cli("query", "--product", "CA Program")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"#{bugs['public_a'].number} " in out and "OCSP responder returned unknown" in out
    assert f"#{bugs['public_b'].number} " in out
    assert "Key compromise" not in out and "Private key found" not in out


def test_cli_query_by_id_status_component_and_whiteboard(cli, bugs):
    a, b = bugs["public_a"].number, bugs["public_b"].number
    result = cli("query", "--id", str(b), "--outputformat", "%{id}|%{status}|%{component}")
    assert result.stdout.splitlines() == [f"{b}|ASSIGNED|CA Certificate Compliance"], result.stderr
    result = cli("query", "--product", "CA Program", "--status", "ASSIGNED", "--whiteboard", "ocsp-failure", "--ids")
    assert result.stdout.split() == [str(a)], result.stderr
    result = cli("query", "--component", "CA Certificate Compliance", "--json")
    assert sorted(bug["id"] for bug in json.loads(result.stdout)["bugs"]) == sorted([a, b])


def test_cli_with_a_ca_reps_key_sees_that_cas_security_bug(cli, make_key, rep_a, bugs):
    result = cli("query", "--component", "CA Security Vulnerability", "--ids", api_key=make_key(rep_a))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(bugs["secret_a"].number)]
    assert cli("query", "--component", "CA Security Vulnerability", "--ids").stdout.split() == []
