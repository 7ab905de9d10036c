"""Fill a database with a realistic Rootwatch at a chosen scale (`manage.py generate_data`).

A benchmark fixture, not a feature: it writes rows directly (PostgreSQL COPY, SQLite batched
INSERTs) instead of going through each app's actions, which would take hours at 100,000 incidents.
What the actions would have derived is derived the same way here: certificate columns from the DER
(pki.x509, as registry import does), tags and `next_update` from the whiteboard
(compliance.domain.whiteboard), reports validated and rendered by compliance.domain.reports,
comment HTML by compliance.domain.markdown, and the cached deadline columns by
compliance.selectors.incident_deadlines, the function refresh_deadlines calls. Everything runs in
one transaction: a run that fails or is refused leaves the database as it was.

Deterministic: the same --seed and --as-of on an empty database give the same rows.
"""

from __future__ import annotations

import csv
import hashlib
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.db import connection, transaction

from accounts.models import User
from audits.models import (
    Auditor,
    AuditorQualification,
    AuditStatement,
    StatementCertificate,
    StatementCriterion,
    StatementFinding,
)
from compliance import selectors as sel
from compliance.domain import reports
from compliance.domain.whiteboard import parse_whiteboard
from compliance.generator.certificates import CertFactory, certificate_columns
from compliance.generator.content import STORIES, CommentPool, ReportMaker, affected_csv
from compliance.generator.writer import Sink
from compliance.models import (
    AffectedCertificate,
    Comment,
    Incident,
    IncidentHistory,
    IncidentRelation,
    IncidentTag,
    Question,
    ReportVersion,
)
from history.models import SYSTEM, Event
from registry.models import CAOwner, Certificate, IssuerLink, RootStoreEntry, der_key

__all__ = ["Options", "Refused", "generate"]

CCADB_CSV = (Path(__file__).resolve().parent.parent.parent / "registry" / "demo_data"
             / "ccadb_IncludedCACertificateReportForMSFTCSV_2025-10.csv")
FIRST_NUMBER = 1_000_001
AUDITORS = (
    ("BDO USA, P.C.", "US", "webtrust"), ("Schellman & Company, LLC.", "US", "webtrust"),
    ("Deloitte & Touche LLP", "US", "webtrust"), ("KPMG AG Wirtschaftspruefungsgesellschaft", "DE", "webtrust"),
    ("PricewaterhouseCoopers", "TW", "webtrust"), ("Ernst & Young", "CA", "webtrust"),
    ("TUV Informationstechnik GmbH", "DE", "etsi"), ("LSTI", "FR", "etsi"), ("ACAB Consulting", "FR", "etsi"),
    ("TUV AUSTRIA CERT GMBH", "AT", "etsi"), ("Auren", "ES", "etsi"), ("CSQA Certificazioni", "IT", "etsi"),
)


class Refused(Exception):
    """The database is not one this run may fill; nothing was written."""


@dataclass
class Options:
    incidents: int
    seed: int = 1
    certificates: int | None = None
    owners: int | None = None
    comments_per_incident: float = 10.0
    as_of: datetime | None = None
    append: bool = False
    password_hash: str | None = None


@dataclass
class Result:
    rows: dict[str, int] = field(default_factory=dict)
    write_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    first_number: int = 0
    last_number: int = 0


WRITTEN = (CAOwner, User, User.represented_owners.through, Certificate, IssuerLink, RootStoreEntry, Auditor,
           AuditorQualification, AuditStatement, StatementCriterion, StatementCertificate, StatementFinding,
           Incident, IncidentTag, IncidentRelation, Comment, Question, ReportVersion, AffectedCertificate,
           Incident.cc.through, Event)


def _owner_names() -> list[tuple[str, str]]:
    """(name, country) of each CA owner in the CCADB report beside registry's demo data."""
    found: dict[str, str] = {}
    with CCADB_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("CA Owner") or "").strip()
            country = next((p.strip()[2:] for p in (row.get("Subject") or "").split(";")
                            if p.strip().startswith("C=")), "")
            if name and name not in found:
                found[name] = country
    return sorted(found.items())


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isascii() and c.isalnum())[:20] or "ca"


