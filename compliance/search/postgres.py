"""PostgreSQL's own text search: websearch_to_tsquery over the generated tsvector columns (GIN
indexed), ts_rank for the order (half the cost of ts_rank_cd, which reads every position), ts_headline for the snippet."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.domain.quicksearch import Term, websearch_text
from compliance.search.ddl import CONFIG, MAX_CHARS, POSTGRES_INDEXES, TABLE

OUTER_ID = '"compliance_incident"."id"'
# Report versions are comments of a report kind with the report's text; a version whose text
# differs from its comment's (none do when posted through the actions) is added after it.
_BODY = ("CASE WHEN rv.markdown IS NOT NULL AND rv.markdown <> c.body THEN c.body || E'\\n' || rv.markdown "
         "ELSE c.body END")


def _comments(private: bool) -> str:
    return (f"COALESCE((SELECT string_agg({_BODY}, E'\\n\\n' ORDER BY c.id) FROM compliance_comment c "
            f"LEFT JOIN compliance_reportversion rv ON rv.comment_id = c.id "
            f"WHERE c.incident_id = i.id AND {'' if private else 'NOT '}c.is_private), '')")


def _clean(expr: str) -> str:
    # chr(1) and chr(2) mark highlights in snippets: the stored text never holds them.
    return f"left(translate({expr}, chr(1) || chr(2), ''), {MAX_CHARS})"


_UPSERT = f"""
INSERT INTO {TABLE} (incident_id, title, whiteboard, public_text, private_text)
SELECT i.id, {_clean('i.title')}, {_clean('i.whiteboard')}, {_clean(_comments(False))}, {_clean(_comments(True))}
FROM compliance_incident i {{where}}
ON CONFLICT (incident_id) DO UPDATE SET title = EXCLUDED.title, whiteboard = EXCLUDED.whiteboard,
    public_text = EXCLUDED.public_text, private_text = EXCLUDED.private_text
"""


def refresh(cursor, incident_ids: Sequence[int]) -> None:
    cursor.execute(_UPSERT.format(where="WHERE i.id = ANY(%s)"), [list(incident_ids)])
    cursor.execute(f"DELETE FROM {TABLE} d WHERE d.incident_id = ANY(%s) AND NOT EXISTS "
                   f"(SELECT 1 FROM compliance_incident i WHERE i.id = d.incident_id)", [list(incident_ids)])


def rebuild(cursor) -> None:
    # The GIN indexes are built once over all rows (much faster than row by row), then kept.
    for vector in ("public", "full"):
        cursor.execute(f"DROP INDEX IF EXISTS {TABLE}_{vector}_gin")
    cursor.execute(f"TRUNCATE {TABLE}")
    cursor.execute(_UPSERT.format(where=""))
    for statement in POSTGRES_INDEXES:
        cursor.execute(statement)
    settle(cursor)


def settle(cursor) -> None:
    """Move the GIN indexes' pending entries (fast update) into the index proper and refresh the
    statistics, as autovacuum would: after a bulk write, plans then see what the index holds."""
    for vector in ("public", "full"):
        cursor.execute(f"SELECT gin_clean_pending_list('{TABLE}_{vector}_gin'::regclass)")
    cursor.execute(f"ANALYZE {TABLE}")


def _vector(private: bool) -> str:
    return "full_vector" if private else "public_vector"


def _tsquery() -> str:
    return f"websearch_to_tsquery('{CONFIG}', %s)"


def match_sql(terms: Sequence[Term], *, join: str, private: bool) -> tuple[str, list]:
    return (f"SELECT incident_id FROM {TABLE} WHERE {_vector(private)} @@ {_tsquery()}",
            [websearch_text(terms, join=join)])


def rank_sql(terms: Sequence[Term], *, private: bool) -> tuple[str, list]:
    # Weights D, C, B, A; normalisation 1 divides by 1 + log(length): a long thread that mentions a
    # word once ranks below a title that names it.
    return (f"(SELECT ts_rank('{{0.05, 0.2, 0.4, 1.0}}', d.{_vector(private)}, {_tsquery()}, 1) "
            f"FROM {TABLE} d WHERE d.incident_id = {OUTER_ID})", [websearch_text(terms)])


_HEADLINE_OPTIONS = ("'StartSel=' || chr(1) || ', StopSel=' || chr(2) || "
                     "', MaxWords=28, MinWords=10, MaxFragments=2, FragmentDelimiter=\" … \"'")


def snippet_sql(terms: Sequence[Term], *, private: bool) -> tuple[str, list]:
    text = "d.whiteboard || E'\\n' || d.public_text" + (" || E'\\n' || d.private_text" if private else "")
    return (f"(SELECT ts_headline('{CONFIG}', {text}, {_tsquery()}, {_HEADLINE_OPTIONS}) "
            f"FROM {TABLE} d WHERE d.incident_id = {OUTER_ID})", [websearch_text(terms)])
