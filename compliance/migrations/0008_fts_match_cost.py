"""PostgreSQL: tell the planner what matching a tsvector costs (issue 16).

`tsvector @@ tsquery` (ts_match_vq) is declared as cheap as `=`, but on a search document it
decompresses a vector of kilobytes: for a word found in many documents the planner then reads the
whole table (100,000 documents: 710 ms) instead of the GIN index (115 ms). COST 100 makes it read
the index. It changes this database's catalog only, and needs the database owner to be a superuser:
without that right nothing changes and the search still works, with slower plans for common words
(a DBA can run the statement below). SQLite: nothing to do.
"""

from django.db import migrations, transaction
from django.db.utils import DatabaseError

STATEMENT = "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) COST {cost}"


def _set(schema_editor, cost: int) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(STATEMENT.format(cost=cost))
    except DatabaseError:  # not a superuser: the planner keeps its default
        pass


def forward(apps, schema_editor):
    _set(schema_editor, 100)


def backward(apps, schema_editor):
    _set(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0007_fts_search"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
