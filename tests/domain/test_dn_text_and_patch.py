"""Pure helpers of issue 14: names written as text (pki.dn_text) and strict unified-diff application (pki.patch)."""

from __future__ import annotations

import pytest

from pki.certdata import unified_diff
from pki.dn_text import DnTextError, name_keys, parse_dn_text
from pki.names import name_key
from pki.patch import PatchError, apply_unified_diff
from tests.distrust.distrust_helpers import FIXTURES
from tests.domain import certgen


@pytest.mark.parametrize("text", [
    'CN="Acme Root, Inc. R3",O=Rootwatch Test,C=US',  # NSS / RFC 4514 order, quoted
    "CN=Acme Root\\, Inc. R3, O=Rootwatch Test, C=US",  # escaped comma
    "C = US, O = Rootwatch Test, CN = Acme Root, Inc. R3",  # OpenSSL's, unescaped comma
    "/C=US/O=Rootwatch Test/CN=acme  root, inc. r3",  # slash form, other case and spacing
    "commonName=Acme Root\\2C Inc. R3;organizationName=ROOTWATCH TEST;countryName=us",  # long names, hex escape
])
def test_a_name_written_as_text_has_the_key_of_its_der(text):
    der = certgen.root("Acme Root, Inc. R3").parsed().subject_der
    assert name_key(der) in name_keys(text)


def test_another_name_does_not_match_and_nonsense_is_refused():
    der = certgen.root("Acme Root").parsed().subject_der
    assert name_key(der) not in name_keys("CN=Acme Root 2, O=Rootwatch Test, C=US")
    assert name_key(der) not in name_keys("CN=Acme Root, O=Rootwatch Test")
    assert parse_dn_text("CN=a+OU=b, C=US") == [[("2.5.4.3", "a"), ("2.5.4.11", "b")], [("2.5.4.6", "US")]]
    for bad in ("", "just words", "XYZZY=1, CN=a"):
        with pytest.raises(DnTextError):
            name_keys(bad)


def test_the_real_certdata_diff_between_two_nss_versions_applies_and_a_wrong_base_is_refused():
    old = (FIXTURES / "nss" / "certdata_v2.54_2022-03-23.txt").read_text(encoding="utf-8")
    new = (FIXTURES / "nss" / "certdata_v2.80_2025-06-08.txt").read_text(encoding="utf-8")
    diff = unified_diff(old, new)
    assert apply_unified_diff(old, diff) == new
    with pytest.raises(PatchError, match=r"hunk 1 does not apply at line \d+: the diff expects"):
        apply_unified_diff(new, diff)
    assert apply_unified_diff(old, "") == old


@pytest.mark.parametrize(("a", "b"), [("x\ny", "x\ny\nz"), ("a\nb\nc\n", "a\nc"), ("", "a\n"), ("a\n", ""),
                                      ("a\nb", "a\nB")])
def test_edge_cases_round_trip(a, b):
    assert apply_unified_diff(a, unified_diff(a, b)) == b


def test_a_cut_diff_is_refused():
    diff = unified_diff("a\nb\nc\n", "a\nB\nc\n")
    with pytest.raises(PatchError, match="hunk 1 is cut short"):
        apply_unified_diff("a\nb\nc\n", diff.rsplit("\n", 2)[0] + "\n")
