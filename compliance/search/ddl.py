"""The search document table and its full-text index, per database engine.

One row per incident in `compliance_search_document`: its title, its whiteboard, the text of its
public comments (reports included: a report version is posted as a comment of a report kind, with
the report's text; a version whose text differs from its comment is added) and the text of its
private comments. No Django model: the table's engine-specific parts (generated tsvector columns,
an FTS5 virtual table) are the point, so it is created here, by migration 0007_fts_search, and
written by compliance.search.index.

- PostgreSQL: two generated tsvector columns, each with a GIN index: `public_vector` (title
  weighted A, whiteboard B, public comments D) and `full_vector` (the same and private comments):
  a reader is matched against the one the private-comment rule lets them read.
- SQLite: an FTS5 external-content table over the document table, kept in step by triggers; a
  reader's MATCH names the columns they may read.

Migrations copy these statements (a migration must not change when this module does).
"""

from __future__ import annotations

TABLE = "compliance_search_document"
FTS_TABLE = "compliance_search_fts"
CONFIG = "english"
# A tsvector holds at most 1 MB: each column is cut to this many characters when written.
MAX_CHARS = 300_000

POSTGRES_INDEXES = [
    f"CREATE INDEX {TABLE}_public_gin ON {TABLE} USING gin (public_vector)",
    f"CREATE INDEX {TABLE}_full_gin ON {TABLE} USING gin (full_vector)",
]
POSTGRES_CREATE = [
    f"""CREATE TABLE {TABLE} (
        incident_id bigint PRIMARY KEY,
        title text NOT NULL DEFAULT '',
        whiteboard text NOT NULL DEFAULT '',
        public_text text NOT NULL DEFAULT '',
        private_text text NOT NULL DEFAULT '',
        public_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{CONFIG}'::regconfig, title), 'A')
            || setweight(to_tsvector('{CONFIG}'::regconfig, whiteboard), 'B')
            || setweight(to_tsvector('{CONFIG}'::regconfig, public_text), 'D')
        ) STORED,
        full_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{CONFIG}'::regconfig, title), 'A')
            || setweight(to_tsvector('{CONFIG}'::regconfig, whiteboard), 'B')
            || setweight(to_tsvector('{CONFIG}'::regconfig, public_text), 'D')
            || setweight(to_tsvector('{CONFIG}'::regconfig, private_text), 'D')
        ) STORED
    )""",
    *POSTGRES_INDEXES,
]
POSTGRES_DROP = [f"DROP TABLE IF EXISTS {TABLE}"]

_COLS = "title, whiteboard, public_text, private_text"
_NEW = "new.title, new.whiteboard, new.public_text, new.private_text"
_OLD = "old.title, old.whiteboard, old.public_text, old.private_text"
SQLITE_CREATE = [
    f"""CREATE TABLE {TABLE} (
        incident_id integer PRIMARY KEY,
        title text NOT NULL DEFAULT '',
        whiteboard text NOT NULL DEFAULT '',
        public_text text NOT NULL DEFAULT '',
        private_text text NOT NULL DEFAULT ''
    )""",
    f"""CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_COLS}, content='{TABLE}', content_rowid='incident_id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER {TABLE}_ai AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.incident_id, {_NEW}); END""",
    f"""CREATE TRIGGER {TABLE}_ad AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.incident_id, {_OLD}); END""",
    f"""CREATE TRIGGER {TABLE}_au AFTER UPDATE ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.incident_id, {_OLD});
        INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.incident_id, {_NEW}); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_ai", f"DROP TRIGGER IF EXISTS {TABLE}_ad", f"DROP TRIGGER IF EXISTS {TABLE}_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}", f"DROP TABLE IF EXISTS {TABLE}",
]
