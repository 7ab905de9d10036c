"""Benchmark: full-text search (compliance.search) at the scale of the database it is given.

    .venv/bin/python bench/bench_search.py [--database-url URL] [--repeat N]

Reads the database as it is (fill one first: `manage.py generate_data --incidents 100000`), builds
the search documents if some incidents have none, then times what the incident list does for a
search: the count and the first page of 50 rows with rank and highlighted snippet, for an anonymous
reader (public comments) and for staff (private comments too), over a set of queries (common and
rare words, two words, a phrase, an exclusion, a field prefix). Prints the median per query, the
median of all, and whether PostgreSQL's plan reads the GIN index. Writes nothing but the documents.
The database is DATABASE_URL (default postgres://postgres@127.0.0.1:5432/rw_bench).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = [
    "revocation",
    "delayed revocation",
    '"audit statement"',
    "ocsp responder",
    "certificate -ocsp",
    "whiteboard:crl-failure revocation",
    "OPEN misissuance",
    "zzyzx",  # matches nothing
]
PAGE = 50


def _setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _time(fn, repeat: int) -> tuple[float, object]:
    fn()  # warm
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                        or "postgres://postgres@127.0.0.1:5432/rw_bench")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (default 7)")
    args = parser.parse_args(argv)
    _setup(args.database_url)

    from django.contrib.auth.models import AnonymousUser
    from django.db import connection, transaction

    from accounts.models import User
    from compliance import search
    from compliance.models import Comment, Incident
    from compliance.search import index
    from compliance.search.ddl import TABLE

    incidents, comments = Incident.objects.count(), Comment.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        documents = cursor.fetchone()[0]
    print(f"database: {connection.vendor}, {incidents:,} incidents, {comments:,} comments, {documents:,} search documents")
    if incidents == 0:
        print("nothing to search: fill the database first (manage.py generate_data --incidents N)")
        return 1
    if documents != incidents:
        start = time.perf_counter()
        with transaction.atomic():
            index.rebuild()
        print(f"search documents rebuilt in {time.perf_counter() - start:.1f} s")

    staff = User.objects.filter(is_staff=True).first() or User(username="bench-staff", is_staff=True, pk=0)
    readers = [("anonymous", AnonymousUser()), ("staff", staff)]
    medians = []
    for label, user in readers:
        visible = Incident.objects.visible_to(user)
        for text in QUERIES:
            def run(text=text, user=user, visible=visible):
                qs = search.search(visible, text, user=user)
                if "search_rank" in qs.query.annotations:
                    qs = qs.order_by("-search_rank", "-number")
                else:
                    qs = qs.order_by("-number")
                total = qs.count()
                rows = list(qs[:PAGE])
                search.attach_highlights(rows)
                return total, sum(1 for r in rows if r.search_snippet_html)

            median, (total, snippets) = _time(run, args.repeat)
            medians.append(median)
            print(f"  {label:9} {text!r:40} {total:>8,} found  {snippets:>3} snippets  median {median:8.1f} ms")
    print(f"search median over all queries and readers: {statistics.median(medians):.1f} ms "
          f"(max {max(medians):.1f} ms) at {incidents:,} incidents, {comments:,} comments")

    if connection.vendor == "postgresql":
        qs = search.search(Incident.objects.visible_to(AnonymousUser()), "ocsp responder", user=AnonymousUser())
        plan = qs.explain()
        uses = f"{TABLE}_public_gin" in plan
        print(f"plan of 'ocsp responder' reads the GIN index: {'yes' if uses else 'NO'}")
        if not uses:
            print(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
