"""SQLite's FTS5: an external-content table over the search documents (kept in step by
triggers), MATCH restricted to the columns the reader may read, bm25 for the order, snippet()."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.domain.quicksearch import Term, fts5_text
from compliance.search.ddl import FTS_TABLE, MAX_CHARS, TABLE

OUTER_ID = '"compliance_incident"."id"'
PUBLIC_COLUMNS = ("title", "whiteboard", "public_text")
ALL_COLUMNS = (*PUBLIC_COLUMNS, "private_text")
_BODY = ("CASE WHEN rv.markdown IS NOT NULL AND rv.markdown <> c.body THEN c.body || char(10) || rv.markdown "
         "ELSE c.body END")


def _comments(private: bool) -> str:
    return (f"COALESCE((SELECT group_concat({_BODY}, char(10) || char(10)) FROM compliance_comment c "
            f"LEFT JOIN compliance_reportversion rv ON rv.comment_id = c.id "
            f"WHERE c.incident_id = i.id AND c.is_private = {1 if private else 0}), '')")


def _clean(expr: str) -> str:
    # char(1) and char(2) mark highlights in snippets: the stored text never holds them.
    return f"substr(replace(replace({expr}, char(1), ''), char(2), ''), 1, {MAX_CHARS})"


_UPSERT = f"""
INSERT INTO {TABLE} (incident_id, title, whiteboard, public_text, private_text)
SELECT i.id, {_clean('i.title')}, {_clean('i.whiteboard')}, {_clean(_comments(False))}, {_clean(_comments(True))}
FROM compliance_incident i WHERE {{where}}
ON CONFLICT (incident_id) DO UPDATE SET title = excluded.title, whiteboard = excluded.whiteboard,
    public_text = excluded.public_text, private_text = excluded.private_text
"""


def refresh(cursor, incident_ids: Sequence[int]) -> None:
    ids = [int(i) for i in incident_ids]
    marks = ", ".join("%s" for _ in ids)
    cursor.execute(_UPSERT.format(where=f"i.id IN ({marks})"), ids)
    cursor.execute(f"DELETE FROM {TABLE} WHERE incident_id IN ({marks}) AND incident_id NOT IN "
                   f"(SELECT id FROM compliance_incident WHERE id IN ({marks}))", ids + ids)


def rebuild(cursor) -> None:
    cursor.execute(f"DELETE FROM {TABLE}")
    cursor.execute(_UPSERT.format(where="1"))
    cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


def _columns(private: bool) -> tuple[str, ...]:
    return ALL_COLUMNS if private else PUBLIC_COLUMNS


def match_sql(terms: Sequence[Term], *, join: str, private: bool) -> tuple[str, list]:
    return (f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
            [fts5_text(terms, _columns(private), join=join)])


def rank_sql(terms: Sequence[Term], *, private: bool) -> tuple[str, list]:
    # bm25 is lower for better matches: negated, so that higher ranks first on both engines.
    return (f"(SELECT -bm25({FTS_TABLE}, 10.0, 4.0, 1.0, 1.0) FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s AND rowid = {OUTER_ID})", [fts5_text(terms, _columns(private))])


def snippet_sql(terms: Sequence[Term], *, private: bool) -> tuple[str, list]:
    # Column 2 (public_text) for readers of public comments only: snippet() never picks private_text.
    column = -1 if private else 2
    return (f"(SELECT snippet({FTS_TABLE}, {column}, char(1), char(2), ' … ', 24) FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s AND rowid = {OUTER_ID})", [fts5_text(terms, _columns(private))])