class Generator:
    def __init__(self, options: Options, say: Callable[[str], None]) -> None:
        self.o = options
        self.say = say
        self.rng = random.Random(options.seed)
        self.as_of = (options.as_of or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.sink = Sink()
        self.started = time.perf_counter()
        self.comments = CommentPool()
        self.reports = ReportMaker()
        self.verified: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers

    def _progress(self, what: str, done: int, total: int, since: float) -> None:
        spent = time.perf_counter() - since
        rate = done / spent if spent > 0 else 0.0
        self.say(f"  {what}: {done:,}/{total:,} in {spent:.1f} s ({rate:,.0f}/s)")

    def _phase_done(self, what: str, rows: int, since: float) -> None:
        spent = time.perf_counter() - since
        self.say(f"{what}: {rows:,} rows in {spent:.1f} s ({rows / spent if spent else 0:,.0f} rows/s)")

    # ------------------------------------------------------------------ the run

    def run(self) -> Result:
        o = self.o
        if o.incidents < 0:
            raise Refused("--incidents must be 0 or more.")
        with transaction.atomic():
            self.sink.lock_and_start_ids(WRITTEN)
            existing = Incident.objects.count()
            if existing and not o.append:
                raise Refused(f"The database already holds {existing:,} incidents; generate_data fills an empty "
                              "one. Use --append to add to them, or point DATABASE_URL at another database.")
            top = Incident.objects.order_by("-number").values_list("number", flat=True).first()
            self.first_number = max(FIRST_NUMBER, (top or 0) + 1)
            if top:
                # A second run on the same database gets other keys, names and serials.
                self.rng = random.Random(f"{o.seed}:{self.first_number}")
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # A generated database is rebuilt, not recovered: no need to wait for the WAL flush.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    # Foreign keys checked as each COPY runs (in the writer thread, beside the generation)
                    # rather than all at COMMIT, where nothing overlaps them.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            try:
                self._owners()
                self._users()
                self._certificates()
                self._auditors()
                self._incidents()
                self._statements()
                t = time.perf_counter()
                self.sink.finish(WRITTEN)
            finally:
                self.sink.stop()
            self.say(f"final flush, sequences and ANALYZE: {time.perf_counter() - t:.1f} s")
        result = Result(rows={name: w.written for name, w in self.sink.tables.items()},
                        write_seconds={name: w.seconds for name, w in self.sink.tables.items()},
                        seconds=time.perf_counter() - self.started, first_number=self.first_number,
                        last_number=self.first_number + o.incidents - 1)
        return result

    # ------------------------------------------------------------------ registry

    def _owners(self) -> None:
        t = time.perf_counter()
        names = _owner_names()
        wanted = self.o.owners if self.o.owners is not None else len(names)
        while len(names) < wanted:
            names.append((f"Generated CA {len(names) + 1:04d}", "US"))
        names = names[:max(wanted, 1)]
        existing = {o.name: o for o in CAOwner.objects.filter(name__in=[n for n, _ in names])}
        used_ids = set(CAOwner.objects.exclude(ccadb_id=None).values_list("ccadb_id", flat=True))
        table = self.sink.table(CAOwner, ["id", "name", "ccadb_id", "country", "status", "created_at"])
        self.owners: list[dict] = []
        next_ccadb = 700000
        for name, country in names:
            if name in existing:
                row = existing[name]
                ccadb = row.ccadb_id
                if not ccadb:
                    ccadb = "A000000"  # only used inside reports, which need one
                self.owners.append({"id": row.pk, "name": name, "ccadb_id": ccadb, "country": row.country,
                                    "status": row.status, "slug": _slug(name), "new": False})
                continue
            while f"A{next_ccadb:06d}" in used_ids:
                next_ccadb += 1
            ccadb = f"A{next_ccadb:06d}"
            used_ids.add(ccadb)
            status = self.rng.choices(["included", "removed", "distrusted", "applying"], [88, 6, 2, 4])[0]
            owner_id = self.sink.new_id(CAOwner)
            table.add((owner_id, name, ccadb, country, status, self.as_of - timedelta(days=3650)))
            self.owners.append({"id": owner_id, "name": name, "ccadb_id": ccadb, "country": country,
                                "status": status, "slug": _slug(name), "new": True})
        # Some CAs file far more incidents than others.
        weights = [1 / (i + 1) ** 0.9 for i in range(len(self.owners))]
        self.rng.shuffle(weights)
        self.owner_weights = weights
        self._phase_done(f"CA owners ({sum(o['new'] for o in self.owners)} new)", table.written + len(table.rows), t)

    def _users(self) -> None:
        t = time.perf_counter()
        password = self.o.password_hash
        wanted: list[tuple[str, bool, int | None]] = [(f"gen-staff-{i}", True, None) for i in range(1, 9)]
        for index, owner in enumerate(self.owners):
            for k in range(1, 3 if index % 3 == 0 else 2):
                wanted.append((f"gen-rep-{index + 1:03d}-{owner['slug']}-{k}", False, owner["id"]))
        reviewers = max(10, min(500, self.o.incidents // 200))
        wanted += [(f"gen-reviewer-{i}", False, None) for i in range(1, reviewers + 1)]
        existing = dict(User.objects.filter(username__in=[w[0] for w in wanted]).values_list("username", "pk"))
        users = self.sink.table(User, ["id", "password", "last_login", "is_superuser", "username", "first_name",
                                       "last_name", "is_staff", "is_active", "date_joined", "email"])
        reps = self.sink.table(User.represented_owners.through, ["user", "caowner"])
        self.staff: list[int] = []
        self.reviewers: list[int] = []
        self.reps: dict[int, list[int]] = defaultdict(list)
        for username, is_staff, owner_id in wanted:
            uid = existing.get(username)
            if uid is None:
                uid = self.sink.new_id(User)
                secret = password or "!" + hashlib.sha256(f"{self.o.seed}:{username}".encode()).hexdigest()[:40]
                users.add((uid, secret, None, False, username, "", "", is_staff, True,
                           self.as_of - timedelta(days=3000), f"{username}@generated.example"))
                if owner_id is not None:
                    reps.add((uid, owner_id))
            if is_staff:
                self.staff.append(uid)
            elif owner_id is not None:
                self.reps[owner_id].append(uid)
            else:
                self.reviewers.append(uid)
        self._phase_done("users", len(users.rows) + users.written, t)

    def _certificates(self) -> None:
        t = time.perf_counter()
        total = self.o.certificates if self.o.certificates is not None else max(self.o.incidents, 200)
        owners = self.owners
        n_roots = max(len(owners), total // 100)
        n_inter = max(len(owners), total // 10)
        n_leaves = max(0, total - n_roots - n_inter)
        factory = CertFactory(self.rng)
        sample = None
        certs = None
        links = self.sink.table(IssuerLink, ["id", "child", "parent"])
        entries = self.sink.table(RootStoreEntry, [
            "id", "certificate", "label", "issuer_der", "serial_der", "issuer_key", "serial_hex", "trust_server",
            "trust_email", "trust_code", "trust_step_up", "server_distrust_after", "email_distrust_after",
            "created_at"])
        self.leaves: dict[int, list[tuple]] = defaultdict(list)
        self.ca_prints: dict[int, list[tuple[str, int]]] = defaultdict(list)
        made = 0

        def store(parsed, owner_id):
            nonlocal certs, sample, made
            values = certificate_columns(parsed, source="generate_data")
            if certs is None:
                sample = list(values)
                certs = self.sink.table(Certificate, ["id", *sample, "owner", "created_at"])
            cid = self.sink.new_id(Certificate)
            certs.add((cid, *(values[k] for k in sample), owner_id, self.as_of))
            made += 1
            if made % 20000 == 0:
                self._progress("certificates", made, total, t)
            return cid

        def spread(count: int) -> list[int]:
            shares = [count * w / sum(self.owner_weights) for w in self.owner_weights]
            ints = [max(1, int(s)) for s in shares]
            return ints

        start = self.as_of - timedelta(days=365 * 12)
        roots: dict[int, list] = defaultdict(list)
        all_roots = []
        for owner, k in zip(owners, spread(n_roots), strict=True):
            for i in range(1, min(k, 12) + 1):
                nb = start + timedelta(days=self.rng.randrange(0, 365 * 6))
                issued = factory.root(common_name=f"{owner['name'][:40]} Root CA {i}", organization=owner["name"],
                                      country=owner["country"], not_before=nb)
                cid = store(issued.parsed, owner["id"])
                roots[owner["id"]].append((cid, issued))
                all_roots.append((owner["id"], cid, issued))
                self.ca_prints[owner["id"]].append((issued.parsed.sha256, cid))
                p = issued.parsed
                trusted = owner["status"] == "included"
                trust = "CKT_NSS_TRUSTED_DELEGATOR" if trusted else "CKT_NSS_NOT_TRUSTED"
                entries.add((self.sink.new_id(RootStoreEntry), cid, p.label[:255], p.issuer_der, p.serial_der,
                             der_key(p.issuer_der), p.serial_hex, trust,
                             trust if self.rng.random() < 0.5 else "CKT_NSS_MUST_VERIFY_TRUST",
                             "CKT_NSS_MUST_VERIFY_TRUST", False, None, None, self.as_of))
        inters: dict[int, list] = defaultdict(list)
        for owner, k in zip(owners, spread(n_inter), strict=True):
            for i in range(1, k + 1):
                cid_root, root = self.rng.choice(roots[owner["id"]])
                nb = max(root.parsed.not_before, self.as_of - timedelta(days=self.rng.randrange(30, 365 * 9)))
                issued = factory.intermediate(common_name=f"{owner['name'][:40]} Issuing CA {i}",
                                              organization=owner["name"], country=owner["country"],
                                              parent=root, not_before=nb)
                cid = store(issued.parsed, owner["id"])
                links.add((self.sink.new_id(IssuerLink), cid, cid_root))
                inters[owner["id"]].append((cid, issued))
                self.ca_prints[owner["id"]].append((issued.parsed.sha256, cid))
                if len(all_roots) > 1 and self.rng.random() < 0.05:
                    other_owner, other_cid, other = self.rng.choice(all_roots)
                    if other_cid != cid_root:
                        cross = factory.intermediate(common_name="", organization="", country="", parent=other,
                                                     not_before=nb, same_as=issued)
                        xid = store(cross.parsed, owner["id"])
                        links.add((self.sink.new_id(IssuerLink), xid, other_cid))
        per_owner = spread(n_leaves) if n_leaves else [0] * len(owners)
        scale = n_leaves / max(1, sum(per_owner))
        for owner, k in zip(owners, per_owner, strict=True):
            k = int(k * scale) if scale < 1 else k
            pool = inters[owner["id"]]
            for i in range(k):
                cid_parent, parent = pool[self.rng.randrange(len(pool))]
                nb = self.as_of - timedelta(days=self.rng.randrange(1, 365 * 5), minutes=self.rng.randrange(1440))
                nb = max(nb, parent.parsed.not_before)
                days = self.rng.choice((90, 90, 198, 397))
                dns = f"host{i}.{owner['slug']}-{self.rng.randrange(10**6)}.example"
                p = factory.leaf(dns_name=dns, parent=parent, not_before=nb, days=days)
                cid = store(p, owner["id"])
                links.add((self.sink.new_id(IssuerLink), cid, cid_parent))
                self.leaves[owner["id"]].append((cid, p.sha256, p.subject_text, p.issuer_text, p.not_before,
                                                 p.not_after, p.serial_hex, dns))
        self.sink.flush()
        self._phase_done(f"certificates ({made:,}) with {links.written:,} issuer links and "
                         f"{entries.written:,} root store entries", made + links.written + entries.written, t)

    # ------------------------------------------------------------------ audits

    def _auditors(self) -> None:
        auditors = self.sink.table(Auditor, ["id", "name", "location", "website", "approval", "named_by_ca",
                                             "contact_name", "contact_email", "created_at", "updated_at"])
        quals = self.sink.table(AuditorQualification, [
            "id", "auditor", "scheme", "accrediting_body", "evidence_url", "method", "representative",
            "verified_by", "verified_by_name", "verified_on", "next_due", "notes", "created_at"])
        existing = dict(Auditor.objects.filter(name__in=[a[0] for a in AUDITORS]).values_list("name", "pk"))
        self.auditors: list[tuple[int, str]] = []
        for name, country, scheme in AUDITORS:
            aid = existing.get(name)
            if aid is None:
                aid = self.sink.new_id(Auditor)
                when = self.as_of - timedelta(days=2000)
                auditors.add((aid, name, country, "", "approved", False, "Verification desk",
                              f"verify@{_slug(name)}.example", when, when))
                for years_ago in (2, 1, 0):
                    verified = self.as_of.date() - timedelta(days=365 * years_ago + self.rng.randrange(200))
                    quals.add((self.sink.new_id(AuditorQualification), aid, scheme,
                               "CPA Canada" if scheme == "webtrust" else "DAkkS", "", "listed", "",
                               self.staff[0], "gen-staff-1", verified, verified + timedelta(days=365), "",
                               self.as_of))
            self.auditors.append((aid, scheme))

    def _statements(self) -> None:
        t = time.perf_counter()
        stmts = self.sink.table(AuditStatement, [
            "id", "ca_owner", "auditor", "source", "is_public", "kind", "period_start", "period_end",
            "statement_date", "url", "file", "verification", "unverified_since", "verification_requests_sent",
            "verification_last_sent_at", "verified_at", "ccadb_key", "submitted_by", "created_at", "updated_at"])
        crits = self.sink.table(StatementCriterion, ["id", "statement", "key", "family", "version", "policies"])
        prints = self.sink.table(StatementCertificate, ["id", "statement", "sha256", "certificate"])
        findings = self.sink.table(StatementFinding, ["id", "statement", "severity", "text", "incident"])
        years = max(1, min(10, 1 + self.o.incidents // 5000))
        count = 0
        for owner in self.owners:
            aid, scheme = self.auditors[self.rng.randrange(len(self.auditors))]
            keys = (("webtrust-ca", "ca", "2.2.2"), ("webtrust-tls-br", "tls-baseline", "2.8")) if scheme == "webtrust" \
                else (("etsi-en-319-411-1-ca", "ca", "V1.4.1"), ("etsi-en-319-411-1-tls-baseline", "tls-baseline", "V1.4.1"))
            end = self.as_of.date() - timedelta(days=60 + self.rng.randrange(200))
            for y in range(years):
                period_end = end.replace(year=end.year - y) if not (end.month == 2 and end.day == 29) else end - timedelta(days=365 * y)
                period_start = period_end - timedelta(days=364)
                stated = min(period_end + timedelta(days=30 + self.rng.randrange(80)), self.as_of.date())
                sid = self.sink.new_id(AuditStatement)
                pending = y == 0 and self.rng.random() < 0.15
                source = "ca" if pending else "auditor"
                verification = "pending" if pending else "from_auditor"
                created = datetime.combine(stated, datetime.min.time(), UTC) + timedelta(hours=12)
                stmts.add((sid, owner["id"], aid, source, not pending, "period", period_start, period_end, stated,
                           f"https://audits.example/{owner['slug']}/{period_end.year}.pdf", "", verification,
                           created if pending else None, 1 if pending else 0, created if pending else None,
                           None, "", (self.reps.get(owner["id"]) or [None])[0] if pending else None,
                           min(created, self.as_of), min(created, self.as_of)))
                for key, family, version in keys:
                    crits.add((self.sink.new_id(StatementCriterion), sid, key, family, version,
                               "DVCP,OVCP" if family == "tls-baseline" and scheme == "etsi" else ""))
                for sha, cid in self.ca_prints[owner["id"]][:40]:
                    prints.add((self.sink.new_id(StatementCertificate), sid, sha, cid))
                if self.rng.random() < 0.08:
                    linked = self.audit_incidents.get(owner["id"])
                    findings.add((self.sink.new_id(StatementFinding), sid, self.rng.choice(["minor", "major"]),
                                  "CRLs of two issuing CAs were not refreshed within 7 days.",
                                  self.rng.choice(linked) if linked else None))
                count += 1
        self.sink.flush()
        self._phase_done(f"audit statements ({count:,}) with criteria, fingerprints and findings",
                         stmts.written + crits.written + prints.written + findings.written, t)

    # ------------------------------------------------------------------ incidents

    def _incidents(self) -> None:
        t = time.perf_counter()
        n = self.o.incidents
        s = self.sink
        self.t_inc = s.table(Incident, [
            "id", "number", "ca_owner", "title", "status", "resolution", "security_sensitive", "whiteboard",
            "next_update", "reporter", "assignee", "source", "became_aware_at", "first_disclosed_at",
            "first_response_at", "full_report_at", "last_update_at", "action_item_changed_at", "next_due_at",
            "next_due_kind", "imported_at", "created_at", "updated_at"])
        self.t_tag = s.table(IncidentTag, ["id", "incident", "tag"])
        self.t_rel = s.table(IncidentRelation, ["id", "source", "target", "kind", "created_at"])
        self.t_com = s.table(Comment, ["id", "incident", "author", "kind", "body", "body_html", "is_private",
                                       "created_at"], limit=10000)
        self.t_q = s.table(Question, ["id", "incident", "comment", "asked_user", "asked_at", "answered_by",
                                      "answered_at", "promised_date", "closed_at"])
        self.t_rv = s.table(ReportVersion, ["id", "incident", "kind", "version", "data", "markdown", "changes",
                                            "comment", "author", "created_at"], limit=2000)
        self.t_aff = s.table(AffectedCertificate, [
            "id", "incident", "report_version", "sha256", "precertificate_sha256", "certificate", "subject",
            "issuer", "serial_hex", "not_before", "not_after", "dns_names", "is_revoked", "revocation_date",
            "revocation_reason"])
        self.t_watch = s.table(Incident.cc.through, ["id", "incident", "user"])
        self.t_ev = s.table(Event, ["id", "at", "actor", "actor_name", "subject_type", "subject_id", "action",
                                    "action_label", "field", "old", "new", "summary", "detail", "staff_only"])
        self.usernames = dict(User.objects.filter(pk__in=[*self.staff, *self.reviewers,
                                                          *[u for v in self.reps.values() for u in v]])
                              .values_list("pk", "username"))
        self.audit_incidents: dict[int, list[int]] = defaultdict(list)
        self.by_owner: dict[int, list[tuple[int, int]]] = defaultdict(list)
        # Older incidents are fewer (the program grew); the newest are open more often.
        span = 365 * 12 * 86400
        ages = sorted((int(span * self.rng.random() ** 1.7) + 3600 for _ in range(n)), reverse=True)
        owner_ids = [o["id"] for o in self.owners]
        owners = {o["id"]: o for o in self.owners}
        heavy = max(1, n // 400) if n >= 20 else 0
        heavy_at = set(self.rng.sample(range(n), heavy)) if heavy else set()
        for index, age in enumerate(ages):
            owner = owners[self.rng.choices(owner_ids, self.owner_weights)[0]]
            self._incident(index, self.first_number + index, owner, self.as_of - timedelta(seconds=age),
                           index in heavy_at)
            if (index + 1) % 10000 == 0:
                self._progress(f"incidents (comments so far {self.t_com.written + len(self.t_com.rows):,})",
                               index + 1, n, t)
        s.flush()
        rows = sum(w.written for w in (self.t_inc, self.t_tag, self.t_rel, self.t_com, self.t_q, self.t_rv,
                                       self.t_aff, self.t_watch, self.t_ev))
        self._phase_done(f"incidents ({self.t_inc.written:,}) with {self.t_com.written:,} comments, "
                         f"{self.t_q.written:,} questions, {self.t_rv.written:,} report versions, "
                         f"{self.t_aff.written:,} affected certificates", rows, t)
        self.say(f"  reports: {self.reports.reused:,} rendered from cached templates, "
                 f"{self.reports.full_renders:,} rendered in full")

    def _comment(self, incident_id: int, author: int | None, kind: str, body: str, html: str, at: datetime,
                 private: bool = False) -> int:
        cid = self.sink.new_id(Comment)
        self.later.append((self.t_com, (cid, incident_id, author, kind, body, html, private, at)))
        self.last_activity = max(self.last_activity, at)
        return cid

    def _event(self, incident_id: int, actor: int | None, at: datetime, action, field: str, old: str, new: str):
        self.t_ev.add((self.sink.new_id(Event), at, actor, self.usernames.get(actor, SYSTEM) if actor else SYSTEM,
                       "compliance.incident", incident_id, str(action), action.label, field, old, new, "", {},
                       False))

    def _incident(self, index: int, number: int, owner: dict, created: datetime, heavy: bool) -> None:
        rng = self.rng
        as_of = self.as_of
        iid = self.sink.new_id(Incident)
        self.last_activity = created
        # This incident's comments, reports and affected rows, written after its own row.
        self.later: list[tuple] = []
        story_index = rng.randrange(len(STORIES))
        story = STORIES[story_index]
        age = as_of - created
        p_open = 0.9 if age < timedelta(days=30) else 0.5 if age < timedelta(days=180) else \
            0.2 if age < timedelta(days=365) else 0.03
        is_open = rng.random() < p_open
        source = rng.choices(["self_reported", "third_party", "audit"], [60, 30, 10])[0]
        reps = self.reps.get(owner["id"]) or [self.staff[0]]
        rep = reps[rng.randrange(len(reps))]
        staff = self.staff[rng.randrange(len(self.staff))]
        reviewer = self.reviewers[rng.randrange(len(self.reviewers))]
        reporter = rep if source == "self_reported" else reviewer if source == "third_party" else staff
        if is_open:
            status = rng.choices(["NEW", "ASSIGNED", "UNCONFIRMED", "REOPENED"], [25, 55, 10, 10])[0]
            if status == "UNCONFIRMED" and age > timedelta(days=20):
                status = "NEW"
            resolution = ""
            end = as_of - timedelta(minutes=rng.randrange(5, 60 * 24 * 3))
            end = max(end, created + timedelta(minutes=5))
        else:
            status = "RESOLVED"
            resolution = rng.choices(["FIXED", "INVALID", "DUPLICATE", "WONTFIX", "WORKSFORME"], [80, 7, 6, 4, 3])[0]
            end = min(created + timedelta(days=rng.randrange(3, 240), minutes=rng.randrange(1440)),
                      as_of - timedelta(minutes=30))
        if status == "UNCONFIRMED":
            source = "third_party"
            reporter = reviewer
        became_aware = created - timedelta(hours=rng.randrange(1, 240)) if source == "self_reported" else None
        security = rng.random() < 0.02
        assignee = rep if status in ("ASSIGNED", "REOPENED", "RESOLVED") and rng.random() < 0.8 else None
        title = f"{owner['name']}: {story.title}"[:400]

        # What happens, in time order: (at, kind, author, private, payload)
        span = (end - created).total_seconds()

        def at(fraction: float) -> datetime:
            return created + timedelta(seconds=int(span * min(max(fraction, 0.0), 1.0)))

        body, html = self.comments.text([story.description])
        timeline: list[tuple] = [(created, "description", reporter, body, html)]
        substantive = resolution in ("", "FIXED", "WONTFIX")
        prelim_at = full_at = closure_at = None
        if substantive and status != "UNCONFIRMED":
            if rng.random() < 0.8:
                prelim_at = min(created + timedelta(hours=rng.randrange(2, 100)), end)
            if span > 5 * 86400 and rng.random() < 0.8:
                full_at = min(created + timedelta(days=rng.randrange(4, 20), hours=rng.randrange(24)), end)
            if status == "RESOLVED" and resolution == "FIXED" and full_at and rng.random() < 0.8:
                closure_at = end - timedelta(hours=rng.randrange(1, 48))
                if closure_at <= full_at:
                    closure_at = None
        target = max(1, int(rng.expovariate(1 / max(1.0, self.o.comments_per_incident - 2)))) if not heavy else rng.randrange(200, 400)
        fixed = 1 + (prelim_at is not None) + (full_at is not None) + (closure_at is not None)
        questions_n = rng.choices([0, 1, 2], [60, 30, 10])[0] if target > fixed + 1 else 0
        filler = max(0, target - fixed - 2 * questions_n)
        for _ in range(filler):
            who = rng.choices(["rep", "staff", "reviewer"], [50, 25, 25])[0]
            author = rep if who == "rep" else staff if who == "staff" else reviewer
            kind = "update" if who == "rep" and rng.random() < 0.6 and substantive else "comment"
            private = who == "staff" and rng.random() < 0.05
            body, html = self.comments.body(rng, who)
            timeline.append((at(rng.random()), kind, author, body, html, private))
        questions: list[Question] = []
        for _ in range(questions_n):
            asked = at(rng.random())
            asker = reviewer if rng.random() < 0.6 else staff
            qbody, qhtml = self.comments.body(rng, "reviewer")
            answered = None
            if not is_open or (as_of - asked) > timedelta(days=2) and rng.random() < 0.85:
                answered = min(asked + timedelta(hours=rng.randrange(2, 24 * 9)), end if not is_open else as_of)
                answered = max(answered, asked + timedelta(minutes=1))
            timeline.append((asked, "question", asker, qbody, qhtml, answered))
        if prelim_at:
            timeline.append((prelim_at, "preliminary", rep, None, None))
        if full_at:
            timeline.append((full_at, "full", rep, None, None))
        if closure_at:
            timeline.append((closure_at, "closure", rep, None, None))
        timeline.sort(key=lambda e: (e[0], e[1] != "description"))

        first_response = full_report = last_update = action_item_changed = None
        latest_full: ReportVersion | None = None
        versions: dict[str, int] = {}
        for entry in timeline:
            when, kind, author = entry[0], entry[1], entry[2]
            if kind == "description":
                self._comment(iid, author, "comment", entry[3], entry[4], when)
            elif kind in ("comment", "update"):
                self._comment(iid, author, kind, entry[3], entry[4], when, entry[5])
                if kind == "update" and not entry[5]:
                    last_update = when
                if source == "third_party" and author == rep and not entry[5]:
                    first_response = _earliest(first_response, when)
            elif kind == "question":
                cid = self._comment(iid, author, "question", entry[3], entry[4], when)
                qid = self.sink.new_id(Question)
                answered = entry[5]
                answer_id = promised = closed = None
                if answered is not None:
                    abody, ahtml = self.comments.body(rng, "answer")
                    answer_id = self._comment(iid, rep, "answer", abody, ahtml, answered)
                    if source == "third_party":
                        first_response = _earliest(first_response, answered)
                    if is_open and rng.random() < 0.2:
                        promised = (answered + timedelta(days=rng.randrange(3, 30))).date()
                    else:
                        closed = answered
                question = Question(id=qid, incident_id=iid, comment_id=cid, asked_user_id=None, asked_at=when,
                                    answered_by_id=answer_id, answered_at=answered, promised_date=promised,
                                    closed_at=closed)
                questions.append(question)
            else:
                version = versions.get(kind, 0) + 1
                versions[kind] = version
                affected: list[tuple] = []
                if kind == "preliminary":
                    data = ReportMaker.preliminary_data(story, source)
                    text, html, _ = self.reports.render("preliminary", data, key=("preliminary", story_index, source),
                                                        sentinel=data, values={}, verify=self._verify(kind))
                elif kind == "closure":
                    data = ReportMaker.closure_data(story)
                    text, html, _ = self.reports.render("closure", data, key=("closure", story_index),
                                                        sentinel=data, values={}, verify=self._verify(kind))
                else:
                    data, text, html, affected = self._full_report(owner, story, story_index, source, created,
                                                                   when, is_open)
                cid = self._comment(iid, author, f"{kind}_report", text, html, when)
                rvid = self.sink.new_id(ReportVersion)
                self.later.append((self.t_rv, (rvid, iid, kind, version, data, text, [], cid, author, when)))
                last_update = when
                if kind in ("preliminary", "full"):
                    first_response = _earliest(first_response, when)
                if kind == "full":
                    full_report = full_report or when
                    latest_full = ReportVersion(id=rvid, incident_id=iid, kind="full", version=version, data=data)
                    for row in affected:
                        self.later.append((self.t_aff, (self.sink.new_id(AffectedCertificate), iid, rvid, *row)))
        if status == "RESOLVED":
            self._comment(iid, staff, "comment", *self.comments.text(["The closure summary looks complete; closing."]),
                          max(end, self.last_activity))
        updated = max(end, self.last_activity)
        end = updated if status == "RESOLVED" else end

        # Whiteboard: tags, sometimes a "Next update" date (spent ones stay on resolved bugs).
        tags = ["ca-compliance", *story.tags]
        if source == "audit":
            tags.append("audit-finding")
        whiteboard = " ".join(f"[{t}]" for t in tags)
        if (is_open and status != "UNCONFIRMED" and rng.random() < 0.45) or (not is_open and rng.random() < 0.15):
            base = as_of.date() if is_open else end.date()
            next_update = base + timedelta(days=rng.randrange(-6, 30))
            whiteboard += f" Next update {next_update.isoformat()}"
        board = parse_whiteboard(whiteboard, today=as_of.date())
        incident = Incident(
            id=iid, number=number, ca_owner_id=owner["id"], title=title, status=status, resolution=resolution,
            security_sensitive=security, whiteboard=whiteboard, next_update=board.next_update,
            reporter_id=reporter, assignee_id=assignee, source=source, became_aware_at=became_aware,
            first_disclosed_at=created, first_response_at=first_response, full_report_at=full_report,
            last_update_at=last_update, action_item_changed_at=action_item_changed, imported_at=None,
            created_at=created, updated_at=updated,
        )
        pending = sel.next_pending(sel.incident_deadlines(incident, as_of, questions=questions,
                                                          full_report=latest_full))
        incident.next_due_at = pending.due_at if pending else None
        incident.next_due_kind = str(pending.kind) if pending else ""
        self.t_inc.add((iid, number, owner["id"], title, status, resolution, security, whiteboard,
                        board.next_update, reporter, assignee, source, became_aware, created, first_response,
                        full_report, last_update, action_item_changed, incident.next_due_at,
                        incident.next_due_kind, None, created, updated))
        for table, row in self.later:
            table.add(row)
        for q in questions:
            self.t_q.add((q.id, iid, q.comment_id, None, q.asked_at, q.answered_by_id, q.answered_at,
                          q.promised_date, q.closed_at))
        for tag in board.tags:
            self.t_tag.add((self.sink.new_id(IncidentTag), iid, tag))
        self.t_watch.add((self.sink.new_id(Incident.cc.through), iid, reporter))
        self._event(iid, reporter, created, IncidentHistory.CREATED, "created", "", title)
        if status == "RESOLVED":
            self._event(iid, staff, end, IncidentHistory.CHANGED, "status", "NEW", "RESOLVED")
            self._event(iid, staff, end, IncidentHistory.CHANGED, "resolution", "", resolution)
        earlier = self.by_owner[owner["id"]]
        if resolution == "DUPLICATE" and earlier:
            self.t_rel.add((self.sink.new_id(IncidentRelation), iid, earlier[-1][0], "duplicate_of", end))
        elif earlier and rng.random() < 0.03:
            self.t_rel.add((self.sink.new_id(IncidentRelation), iid, rng.choice(earlier)[0], "see_also", updated))
        earlier.append((iid, number))
        if source == "audit":
            self.audit_incidents[owner["id"]].append(iid)

    def _verify(self, kind: str) -> bool:
        """Validate the first reports of each kind of a run, then one in 20 (the tests validate all)."""
        seen = self.verified[kind] = self.verified.get(kind, 0) + 1
        return seen <= 100 or seen % 20 == 0

    def _full_report(self, owner: dict, story, story_index: int, source: str, created: datetime,
                     when: datetime, is_open: bool):
        """(data, Markdown, HTML, affected-certificate rows) of a full report posted at `when`."""
        rng = self.rng
        identified = created.date() - timedelta(days=rng.randrange(0, 5))
        start = identified - timedelta(days=rng.randrange(1, 400))
        end = min(when.date(), identified + timedelta(days=rng.randrange(0, 10)))
        t_days = sorted([identified, identified + timedelta(days=1), min(end + timedelta(days=1), when.date())])
        dues = [when.date() + timedelta(days=rng.randrange(7, 120)) for _ in story.actions]
        done = 0 if is_open else len(story.actions)
        days = [start, identified, end, *t_days, *dues]
        times = ["09:30", "14:05", "18:40"]
        leaves = self.leaves.get(owner["id"]) or []
        appendix = "N/A"
        affected: list[tuple] = []
        total = max(1, int(rng.expovariate(1 / 20)))
        if leaves and rng.random() < 0.7:
            k = 1 + int(rng.expovariate(1 / 8)) if rng.random() > 0.01 else rng.randrange(200, 2000)
            picked = rng.sample(leaves, min(len(leaves), k))
            revoked_at = datetime.combine(end, datetime.min.time(), UTC) + timedelta(hours=12)
            lines = []
            for cid, sha, subject, issuer, nb, na, serial, dns in picked:
                revoked = revoked_at if nb < revoked_at < na else None
                pre = ""
                if rng.random() < 0.1:
                    pre, sha, cid = hashlib.sha256(f"pre{sha}".encode()).hexdigest().upper(), "", None
                lines.append((pre, sha, subject, issuer, nb, na, serial, dns, revoked))
                affected.append((sha, pre, cid, subject, issuer, serial, nb, na, dns, revoked is not None, revoked,
                                 "superseded" if revoked else ""))
            appendix = affected_csv(lines)
            total = len(lines)
        remaining = rng.randrange(0, total + 1) if is_open else 0
        data = ReportMaker.full_data(story, ccadb_id=owner["ccadb_id"], source=source, days=days, times=times,
                                     counts=(total, remaining), done=done, appendix=appendix)
        sentinel_days = [date(1901, 1, 1) + timedelta(days=i) for i in range(len(days))]
        sentinel = ReportMaker.full_data(story, ccadb_id="A999999", source=source, days=sentinel_days,
                                         times=times, counts=(9000001, 9000000), done=done, appendix="N/A")
        values = {d.isoformat(): r.isoformat() for d, r in zip(sentinel_days, days, strict=True)}
        values.update({"A999999": owner["ccadb_id"], "9000001": str(total), "9000000": str(remaining)})
        text, html, clean = self.reports.render("full", data, key=("full", story_index, source, done),
                                                sentinel=sentinel, values=values, verify=self._verify("full"))
        if clean is not None:
            parsed = [(a.certificate_sha256 or "", a.precertificate_sha256 or "", a.subject, a.issuer, a.serial_hex,
                       a.not_before, a.not_after, " ".join(a.dns_names), a.is_revoked, a.revocation_date,
                       a.revocation_reason or "") for a in clean.affected]
            if parsed != [(r[0], r[1], *r[3:]) for r in affected]:
                raise RuntimeError("generated affected-certificate rows differ from the report's CSV")
        return data, text, html, affected


def generate(options: Options, say: Callable[[str], None] = print) -> Result:
    """Fill the default database; raises Refused (nothing written) when it already holds incidents."""
    if reports.NA != "N/A":  # the report templates' N/A spelling is what the sentinel check relies on
        raise RuntimeError("unexpected N/A spelling")
    return Generator(options, say).run()
