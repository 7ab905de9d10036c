"""The whiteboard parser against every real compliance bug and each messy variant."""

from __future__ import annotations

import collections
import json
import re
from datetime import date
from pathlib import Path

import pytest

from compliance.domain.whiteboard import (
    KNOWN_TAGS,
    TAG_ALIASES,
    WhiteboardError,
    parse_whiteboard,
    parse_whiteboard_date,
)

# The one copy, beside the demo that loads it (compliance/demo_data/SOURCE.md).
FIXTURE = Path(__file__).resolve().parent.parent.parent / "compliance" / "demo_data" / "ca_compliance_bugs_2014-2026.json"


@pytest.fixture(scope="module")
def bugs() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _bracketed_tokens(text: str) -> list[str]:
    return re.findall(r"\[[^\[\]]*\]", text)


def _meaning(token: str) -> str:
    return re.sub(r"[\s_]+", "-", token.strip("[]").strip().lower())


def test_every_real_whiteboard_parses_and_accounts_for_every_bracketed_token(bugs):
    assert len(bugs) == 1688
    unknown = collections.Counter()
    for bug in bugs:
        board = parse_whiteboard(bug["whiteboard"])
        for token in _bracketed_tokens(bug["whiteboard"]):
            meaning = TAG_ALIASES.get(_meaning(token), _meaning(token))
            is_date = meaning.startswith(("close-on", "next-update"))
            assert (
                meaning in board.tags or token in board.unknown or is_date
            ), f"bug {bug['id']}: {token!r} neither a tag nor reported unknown"
        assert set(board.tags) <= set(KNOWN_TAGS)
        unknown.update(board.unknown)
    top = unknown.most_common(5)
    print(f"\n{len(unknown)} distinct unknown tokens; top: {top}")
    assert len(unknown) == 15
    assert top[0] == ("[external]", 37)
    assert unknown["[covid-19]"] == 10


def test_real_whiteboards_yield_the_dates_and_flags_they_contain(bugs):
    boards = [parse_whiteboard(b["whiteboard"]) for b in bugs]
    with_next_update = [b for b in bugs if re.search("next update", b["whiteboard"], re.I)]
    with_close_on = [b for b in bugs if "close on" in b["whiteboard"]]
    assert sum(b.next_update is not None for b in boards) == len(with_next_update) == 77
    assert sum(b.close_on is not None for b in boards) == len(with_close_on) == 9
    assert not any("(" in item for board in boards for item in board.unknown), "a real date failed"
    delayed = [b for b in bugs if "revocation-delay" in b["whiteboard"]]
    assert sum(board.revocation_delay for board in boards) == len(delayed) == 158


def test_bug_with_missing_opening_bracket_still_gets_its_tag(bugs):
    bug = next(b for b in bugs if b["id"] == 1606031)
    assert bug["whiteboard"] == "[ca-compliance] audit-finding]"
    assert parse_whiteboard(bug["whiteboard"]).tags == ("ca-compliance", "audit-finding")


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("[disclosure failure]", "disclosure-failure"),
        ("[ca compliance]", "ca-compliance"),
        ("[CA-Compliance]", "ca-compliance"),
        ("[ ov-misissuance ]", "ov-misissuance"),
        ("[dv_misissuance]", "dv-misissuance"),
        ("[Disclosure  Failure]", "disclosure-failure"),
        ("[s/mime-misissuance]", "smime-misissuance"),
        ("[delayed-revocation-leaf]", "leaf-revocation-delay"),
        ("[delayed-revocation-ca]", "ca-revocation-delay"),
    ],
)
def test_messy_tag_spellings_map_to_the_canonical_tag(text, tag):
    assert parse_whiteboard(text).tags == (tag,)


