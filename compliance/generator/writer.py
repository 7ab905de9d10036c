"""Fast bulk writes for the data generator: PostgreSQL COPY, SQLite batched INSERTs.

Rows are tuples in the order of the table's columns, with ids given by the generator (so rows of
other tables can point at them before anything is written). Values are Python values: None, bool,
int, str, bytes, date, datetime (aware), and dict/list (or str) for JSON columns.
"""

from __future__ import annotations

import io
import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, models

__all__ = ["TableWriter", "Sink"]

FLUSH_ROWS = 20_000


def _copy_text(value: Any) -> str:
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def _json_text(value: Any) -> str:
    return _copy_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


class TableWriter:
    """One table's pending rows; `Sink.flush` writes them in pages of FLUSH_ROWS."""

    def __init__(self, sink: Sink, table: str, columns: Sequence[models.Field | str], model: type[models.Model] | None):
        self.sink = sink
        self.table = table
        self.model = model
        self.fields: list[models.Field | None] = []
        self.columns: list[str] = []
        for column in columns:
            field = model._meta.get_field(column) if model is not None and isinstance(column, str) else column
            if isinstance(field, models.Field):
                self.fields.append(field)
                self.columns.append(field.column)
            else:
                self.fields.append(None)
                self.columns.append(str(column))
        self.is_json = [isinstance(f, models.JSONField) for f in self.fields]
        self.rows: list[tuple] = []
        # Rows held before a write: fewer for tables of long text (reports hold whole CSVs), so memory stays flat.
        self.limit = FLUSH_ROWS
        self.written = 0
        self.seconds = 0.0

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.limit:
            self.flush()

    def extend(self, rows) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        if not self.rows:
            return
        # Rows this table points at go first: foreign keys are checked as each COPY runs.
        for target in self._targets():
            if target is not self:
                target.flush()
        rows, self.rows = self.rows, []
        if connection.vendor == "postgresql":
            self.sink.submit(self, self._copy_buffer(rows), len(rows))
        else:
            started = time.perf_counter()
            self._insert(rows)
            self.written += len(rows)
            self.seconds += time.perf_counter() - started

    def _targets(self) -> list[TableWriter]:
        if self.model is None:
            return []
        names = {f.related_model._meta.db_table for f in self.model._meta.concrete_fields
                 if f.is_relation and f.related_model is not None}
        return [self.sink.tables[n] for n in sorted(names) if n in self.sink.tables]

    def _copy_buffer(self, rows: list[tuple]) -> io.StringIO:
        if any(self.is_json):
            converters = [_json_text if j else _copy_text for j in self.is_json]
            lines = ["\t".join([c(v) for c, v in zip(converters, row, strict=True)]) for row in rows]
        else:
            lines = ["\t".join([_copy_text(v) for v in row]) for row in rows]
        return io.StringIO("\n".join(lines) + "\n")

    def copy_sql(self) -> str:
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        return f"COPY {connection.ops.quote_name(self.table)} ({columns}) FROM STDIN"

    def _insert(self, rows: list[tuple]) -> None:
        preps: list[Callable[[Any], Any]] = []
        for field in self.fields:
            if field is None:
                preps.append(lambda v: v)
            else:
                preps.append(lambda v, f=field: f.get_db_prep_save(v, connection))
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        marks = ", ".join("%s" for _ in self.columns)
        sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({columns}) VALUES ({marks})"
        prepared = [tuple(p(v) for p, v in zip(preps, row, strict=True)) for row in rows]
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), 5000):
                cursor.executemany(sql, prepared[start:start + 5000])


class Sink:
    """The tables one run writes, and the next free id of each (ids are given, not drawn from sequences)."""

    def __init__(self) -> None:
        self.tables: dict[str, TableWriter] = {}
        self.next_ids: dict[str, int] = {}
        self._jobs: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # PostgreSQL: COPY runs in a second thread on this connection while the generator builds the next
    # rows, so the server's work (indexes, TOAST, WAL) overlaps Python's. The main thread never uses
    # the connection while a COPY may be running: it calls drain() first.

    def submit(self, writer: TableWriter, buffer: io.StringIO, count: int) -> None:
        self._raise()
        if self._thread is None:
            connection.ensure_connection()
            raw = connection.connection
            self._jobs = queue.Queue(maxsize=3)
            self._thread = threading.Thread(target=self._copy_loop, args=(raw,), name="generate_data COPY",
                                            daemon=True)
            self._thread.start()
        self._jobs.put((writer, buffer, count))

    def _copy_loop(self, raw) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                writer, buffer, count = job
                if self._error is None:
                    started = time.perf_counter()
                    with raw.cursor() as cursor:
                        cursor.copy_expert(writer.copy_sql(), buffer, size=1 << 20)
                    writer.written += count
                    writer.seconds += time.perf_counter() - started
            except BaseException as exc:  # handed to the main thread by _raise()
                self._error = exc
            finally:
                self._jobs.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self.stop()
            raise error

    def drain(self) -> None:
        """Wait until every submitted COPY has run; re-raise its error in this thread."""
        if self._jobs is not None:
            self._jobs.join()
        self._raise()

    def stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
            self._jobs = None

    def table(self, model: type[models.Model], columns: Sequence[str], *, table: str | None = None,
              limit: int = FLUSH_ROWS) -> TableWriter:
        name = table or model._meta.db_table
        if name not in self.tables:
            self.tables[name] = TableWriter(self, name, columns, model if table is None else None)
            if table is not None:
                self.tables[name].fields = [None] * len(columns)
                self.tables[name].columns = list(columns)
                self.tables[name].is_json = [False] * len(columns)
            self.tables[name].limit = limit
        return self.tables[name]

    def lock_and_start_ids(self, models_: Sequence[type[models.Model]]) -> None:
        """Lock the tables against other writers (PostgreSQL) and read where each one's ids go on."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models_)
                cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
            for model in models_:
                table = model._meta.db_table
                cursor.execute(f"SELECT MAX({connection.ops.quote_name(model._meta.pk.column)}) "
                               f"FROM {connection.ops.quote_name(table)}")
                self.next_ids[table] = (cursor.fetchone()[0] or 0) + 1

    def new_id(self, model: type[models.Model]) -> int:
        table = model._meta.db_table
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def flush(self) -> None:
        for writer in self.tables.values():
            writer.flush()
        self.drain()

    def finish(self, models_: Sequence[type[models.Model]]) -> None:
        """Write what is left, move each PostgreSQL sequence past the ids given, refresh statistics."""
        self.flush()
        self.stop()
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in models_:
                table = connection.ops.quote_name(model._meta.db_table)
                column = model._meta.pk.column
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST(COALESCE(MAX({connection.ops.quote_name(column)}), 0), 1), "
                    f"MAX({connection.ops.quote_name(column)}) IS NOT NULL) FROM {table}",
                    [model._meta.db_table, column],
                )
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in self.tables))
