"""Benchmark: the CA registry on a real database.

Imports every certificate of CCADB's AllCertificatePEMsCSVFormat files (10,229 rows) with
issuer links and cross-sign groups, then NSS certdata.txt v2.86 as the root store, and times
path finding on the database for the slowest certificates.

    .venv/bin/python bench/bench_registry.py [--data ../shared/data]

The database is DATABASE_URL (default postgres://postgres@127.0.0.1:5432/rw_bench); the run
creates and drops its own `test_<name>` database, so nothing else is touched. Targets: over
1,000 certificates/s for the import, under 50 ms for all paths of the slowest certificate.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    # Build the schema from the models, as the tests do (--nomigrations).
    from django.apps import apps

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    return connection, old_name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="the shared data folder")
    ap.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/rw_bench",
    )
    args = ap.parse_args(argv)
    pem_dir = args.data / "ccadb" / "all_certificate_pems"
    nss_file = args.data / "nss" / "certdata_v2.86_2026-04-09.txt"
    files = sorted(pem_dir.glob("AllCertificatePEMsCSVFormat*.csv"))
    if not files or not nss_file.exists():
        print(f"bench_registry: no CCADB PEM CSVs in {pem_dir} or no {nss_file}; skipped", file=sys.stderr)
        return 0

    connection, old_name = _setup(args.database_url)
    try:
        return _run(files, nss_file, connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _run(files, nss_file, connection) -> int:
    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from pki.paths import find_paths
    from registry.actions import certdata_import, certificates_import
    from registry.management.commands.import_certificates import collect
    from registry.models import Certificate, IssuerLink
    from registry.selectors import path_details, trust_graph

    print(f"database              {connection.vendor} ({connection.settings_dict['NAME']}), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    t0 = time.perf_counter()
    # As import_certificates reads them.
    items, errors = collect([str(f) for f in files])
    assert not errors, errors
    parsed = [c for c, _source in items]
    t_parse = time.perf_counter() - t0
    t1 = time.perf_counter()
    summary = certificates_import(actor=None, items=items)
    t_store = time.perf_counter() - t1
    total = t_parse + t_store
    groups = Certificate.objects.values("cross_sign_key").distinct().count()
    print(f"certificates          {len(parsed)} rows in {len(files)} files, {summary.created} stored, "
          f"{summary.repeated_in_input} repeated")
    print(f"parse                 {t_parse:.2f} s ({len(parsed) / t_parse:,.0f} certs/s)")
    print(f"store + link          {t_store:.2f} s ({len(parsed) / t_store:,.0f} certs/s)")
    print(f"import total          {total:.2f} s ({len(parsed) / total:,.0f} certs/s)   target > 1,000/s")
    print(f"issuer links          {IssuerLink.objects.count()}")
    print(f"cross-sign groups     {groups}")

    t2 = time.perf_counter()
    nss = certdata_import(actor=None, text=nss_file.read_bytes(), source=str(nss_file))
    print(f"import_certdata v2.86 {time.perf_counter() - t2:.2f} s ({nss.entries_created} entries, "
          f"{nss.certificates.created} new certificates)")

    t3 = time.perf_counter()
    graph = trust_graph()
    print(f"trust_graph()         {(time.perf_counter() - t3) * 1000:.0f} ms "
          f"({len(graph.certs)} certs, {len(graph.anchors)} anchors)")

    gc.collect()
    gc.freeze()
    # Rank every certificate by its in-memory path search, then time the database search
    # (paths_for / path_details: links read level by level, verdicts for both purposes) on
    # the slowest and the biggest ones.
    ranked = []
    for sha in graph.certs:
        s = time.perf_counter()
        n = len(find_paths(sha, graph.parents, graph.anchors, group_of=graph.groups))
        ranked.append((time.perf_counter() - s, n, sha))
    with_paths = sum(1 for _t, n, _s in ranked if n)
    print(f"in-memory find_paths  {sum(t for t, _n, _s in ranked):.2f} s for all; "
          f"{with_paths} certificates reach an NSS anchor")
    candidates = sorted(ranked, reverse=True)[:10] + sorted(ranked, key=lambda r: -r[1])[:10]
    by_sha = Certificate.objects.in_bulk([c[2] for c in candidates], field_name="sha256")
    db_times = []
    for _t, n, sha in candidates:
        cert = by_sha[sha]
        best = float("inf")
        for _ in range(3):
            s = time.perf_counter()
            details = path_details(cert)
            best = min(best, time.perf_counter() - s)
        assert len(details) == n, (sha, len(details), n)
        db_times.append((best, n, sha))
    slowest = max(db_times)
    sample = [r[2] for r in ranked[:: max(1, len(ranked) // 300)]]
    sample_certs = Certificate.objects.in_bulk(sample, field_name="sha256")
    sample_times = []
    for sha in sample:
        s = time.perf_counter()
        path_details(sample_certs[sha])
        sample_times.append(time.perf_counter() - s)
    print(f"paths on DB slowest   {slowest[0] * 1000:.1f} ms for {slowest[1]} paths ({slowest[2][:16]}...)   target < 50 ms")
    print(f"paths on DB median    {statistics.median(sample_times) * 1000:.2f} ms ({len(sample)} certificates sampled)")

    client = Client()
    counts = []
    for size in (10, 200):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/certificates/?page_size={size}")
        assert response.status_code == 200, response.content[:200]
        counts.append(len(ctx.captured_queries))
    page_counts = []
    for page in (1, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/certificates/?page={page}")
        assert response.status_code == 200
        page_counts.append(len(ctx.captured_queries))
    print(f"API list queries      {counts[0]} (10 per page), {counts[1]} (200 per page)")
    print(f"list page queries     {page_counts[0]} (page 1), {page_counts[1]} (page 50)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