def test_old_delayed_revocation_tags_set_revocation_delay():
    assert parse_whiteboard("[ca-compliance] [delayed-revocation-ca]").revocation_delay
    assert not parse_whiteboard("[ca-compliance] [ov-misissuance]").revocation_delay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Next update 2023-03-30", date(2023, 3, 30)),
        ("[ca-compliance] Next update 2023-04-28 ", date(2023, 4, 28)),
        ("next update 3-1-2023", date(2023, 3, 1)),  # month first: US staff convention
        ("Next update 31-10-2023", date(2023, 10, 31)),  # 31 can only be a day
        ("Next Update: 01-Nov-2023", date(2023, 11, 1)),
        ("Next update 2-Oct-2023", date(2023, 10, 2)),
        ("Next update 2023-Oct-27", date(2023, 10, 27)),
        ("Next update at 23.2.2024", date(2024, 2, 23)),  # dotted: day first
        ("Next update 3/1/23", date(2023, 3, 1)),
        ("Next update Nov 1, 2023", date(2023, 11, 1)),
        ("[Next update 2024-06-30]", date(2024, 6, 30)),
    ],
)
def test_next_update_date_variants_are_read(text, expected):
    board = parse_whiteboard(text)
    assert board.next_update == expected
    assert board.unknown == ()


def test_close_on_date_is_read_in_any_position():
    board = parse_whiteboard(" [close on 2026-03-06] [ca-compliance] [dv-misissuance]")
    assert board.close_on == date(2026, 3, 6)
    assert board.tags == ("ca-compliance", "dv-misissuance")


def test_unreadable_date_is_reported_with_its_reason_instead_of_raising():
    board = parse_whiteboard("[ca-compliance] Next update 2023-02-30")
    assert board.next_update is None
    assert board.unknown == ("Next update 2023-02-30 (day is out of range for month)",)


def test_next_update_without_a_date_is_reported():
    assert parse_whiteboard("Next update").unknown == ("Next update (no date)",)


def test_date_without_year_needs_today_and_takes_the_nearest_year():
    assert parse_whiteboard("Next update Jan 5").unknown == ("Next update Jan 5 (no year given)",)
    assert parse_whiteboard("Next update Jan 5", today=date(2023, 12, 20)).next_update == date(2024, 1, 5)
    assert parse_whiteboard("Next update Jan 5", today=date(2023, 2, 1)).next_update == date(2023, 1, 5)


def test_unknown_bracketed_tokens_and_free_text_are_kept():
    board = parse_whiteboard("[ca-compliance] [covid-19] Expired CRLs [verif?]")
    assert board.tags == ("ca-compliance",)
    assert board.unknown == ("[covid-19]", "Expired CRLs", "[verif?]")


def test_unclosed_bracket_is_read_as_free_text():
    board = parse_whiteboard("[ca-compliance [ocsp-failure] Next update 2024-01-31")
    assert board.tags == ("ca-compliance", "ocsp-failure")
    assert board.next_update == date(2024, 1, 31)


def test_two_different_next_update_dates_keep_the_later_written_and_report_the_other():
    board = parse_whiteboard("Next update 2024-01-01 Next update 2024-02-01")
    assert board.next_update == date(2024, 2, 1)
    assert board.unknown == ("Next update 2024-02-01 (replaces earlier date 2024-01-01)",)


def test_duplicate_tags_are_listed_once():
    assert parse_whiteboard("[ca-compliance] [CA compliance]").tags == ("ca-compliance",)


def test_empty_whiteboard_gives_an_empty_result():
    board = parse_whiteboard("")
    assert (board.tags, board.unknown, board.next_update, board.close_on) == ((), (), None, None)


def test_non_text_input_raises_whiteboard_error():
    with pytest.raises(WhiteboardError, match="must be text"):
        parse_whiteboard(None)  # type: ignore[arg-type]


def test_parse_whiteboard_date_explains_an_unreadable_date():
    with pytest.raises(WhiteboardError, match="'13-13-2023'"):
        parse_whiteboard_date("13-13-2023")
