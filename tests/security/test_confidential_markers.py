"""No side door to an embargoed fact: every URL of the app, as every role, over data whose every
confidential string carries a unique marker.

The walk reads the URLconf itself (django.urls.get_resolver), so a URL added later is walked
without anyone remembering to add it; a pattern this file cannot fill fails the test with its
name. Each marker has an owner rule from accounts.permissions (who may see it); a marker found in
a response body or header, an e-mail or a notification of someone the rule refuses is a leak.
Staff may see everything, and each marker must reach staff somewhere, so the walk is not vacuous.
Lists are also checked by their counts: a hidden row must not be counted.

Only GET (and the feeds/exports/`/rest/` variants with query strings): the walk must not change
the data it reads, and every form page shows what a POST would act on.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core import mail
from django.test import Client, TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from accounts import permissions as perm

ROLES = ("anonymous", "reviewer", "rep_b", "rep_a", "reporter", "staff")


def _marker(kind: str) -> str:
    # Lower case letters, digits and hyphens only: no escaping (HTML, JSON, URL, CSV, e-mail
    # lower-casing) can change it, so a plain substring test finds every copy.
    return f"marker-{kind}-{uuid.uuid4().hex[:12]}"


@dataclass
class Secret:
    """One confidential string and the rule naming who may read it."""

    marker: str
    what: str
    entitled: Any  # (user) -> bool; the user is a fresh instance, AnonymousUser for anonymous
    auditor_entitled: bool = False  # the auditor's verification contact may read it (its own link)


def _walk(resolver: URLResolver, route: list, namespace: list):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = namespace + [p.namespace] if p.namespace else namespace
            yield from _walk(p, route + [p.pattern], ns)
        elif isinstance(p, URLPattern):
            yield route + [p.pattern], ":".join(namespace + [p.name]) if p.name else None, p


_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


def _regex_to_path(regex: str, fill: dict[str, str]) -> str:
    text = regex.lstrip("^").rstrip("$")
    text = _REGEX_GROUP.sub(lambda m: fill[m.group("name")], text)
    text = re.sub(r"\(\?:([^|)]*)[^)]*\)", r"\1", text)  # an alternation: its first branch
    return text.replace("/?", "/")


def _params(parts) -> list[str]:
    names = []
    for part in parts:
        if isinstance(part, RoutePattern):
            names += [m.group("name") for m in _ROUTE_PARAM.finditer(str(part))]
        elif isinstance(part, RegexPattern):
            names += [m.group("name") for m in _REGEX_GROUP.finditer(str(part))]
    return names


def _path(parts, fill: dict[str, str]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, RoutePattern):
            out += _ROUTE_PARAM.sub(lambda m: fill[m.group("name")], str(part))
        else:
            out += _regex_to_path(str(part), fill)
    return "/" + out


@override_settings(
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
class ConfidentialMarkersTest(TestCase):
    """The data is built once for the class (setUpTestData); each test walks as one role."""

    @classmethod
    def setUpTestData(cls):
        import tempfile

        from config.celery import app as celery_app

        # Mail goes through the outbox and its send task: run it in-process here, as the autouse
        # fixture does for pytest tests (it does not reach a TestCase's class-level data).
        eager = celery_app.conf.task_always_eager
        celery_app.conf.update(task_always_eager=True, CELERY_TASK_ALWAYS_EAGER=True)
        cls.addClassCleanup(celery_app.conf.update, task_always_eager=eager, CELERY_TASK_ALWAYS_EAGER=eager)

        from accounts.models import User
        from audits import actions as audits
        from compliance.actions import incidents as inc
        from compliance.models import Decision
        from distrust import actions as distrust
        from notifications import actions as notifications
        from registry.actions import certificates_import
        from registry.models import CAOwner, Certificate
        from tests.domain import certgen

        cls._media = override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="rw-markers-"))
        cls._media.enable()
        cls.secrets: list[Secret] = []
        M = cls._secret
        owner_a = CAOwner.objects.create(name="Acme Trust", ccadb_id="A000001", country="US",
                                         status=CAOwner.Status.INCLUDED)
        owner_b = CAOwner.objects.create(name="Borealis PKI", ccadb_id="A000002", country="FI",
                                         status=CAOwner.Status.INCLUDED)
        mk = lambda name, **kw: User.objects.create_user(  # noqa: E731
            username=name, email=f"{name}@example.test", password="x", **kw)
        staff = mk("staff", is_staff=True)
        rep_a, rep_b, reviewer, reporter = mk("rep_a"), mk("rep_b"), mk("reviewer"), mk("reporter")
        rep_a.represented_owners.add(owner_a)
        rep_b.represented_owners.add(owner_b)
        cls.user_ids = {"staff": staff.pk, "rep_a": rep_a.pk, "rep_b": rep_b.pk, "reviewer": reviewer.pk,
                        "reporter": reporter.pk}
        cls.owner_pks = [owner_a.pk, owner_b.pk]

        def sees_incident(number):
            from compliance.models import Incident
            return lambda u: perm.can_view_incident(u, Incident.objects.get(number=number))

        # --- incidents ----------------------------------------------------------------------------
        secret = inc.incident_create(actor=staff, ca_owner=owner_a, title=M("inc-title"),
                                     description=M("inc-description"), security_sensitive=True)
        inc.incident_update(actor=staff, incident=secret, whiteboard=f"[ca-compliance] {M('inc-whiteboard')}")
        inc.comment_create(actor=rep_a, incident=secret, body=M("inc-comment"))
        inc.question_ask(actor=staff, incident=secret, body=M("inc-question"), asked_user=None)
        for kind in ("inc-title", "inc-description", "inc-whiteboard", "inc-comment", "inc-question"):
            cls._rule(kind, sees_incident(secret.number))
        filed = inc.incident_create(actor=reporter, ca_owner=owner_a, title=M("reported-title"),
                                    description=M("reported-description"), security_sensitive=True)
        for kind in ("reported-title", "reported-description"):
            cls._rule(kind, sees_incident(filed.number))
        public = inc.incident_create(actor=rep_a, ca_owner=owner_a, title="Acme Trust: a public incident",
                                     description="Public description.")
        inc.comment_create(actor=staff, incident=public, body=M("private-comment"), is_private=True)
        # A public incident related to the security-sensitive one must not name it.
        inc.incident_relate(actor=staff, incident=public, kind="see_also", other_number=secret.number)
        cls._rule("private-comment", perm.can_view_private_comments)
        inc.assessment_save(actor=staff, incident=public, notes=M("assessment-notes"), cert_type="tls",
                            count=3, enumerable=True)
        cls._rule("assessment-notes", lambda u: perm.can_assess(u, public))
        # A decision recorded on the staff-only assessment page stays staff-only until staff publish it.
        d = inc.decision_record(actor=staff, incident=public, action="other", note=M("private-decision"))
        assert Decision.objects.get(pk=d.pk).is_private
        cls._rule("private-decision", perm.can_view_private_decisions)
        cls.incident_numbers = [secret.number, filed.number, public.number]
        # Attachments: a private one on the public incident (staff and CA A), one on the security-sensitive one.
        from compliance.actions import attachments as att
        from compliance.models import Attachment

        private_file = att.attachment_add(
            actor=rep_a, incident=public, data=f"serial,customer\n01,{M('attachment-bytes')}\n".encode(),
            filename=f"{M('attachment-name')}.csv", description=M("attachment-description"), is_private=True)
        for kind in ("attachment-bytes", "attachment-name", "attachment-description"):
            cls._rule(kind, lambda u, pk=private_file.pk: perm.can_view_attachment(u, Attachment.objects.get(pk=pk)))
        secret_file = att.attachment_add(actor=rep_a, incident=secret, data=M("secret-file-bytes").encode(),
                                         filename="timeline.txt", description=M("secret-file-description"))
        for kind in ("secret-file-bytes", "secret-file-description"):
            cls._rule(kind, sees_incident(secret.number))
        cls.attachment_pks = [private_file.pk, secret_file.pk]
        cls.question_ids = list(secret.questions.values_list("pk", flat=True))

        # --- audits -------------------------------------------------------------------------------
        today = timezone.localdate()
        contact = M("auditor-contact") + "@auditor.test"
        cls._rule("auditor-contact", perm.can_view_auditor_contacts, auditor=True)
        auditor = audits.auditor_create(actor=staff, name="Schellman & Company, LLC.", contact_name="Audit Desk",
                                        contact_email=contact)
        audits.qualification_record(actor=staff, auditor=auditor, scheme="webtrust", method="listed",
                                    accrediting_body="CPA Canada", evidence_url="https://www.cpacanada.ca/",
                                    verified_on=today, today=today)
        auditor = audits.auditor_set_approval(actor=staff, auditor=auditor, approval="approved", reason="Listed",
                                              today=today)
        crit = [audits.CriterionInput("webtrust-tls-br", "2.8")]
        # A statement from the auditor whose serious finding filed an incident, which staff later made
        # security-sensitive and retitled: the statement and the CA's audit page must stop naming it.
        end = today - timedelta(days=800)
        audited = audits.statement_submit(
            actor=staff, ca_owner=owner_a, auditor=auditor, source="auditor", kind="period",
            period_start=end - timedelta(days=364), period_end=end, statement_date=end + timedelta(days=60),
            url="https://example.test/public-audit.pdf", criteria=crit,
            findings=[audits.FindingInput("major", "A public qualification.")], today=today)
        finding_incident = audited.findings.exclude(incident=None).first().incident
        inc.incident_update(actor=staff, incident=finding_incident, security_sensitive=True, title=M("finding-incident"))
        cls._rule("finding-incident", sees_incident(finding_incident.number))
        # A CA-provided statement, pending its auditor's answer, naming an auditor nobody listed.
        end = today - timedelta(days=365 + 80)
        with cls.captureOnCommitCallbacks(execute=True):
            pending = audits.statement_submit(
                actor=rep_a, ca_owner=owner_a, auditor=None, new_auditor_name=M("typed-auditor"), source="ca",
                kind="period", period_start=end - timedelta(days=364), period_end=end,
                statement_date=end + timedelta(days=30), url=f"https://example.test/{M('pending-url')}.pdf",
                criteria=crit, findings=[audits.FindingInput("minor", M("pending-finding"))], today=today)
            # A second pending one with the approved auditor: its verification e-mail is sent.
            asked = audits.statement_submit(
                actor=rep_a, ca_owner=owner_a, auditor=auditor, source="ca", kind="period",
                period_start=end - timedelta(days=364), period_end=end, statement_date=end + timedelta(days=31),
                url=f"https://example.test/{M('asked-url')}.pdf", criteria=crit, today=today)
        for kind in ("typed-auditor", "pending-url", "pending-finding"):
            cls._rule(kind, lambda u, st=pending: perm.can_view_statement(u, type(st).objects.get(pk=st.pk)))
        cls._rule("asked-url", lambda u, st=asked: perm.can_view_statement(u, type(st).objects.get(pk=st.pk)),
                  auditor=True)
        # The auditor answers a third one through its link: the answer must not publish the address.
        with cls.captureOnCommitCallbacks(execute=True):
            answered = audits.statement_submit(
                actor=rep_b, ca_owner=owner_b, auditor=auditor, source="ca", kind="period",
                period_start=end - timedelta(days=364), period_end=end, statement_date=end + timedelta(days=32),
                url="https://example.test/answered.pdf", criteria=crit, today=today)
        tokens = re.findall(r"/audits/verify/([^/\s]+)/", "\n".join(m.body for m in mail.outbox))
        cls.verify_tokens = tokens
        audits.statement_answer_verification(token=tokens[-1], confirmed=True, name="Jane Auditor")
        # A follow-up to the auditor is due: the sweep below sends it.
        type(asked).objects.filter(pk=asked.pk).update(
            verification_requests_sent=1, verification_last_sent_at=timezone.now() - timedelta(days=8))
        from audits.models import VerificationRequest
        VerificationRequest.objects.filter(statement=asked).update(created_at=timezone.now() - timedelta(days=8))
        cls.statement_pks = [audited.pk, pending.pk, asked.pk, answered.pk]
        from audits.models import Auditor
        cls.auditor_pks = list(Auditor.objects.values_list("pk", flat=True))

        # --- distrust -----------------------------------------------------------------------------
        root = certgen.root("Marker Walk Root")
        sha = certificates_import(actor=None, items=[(root.der, "Marker Walk Root")], owner=owner_a).certificates[0]
        cls.sha256 = sha
        embargoed = distrust.action_create(actor=staff, title=M("distrust-title"), is_embargoed=True,
                                           incident_numbers=[secret.number], reported_by="A researcher",
                                           reported_on=today)
        distrust.step_complete(actor=staff, action=embargoed, step="report")
        distrust.target_add(actor=staff, action=embargoed, sha256=sha, label=M("distrust-target"))
        distrust.step_save(actor=staff, action=embargoed, step="decide", complete=False, data={
            "decision": "Actively distrust.", "rationale": M("distrust-rationale"), "discussed_in": "private",
            "decided_on": today})
        for kind in ("distrust-title", "distrust-target", "distrust-rationale"):
            cls._rule(kind, lambda u, a=embargoed: perm.can_view_distrust(u, type(a).objects.get(pk=a.pk)))
        # A public action started from the security-sensitive incident must not name it.
        open_action = distrust.action_create(actor=staff, title="A public distrust action",
                                             incident_numbers=[secret.number])
        cls.distrust_pks = [embargoed.pk, open_action.pk]
        cls.target_ids = list(embargoed.targets.values_list("pk", flat=True))
        cls.step_keys = list(embargoed.steps.values_list("step", flat=True))
        assert Certificate.objects.filter(sha256=sha).exists()

        # --- watches and the reminder sweep -------------------------------------------------------
        # Anyone may watch any CA: the other CA's representative and a reviewer watch CA A.
        for who in (rep_b, reviewer, reporter):
            notifications.watch_add(actor=who, ca_owner=owner_a)
        mail.outbox.clear()
        with cls.captureOnCommitCallbacks(execute=True):
            notifications.sweep_run(now=timezone.now())
        cls.sweep_mail = list(mail.outbox)
        cls.missing_rules = [s.what for s in cls.secrets if s.entitled is None]
        cls.fills_cache = None

    @classmethod
    def tearDownClass(cls):
        cls._media.disable()
        super().tearDownClass()

    # --- markers -------------------------------------------------------------------------------------

    @classmethod
    def _secret(cls, what: str) -> str:
        s = Secret(marker=_marker(what), what=what, entitled=None)
        cls.secrets.append(s)
        return s.marker

    @classmethod
    def _rule(cls, what: str, entitled, *, auditor: bool = False) -> None:
        s = next(s for s in cls.secrets if s.what == what)
        s.entitled, s.auditor_entitled = entitled, auditor

    def _user(self, role: str):
        from django.contrib.auth.models import AnonymousUser

        from accounts.models import User

        return AnonymousUser() if role == "anonymous" else User.objects.get(pk=self.user_ids[role])

    def _forbidden(self, user) -> list[Secret]:
        return [s for s in self.secrets if not s.entitled(user)]

    # --- URLs ----------------------------------------------------------------------------------------

    def _fills(self, route: str, name: str | None) -> dict[str, list[str]] | None:
        """Values for each parameter of a pattern, from the fixture objects; None if unknown."""
        from accounts.models import User
        from notifications.tokens import unsubscribe_token

        s = lambda xs: [str(x) for x in xs]  # noqa: E731
        if route.startswith(("api/v1/cas/", "cas/", "feeds/cas/", "audits/ca/")):
            pk = self.owner_pks
        elif route.startswith(("api/v1/audits/", "audits/statements/")):
            pk = self.statement_pks
        elif route.startswith(("api/v1/auditors/", "audits/auditors/")):
            pk = self.auditor_pks
        elif route.startswith(("api/v1/distrust/", "distrust/")):
            pk = self.distrust_pks
        elif route.startswith("accounts/api-keys/"):
            pk = [1]
        elif route.startswith("attachments/"):
            pk = self.attachment_pks
        elif route.startswith("incidents/searches/"):
            from compliance.models import SavedSearch

            pk = list(SavedSearch.objects.values_list("pk", flat=True)) or [1]
        elif route.startswith(("root-store/", "api/v1/root-store/")):
            # Releases (a draft among them when the fixtures changed an entry) and root store entries.
            from registry.models import Release, RootStoreEntry

            pk = sorted({*Release.objects.values_list("pk", flat=True),
                         *RootStoreEntry.objects.values_list("pk", flat=True)}) or [1]
        else:
            pk = None
        from compliance.models import Decision
        from distrust.models import ClosureItem, TestCertificate, UsageFigure
        from distrust.views import ARTIFACT_FILES

        values = {
            "number": s(self.incident_numbers),
            "question_id": s(self.question_ids) or ["1"],
            "decision_id": s(Decision.objects.values_list("pk", flat=True)) or ["1"],
            "kind": ["preliminary", "full", "closure"],
            "sha256": [self.sha256],
            "step": self.step_keys,
            "target_id": s(self.target_ids),
            "figure_id": s(UsageFigure.objects.values_list("pk", flat=True)) or ["1"],
            "item_id": s(ClosureItem.objects.values_list("pk", flat=True)) or ["1"],
            "test_id": s(TestCertificate.objects.values_list("pk", flat=True)) or ["1"],
            "filename": sorted(ARTIFACT_FILES),
            "tag": ["ca-compliance"],
            "bug_id": s(self.incident_numbers),
            "attachment_id": s(self.attachment_pks),
            "name": ["CA Certificate Compliance", "short_desc"],
            "rest": ["bug/1/flags"],
            "uidb64": ["MQ"],
            # The admin is staff-only whatever the object (everyone else is sent to sign in): one id each.
            "object_id": ["1"],
            "content_type_id": ["1"],
            "id": [str(self.user_ids["rep_a"])],
            "user_id": [str(self.user_ids["rep_a"])],  # representation revoke (POST/DELETE only)
            "app_label": ["audits", "distrust", "history"],
            "url": ["nothing-here/"],
            "path": ["nothing-here.pdf"],
        }
        if pk is not None:
            values["pk"] = s(pk)
        if route.startswith("audits/verify/"):
            # The link is the auditor's credential, and its holder may read its statement: the walk
            # takes a forged one (an e-mailed one is checked as the auditor's, in the mail test).
            values["token"] = ["forged-token"]
        elif route.startswith("notifications/unsubscribe/"):
            values["token"] = [unsubscribe_token(User.objects.get(pk=self.user_ids["reporter"]))]
        elif route.startswith("accounts/reset/"):
            values["token"] = ["set-password"]
        return values

    def _urls(self) -> tuple[list[str], list[str]]:
        """Every pattern filled with every fixture value its parameters take (a product, kept small
        by the few values each takes), plus the query-string variants. Unfillable: their names."""
        import itertools

        urls, unfillable = [], []
        for parts, name, pattern in _walk(get_resolver(), [], []):
            route = "".join(str(p) for p in parts)
            params = _params(parts)
            fills = self._fills(route, name)
            missing = [p for p in params if p not in fills]
            if missing:
                unfillable.append(f"{name or route} (no value for {', '.join(missing)})")
                continue
            for combo in itertools.product(*(fills[p] for p in params)):
                path = _path(parts, dict(zip(params, combo, strict=True)))
                match = resolve(path.split("?")[0])
                # A pattern shadowed by an earlier one with the same route (a view overriding Django's
                # own) is walked as that one: the same URL, the view that actually answers.
                if match.func is not pattern.callback and match.route != route:
                    unfillable.append(f"{name or route} (filled as {path}, reached {match._func_path})")
                    continue
                urls.append(path)
        return urls + self._variants(), unfillable

    def _variants(self) -> list[str]:
        secret_num, filed_num, public_num = self.incident_numbers
        owner_a = self.owner_pks[0]
        q = lambda base, **kw: f"{base}?{urlencode(kw, doseq=True)}"  # noqa: E731
        fragments = [s.marker.split("-", 1)[1][:-4] for s in self.secrets]  # not the whole marker: no echo
        out = []
        for frag in ("inc-title", "reported-title", "finding-incident", "private-comment", "distrust-title"):
            piece = next(f for f in fragments if f.startswith(frag))
            out += [q("/incidents/", q=piece), q("/api/v1/incidents/", q=piece), q("/incidents/export.csv", q=piece),
                    q("/feeds/incidents.atom", q=piece), q("/rest/bug", quicksearch=piece),
                    q("/rest/bug", summary=piece), q("/rest/bug", f1="longdesc", o1="substring", v1=piece),
                    q("/rest/bug", f1="short_desc", o1="substring", v1=piece),
                    q("/rest/bug", f1="status_whiteboard", o1="substring", v1=piece)]
        for base in ("/incidents/", "/api/v1/incidents/", "/incidents/export.csv"):
            out += [q(base, ca=owner_a), q(base, security_sensitive="true"), q(base, status="NEW"),
                    q(base, tag="ca-compliance"), q(base, sort="-number"), q(base, open_questions="true")]
        out += [q("/rest/bug", id=[secret_num, filed_num, public_num]), q("/rest/bug", id=secret_num),
                q("/rest/bug", product="CA Certificate Compliance"), q("/rest/bug", creator="reporter@example.test"),
                q("/rest/bug", include_fields="_all"), q("/rest/bug", limit=0),
                q("/rest/bug", whiteboard="marker"), q("/rest/bug", keywords="ca-compliance"),
                f"/rest/bug/{secret_num}/history", f"/rest/bug/{public_num}/history",
                f"/rest/bug/{public_num}/comment", q(f"/rest/bug/{public_num}", include_fields="_all"),
                q("/rest/bug/comment", ids=[secret_num, public_num]),
                q("/api/v1/audits/", ca_owner=owner_a), q("/api/v1/audits/", verification="pending"),
                q("/api/v1/audits/", source="ca"), q("/audits/", verification="pending"), q("/audits/", ca=owner_a),
                q("/api/v1/distrust/", state="decide"), q("/distrust/", state="decide"),
                q("/api/v1/auditors/", q="marker"), q("/distrust/new/", incident=secret_num),
                q("/api/v1/certificates/", sha256=self.sha256), q("/certificates/", q="Marker Walk"),
                q(f"/feeds/cas/{owner_a}/incidents.atom"), "/feeds/tags/ca-compliance.atom",
                q("/notifications/", page=1)]
        return out

    # --- the walk ------------------------------------------------------------------------------------

    def _client(self, role: str) -> Client:
        c = Client()
        if role != "anonymous":
            # The backend named: the first configured one may be a sign-in throttle that loads no user.
            c.force_login(self._user(role), backend="django.contrib.auth.backends.ModelBackend")
        return c

    @staticmethod
    def _text(response) -> str:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        return (headers + "\n" + body.decode("utf-8", "replace")).lower()

    def _walk_as(self, role: str) -> dict[str, set[str]]:
        """Every URL as `role`: leaks found (marker -> URLs) and, for staff, what was seen."""
        self.assertEqual(self.missing_rules, [], "every marker needs its rule")
        urls, unfillable = self._urls()
        self.assertEqual(unfillable, [], "URL patterns the walk cannot fill: give each a value in _fills")
        user = self._user(role)
        forbidden = self._forbidden(user)
        client = self._client(role)
        seen: dict[str, set[str]] = {}
        errors = []
        for url in urls:
            response = client.get(url)
            if response.status_code >= 500:
                errors.append(f"{url}: {response.status_code}")
                continue
            text = self._text(response)
            for s in self.secrets:
                if s.marker in text:
                    seen.setdefault(s.what, set()).add(url)
        leaks = {s.what: sorted(seen[s.what]) for s in forbidden if s.what in seen}
        self.assertEqual(errors, [], f"server errors as {role}")
        self.assertEqual(leaks, {}, f"markers reaching {role}, who may not read them")
        return seen

    def _counts_as(self, role: str) -> None:
        """List counts match the rows the role may see: a hidden row is not counted."""
        import csv
        import io
        import json

        from compliance.models import Incident

        user = self._user(role)
        client = self._client(role)
        visible = [i.number for i in Incident.objects.all() if perm.can_view_incident(user, i)]
        api = json.loads(client.get("/api/v1/incidents/", {"page_size": 100}).content)
        self.assertEqual(api["count"], len(visible), f"incident API count as {role}")
        rest = json.loads(client.get("/rest/bug", {"limit": 0}).content)
        self.assertEqual(sorted(b["id"] for b in rest["bugs"]), sorted(visible), f"/rest/bug as {role}")
        rows = list(csv.reader(io.StringIO(client.get("/incidents/export.csv").content.decode())))
        self.assertEqual(len(rows) - 1, len(visible), f"CSV rows as {role}")

        from audits.models import AuditStatement
        from distrust.models import DistrustAction

        statements = [s for s in AuditStatement.objects.all() if perm.can_view_statement(user, s)]
        api = json.loads(client.get("/api/v1/audits/", {"page_size": 100}).content)
        self.assertEqual(api["count"], len(statements), f"statement API count as {role}")
        actions = [a for a in DistrustAction.objects.all() if perm.can_view_distrust(user, a)]
        api = json.loads(client.get("/api/v1/distrust/", {"page_size": 100}).content)
        self.assertEqual(api["count"], len(actions), f"distrust API count as {role}")

    def _walk_role(self, role: str) -> None:
        self._walk_as(role)
        self._counts_as(role)

    def test_anonymous(self):
        self._walk_role("anonymous")

    def test_reviewer(self):
        self._walk_role("reviewer")

    def test_other_cas_representative(self):
        self._walk_role("rep_b")

    def test_the_cas_representative(self):
        self._walk_role("rep_a")

    def test_the_reporter_of_a_security_sensitive_incident(self):
        self._walk_role("reporter")

    def test_staff_see_every_marker_somewhere(self):
        seen = self._walk_as("staff")
        self._counts_as("staff")
        self.assertEqual(sorted(s.what for s in self.secrets if s.what not in seen), [],
                         "markers staff never saw: the walk does not reach them, so it proves nothing about them")

    # --- reminders and mail --------------------------------------------------------------------------

    def test_reminders_and_mail_reach_only_those_entitled(self):
        """Every notification row and message of the sweep (and the verification mail) goes to
        someone entitled to each marker in it, and to someone who may open the page it points to."""
        from accounts.models import User
        from notifications.models import Notification

        by_email = {u.email.lower(): u for u in User.objects.all()}
        auditor_address = next(s.marker for s in self.secrets if s.what == "auditor-contact") + "@auditor.test"
        leaks = []
        for n in Notification.objects.select_related("recipient"):
            text = f"{n.title}\n{n.body}\n{n.url}".lower()
            who = n.recipient or by_email.get(n.email)
            for s in self.secrets:
                if s.marker not in text:
                    continue
                ok = s.auditor_entitled if who is None and n.email == auditor_address else who and s.entitled(who)
                if not ok:
                    leaks.append(f"notification {n.kind} to {n.recipient or n.email}: {s.what}")
            if n.recipient is not None and not self._may_open(n.recipient, n):
                leaks.append(f"notification {n.kind} about {n.subject_type} {n.subject_id} to {n.recipient}, "
                             "who may not open what it is about")
        for m in self.sweep_mail:
            text = f"{m.subject}\n{m.body}".lower()
            for address in m.to:
                who = by_email.get(address.lower())
                for s in self.secrets:
                    if s.marker in text:
                        ok = s.auditor_entitled if address.lower() == auditor_address else who and s.entitled(who)
                        if not ok:
                            leaks.append(f"mail to {address}: {s.what}")
        self.assertEqual(leaks, [])
        # Not vacuous: the pending statement's due reminder reached its CA's representative (and the
        # auditor its follow-up), while the watchers who may not see the statement heard nothing.
        due = set(Notification.objects.filter(kind="statement_due_soon", title__startswith="Acme Trust")
                  .values_list("recipient__username", flat=True))
        self.assertIn("rep_a", due)
        self.assertFalse(due & {"rep_b", "reviewer", "reporter"})
        self.assertTrue(Notification.objects.filter(email=auditor_address).exists())

    def _may_open(self, user, n) -> bool:
        """The page a notification is about, by the rule of that page."""
        from audits.models import AuditStatement
        from compliance.models import Comment, Incident, Question
        from distrust.models import DistrustAction
        from history.models import Event
        from notifications.models import SubjectType

        if n.subject_type == SubjectType.INCIDENT:
            return perm.can_view_incident(user, Incident.objects.get(pk=n.subject_id))
        if n.subject_type == SubjectType.QUESTION:
            return perm.can_view_incident(user, Question.objects.get(pk=n.subject_id).incident)
        if n.subject_type in (SubjectType.AUDIT_STATEMENT, SubjectType.AUDIT_DUE):
            return perm.can_view_statement(user, AuditStatement.objects.get(pk=n.subject_id))
        if n.subject_type == SubjectType.DISTRUST_ACTION:
            return perm.can_view_distrust(user, DistrustAction.objects.get(pk=n.subject_id))
        if n.subject_type == SubjectType.COMMENT:
            return perm.can_view_comment(user, Comment.objects.select_related("incident").get(pk=n.subject_id))
        if n.subject_type == SubjectType.CHANGE:
            event = Event.objects.get(pk=n.subject_id)
            assert event.subject_type == "compliance.incident"
            return perm.can_view_incident(user, Incident.objects.get(pk=event.subject_id))
        return perm.is_staff(user)

    def test_history_rows_with_staff_only_data_are_staff_only(self):
        """No public history row carries a marker only staff may read."""
        from django.contrib.auth.models import AnonymousUser

        from history.models import Event

        staff_only = [s for s in self.secrets if not s.entitled(AnonymousUser()) and s.what in (
            "auditor-contact", "assessment-notes", "private-comment", "private-decision")]
        leaks = []
        for e in Event.objects.filter(staff_only=False):
            text = f"{e.actor_name} {e.summary} {e.old} {e.new} {e.detail}".lower()
            leaks += [f"{e.subject_type} {e.subject_id} {e.action}: {s.what}" for s in staff_only if s.marker in text]
        self.assertEqual(leaks, [])
