"""config.stale on its own: the three-way merge, If-Match parsing and versions (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import RequestFactory

from config import stale
from config.errors import DomainError, PreconditionFailed

BASE = {"title": "Old", "status": "NEW", "whiteboard": ""}


def test_fields_left_as_they_were_are_not_written_and_untouched_collisions_merge():
    current = {**BASE, "status": "ASSIGNED"}  # someone else changed the status meanwhile
    kept = stale.merge(current=current, base=BASE, proposed={"title": "Mine", "status": "NEW", "whiteboard": ""})
    assert kept == {"title": "Mine"}


def test_the_same_change_made_by_both_is_no_conflict():
    current = {**BASE, "title": "Same"}
    assert stale.merge(current=current, base=BASE, proposed={"title": "Same"}) == {"title": "Same"}


def test_a_field_both_changed_differently_is_a_conflict_with_both_values_and_who():
    current = {**BASE, "title": "Theirs"}
    with pytest.raises(stale.EditConflict) as caught:
        stale.merge(current=current, base=BASE, proposed={"title": "Mine", "whiteboard": "[x]"},
                    changed_by=lambda field: "alice")
    conflict = caught.value.conflicts["title"]
    assert (conflict.base, conflict.yours, conflict.current, conflict.by) == ("Old", "Mine", "Theirs", "alice")
    assert list(caught.value.conflicts) == ["title"] and caught.value.http_status == 409
    assert caught.value.version == stale.version_of(current)


def test_without_base_or_version_everything_is_written_unchecked():
    assert stale.merge(current={**BASE, "title": "Theirs"}, proposed={"title": "Mine"}) == {"title": "Mine"}


def test_a_stale_version_is_a_412_naming_the_current_one():
    current = {**BASE, "title": "Theirs"}
    assert stale.merge(current=current, proposed={"title": "x"}, base_version=stale.version_of(current))
    with pytest.raises(PreconditionFailed) as caught:
        stale.merge(current=current, proposed={"title": "x"}, base_version=stale.version_of(BASE))
    assert caught.value.http_status == 412 and caught.value.headers["ETag"] == stale.etag(stale.version_of(current))


def test_versions_compare_values_not_types_and_ignore_sub_second_noise():
    when = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert stale.version_of({"at": when}) == stale.version_of({"at": when.replace(microsecond=0)})
    assert stale.canonical({"d": date(2025, 3, 1), "s": {3, 1}}) == {"d": "2025-03-01", "s": [1, 3]}
    assert stale.version_of(BASE) != stale.version_of({**BASE, "title": "Other"})


@pytest.mark.parametrize("header, expected", [
    (None, None), ("*", None), ('"abc"', ("abc",)), ('"a", "b"', ("a", "b")), ('W/"abc"', ("",)),
])
def test_if_match_names_strong_tags_only(header, expected):
    extra = {"HTTP_IF_MATCH": header} if header is not None else {}
    assert stale.if_match(RequestFactory().patch("/", **extra)) == expected


def test_an_unquoted_if_match_is_a_400_naming_the_header():
    with pytest.raises(DomainError) as caught:
        stale.if_match(RequestFactory().patch("/", HTTP_IF_MATCH="abc"))
    assert "If-Match" in caught.value.errors


def test_a_damaged_page_base_is_a_400_and_a_missing_one_means_unchecked():
    assert stale.base_from({}) is None and stale.base_from({"base": ""}) is None
    assert stale.base_from({"base": stale.encode_base(BASE)}) == BASE
    for damaged in ("{", "[1]", "3"):
        with pytest.raises(DomainError) as caught:
            stale.base_from({"base": damaged})
        assert "base" in caught.value.errors
