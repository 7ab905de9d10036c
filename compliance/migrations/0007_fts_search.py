"""The full-text search documents (compliance.search.ddl): a table with generated tsvector columns
and GIN indexes on PostgreSQL, a table with an FTS5 index on SQLite; filled from the incidents,
comments and report versions already stored."""

from django.db import migrations

from compliance.search import ddl


def _statements(vendor: str, create: bool) -> list[str]:
    if vendor == "postgresql":
        return ddl.POSTGRES_CREATE if create else ddl.POSTGRES_DROP
    if vendor == "sqlite":
        return ddl.SQLITE_CREATE if create else ddl.SQLITE_DROP
    raise RuntimeError(f"full-text search needs PostgreSQL or SQLite, not {vendor}")


def forward(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, True):
        schema_editor.execute(sql)
    from compliance.search import postgres, sqlite

    engine = postgres if schema_editor.connection.vendor == "postgresql" else sqlite
    with schema_editor.connection.cursor() as cursor:
        engine.rebuild(cursor)


def backward(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, False):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0006_cc_saved_searches_owner_aliases"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
