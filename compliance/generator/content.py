"""What generated incidents say: titles, comments and IRG reports, built from a few real-looking stories.

Rendering Markdown is the generator's costliest step (about 4 ms for a full report), so HTML is
rendered once per distinct piece and reused:
- a comment is one to three paragraphs from a fixed pool, and Markdown renders paragraphs
  separated by a blank line as their renderings joined by a newline;
- a report is rendered once per (story, kind, variant) with sentinel values (dates in 1901, the
  CCADB ID A999999, counts 900000N) which are then replaced by the incident's own values, in the
  Markdown and in the HTML; the affected-certificates CSV, a fenced block after the "Appendix"
  heading, is appended on its own. The first 100 reports of each kind of a run, and one in 20 after,
  are validated and their Markdown compared with reports.render_markdown; a difference stops the run.
tests/test_generate_data.py checks stored HTML against markdown.render on every generated row.
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from compliance.domain import markdown, reports

__all__ = ["STORIES", "Story", "CommentPool", "ReportMaker"]


@dataclass(frozen=True)
class Story:
    title: str
    tags: tuple[str, ...]
    description: str
    policies: str
    cert_types: str
    heuristic: str
    root_cause: str
    actions: tuple[tuple[str, str], ...]  # (action item, kind)
    revocation_delay: bool = False


STORIES: tuple[Story, ...] = (
    Story("TLS certificates with an OU attribute", ("ov-misissuance",),
          "Certificates were issued with a subject:organizationalUnitName attribute after it was prohibited.",
          "TLS BR v2.0.2 section 7.1.2.7.2", "OV TLS", "crt.sh query for OU present in certificates issued after 2022-09-01",
          "The certificate profile was not updated when the requirement changed.",
          (("Remove OU from every profile", "Prevent"), ("Add a pre-issuance lint for OU", "Detect"))),
    Story("Underscore in a dNSName", ("dv-misissuance",),
          "TLS certificates were issued with an underscore character in a dNSName.",
          "TLS BR v2.0.2 section 7.1.4.2", "DV TLS", "Certificates whose SAN contains an underscore",
          "The domain name validation library accepted underscores.",
          (("Reject underscores at request time", "Prevent"), ("Run zlint before signing", "Detect"))),
    Story("Delayed revocation of misissued certificates", ("leaf-revocation-delay",),
          "Affected certificates were not revoked within five days because subscribers asked for more time.",
          "TLS BR v2.0.2 section 4.9.1.1", "DV and OV TLS", "Certificates listed in the appendix",
          "Subscriber agreements did not make the revocation timelines clear.",
          (("Update the subscriber agreement", "Prevent"), ("Automate revocation at five days", "Mitigate")),
          revocation_delay=True),
    Story("CRL not updated within 7 days", ("crl-failure",),
          "Two issuing CAs published CRLs whose nextUpdate passed without a new CRL.",
          "TLS BR v2.0.2 section 4.9.7", "Intermediate CA certificates", "CRL monitoring logs",
          "A scheduler failure stopped CRL generation for two issuing CAs.",
          (("Alert on CRL age above 5 days", "Detect"), ("Move CRL generation to the new scheduler", "Prevent"))),
    Story("OCSP responder returned unknown for issued certificates", ("ocsp-failure",),
          "The OCSP responder answered unknown for certificates issued during a database failover.",
          "TLS BR v2.0.2 section 4.9.10", "OV TLS", "OCSP responder logs for the failover window",
          "Replication lag between the issuance and the OCSP databases was not monitored.",
          (("Monitor replication lag", "Detect"), ("Block issuance while replication lags", "Prevent"))),
    Story("Audit statement delivered late", ("audit-delay",),
          "The annual audit statement was provided more than 92 days after the end of the audit period.",
          "Mozilla Root Store Policy section 3.1.3", "N/A", "N/A",
          "The audit fieldwork started late because of auditor availability.",
          (("Book the auditor six months ahead", "Prevent"),)),
    Story("Intermediate CA not disclosed in CCADB", ("disclosure-failure",),
          "A new intermediate CA certificate was not disclosed in CCADB within 7 days of creation.",
          "Mozilla Root Store Policy section 5.3.2", "Intermediate CA certificates", "CCADB disclosure report",
          "The key ceremony checklist did not include CCADB disclosure.",
          (("Add CCADB disclosure to the ceremony checklist", "Prevent"), ("Daily check of CT logs for new CAs", "Detect"))),
    Story("S/MIME certificates with an invalid subject", ("smime-misissuance",),
          "S/MIME certificates were issued with a subject:commonName not present in the SAN.",
          "S/MIME BR v1.0.2 section 7.1.4.2.2", "S/MIME", "Certificates whose commonName is not in the SAN",
          "The S/MIME profile allowed a free-form commonName.",
          (("Restrict commonName to a SAN value", "Prevent"), ("Lint S/MIME certificates with pkilint", "Detect"))),
    Story("EV certificates with a wrong jurisdiction field", ("ev-misissuance",),
          "EV certificates carried a jurisdictionStateOrProvinceName for a country-level registration.",
          "EV Guidelines v1.8.0 section 9.2.4", "EV TLS", "EV certificates with jurisdiction fields",
          "Validation staff copied the state from the address.",
          (("Validate jurisdiction fields against the registry", "Prevent"),)),
    Story("CAA records not checked before issuance", ("dv-misissuance", "policy-failure"),
          "Certificates were issued without checking CAA for domains added after the first validation.",
          "TLS BR v2.0.2 section 3.2.2.8", "DV TLS", "Orders with domains added after validation",
          "A code path for order amendments skipped the CAA check.",
          (("Check CAA on every amendment", "Prevent"), ("Compare issuance logs with CAA logs", "Detect"))),
)

SOURCE_LABEL = {"self_reported": "Self Reported", "third_party": "Third Party Reported", "audit": "Audit"}

_REP_LINES = (
    "We are investigating and will post a preliminary report shortly.",
    "Update: all affected certificates have been revoked.",
    "No change since the last update; the remaining action items are on track.",
    "The fix was deployed to production and the new lint is active.",
    "We reviewed every profile and found no other certificate with this problem.",
    "We will provide the next update by the date on the whiteboard.",
    "Action item 2 is complete; evidence is in the attached report.",
    "The remaining subscribers replaced their certificates this week.",
    "Our internal review found the same pattern in one more issuing CA; it is included in the appendix.",
    "We kindly ask that this bug be closed.",
)
_STAFF_LINES = (
    "Thanks for the report.",
    "Please post a full incident report by the deadline.",
    "Setting a Next update date on the whiteboard.",
    "I intend to close this bug on the date in the whiteboard unless there are further questions.",
    "Please add the timeline of the revocations to the report.",
    "The closure summary looks complete; closing.",
    "Please explain why the existing linting did not detect this.",
)
_REVIEWER_LINES = (
    "Could you clarify why the pre-issuance linting did not catch this?",
    "How many certificates are still valid?",
    "Other CAs reported the same problem last year; was that incident considered?",
    "The report does not say when issuance was stopped.",
    "Is the same profile used by any other issuing CA?",
    "Thanks, the timeline is clear now.",
    "See Bug 1654544 for a similar incident.",
    "crt.sh shows more certificates with the same pattern: https://crt.sh/?q=example",
)
_ANSWER_LINES = (
    "All affected certificates were revoked within 5 days.",
    "The linting covered the SAN only; the subject is now linted too.",
    "No other issuing CA uses this profile.",
    "We will provide the full answer after the internal review.",
    "Issuance was stopped two hours after the report.",
)


class CommentPool:
    """Comment bodies of one to three paragraphs, and their HTML rendered once per paragraph."""

    def __init__(self) -> None:
        self._html: dict[str, str] = {}

    def _render(self, paragraphs: list[str]) -> str:
        parts = []
        for p in paragraphs:
            html = self._html.get(p)
            if html is None:
                html = self._html[p] = markdown.render(p)
            parts.append(html)
        return "\n".join(parts)

    def body(self, rng: random.Random, role: str) -> tuple[str, str]:
        lines = {"rep": _REP_LINES, "staff": _STAFF_LINES, "reviewer": _REVIEWER_LINES,
                 "answer": _ANSWER_LINES}[role]
        paragraphs = rng.sample(lines, rng.choice((1, 1, 2, 2, 3)))
        return "\n\n".join(paragraphs), self._render(paragraphs)

    def text(self, paragraphs: list[str]) -> tuple[str, str]:
        return "\n\n".join(paragraphs), self._render(paragraphs)


# ----------------------------------------------------------------------------- reports

_SENTINEL_ID = "A999999"
_SENTINEL_DAY = date(1901, 1, 1)
_SENTINEL_INT = 9000000
_SENTINEL_RE = re.compile(r"1901-\d\d-\d\d|900000\d|A999999")
_APPENDIX_TAIL = "### Appendix\n\nN/A\n"
_APPENDIX_HTML_TAIL = "<p>N/A</p>"


def _sentinel_dates(count: int) -> list[date]:
    return [_SENTINEL_DAY + timedelta(days=i) for i in range(count)]


class ReportMaker:
    """Valid IRG reports (data, Markdown, HTML) for a story and an incident's dates."""

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple[str, str]] = {}
        self.full_renders = 0
        self.reused = 0
        self._fenced_checked = 0

    @staticmethod
    def preliminary_data(story: Story, source: str) -> dict:
        return {"incident_description": story.description, "relevant_policies": story.policies,
                "source_of_disclosure": SOURCE_LABEL[source]}

    @staticmethod
    def closure_data(story: Story) -> dict:
        return {"incident_description": story.description, "incident_root_causes": story.root_cause,
                "remediation_description": "All action items are complete: "
                + "; ".join(a for a, _ in story.actions) + ".",
                "commitment_summary": "We will keep the new checks in place and review them yearly."}

    @staticmethod
    def full_data(story: Story, *, ccadb_id: str, source: str, days: list[date], times: list[str],
                  counts: tuple[int, int], done: int, appendix: str) -> dict:
        """days: start, identified, end, then one per timeline row, then one due date per action item."""
        start, identified, end = days[0], days[1], days[2]
        timeline_days = days[3:6]
        due = days[6:]
        events = ("The problem was reported.", "Issuance was stopped.", "The fix was deployed.")
        return {
            "ca_owner_ccadb_id": ccadb_id,
            "incident_description": story.description,
            "non_compliance_start_date": start.isoformat(),
            "non_compliance_identified_date": identified.isoformat(),
            "non_compliance_end_date": end.isoformat(),
            "relevant_policies": story.policies,
            "source_of_disclosure": SOURCE_LABEL[source],
            "total_certificates": counts[0],
            "total_remaining_valid": counts[1],
            "affected_certificate_types": story.cert_types,
            "incident_heuristic": story.heuristic,
            "issuance_stopped": "Yes, until the fix was deployed.",
            "analysis": "N/A",
            "additional_considerations": "N/A",
            "timeline": [{"at": f"{d.isoformat()} {t}", "event": e} for d, t, e in zip(timeline_days, times, events, strict=True)],
            "related_incidents": "N/A",
            "root_causes": [{"description": story.root_cause, "timeline": "Since the profile was created.",
                             "detection": "N/A", "interaction": "N/A"}],
            "went_well": "Issuance was stopped quickly.",
            "went_badly": "The gap existed for a long time.",
            "got_lucky": "N/A",
            "lessons_additional": "N/A",
            "action_items": [
                {"action_item": item, "kind": kind, "root_causes": "#1", "evaluation_criteria": "N/A",
                 "due_date": d.isoformat(), "status": "Complete" if i < done else "Ongoing"}
                for i, ((item, kind), d) in enumerate(zip(story.actions, due, strict=True))
            ],
            "appendix": appendix,
        }

    def render(self, kind: str, data: dict, *, key: tuple, sentinel: dict, values: dict[str, str],
               verify: bool) -> tuple[str, str, reports.CleanReport | None]:
        """(Markdown, HTML, the validated report when `verify`) of a report whose data is already in
        the form CleanReport.to_data() gives. `sentinel` is the same report with sentinel values (and
        "N/A" as its appendix); `values` maps each sentinel text to the real one. With `verify` the
        data is validated and the Markdown compared with reports.render_markdown; a difference is a
        bug of the generator and stops the run."""
        cached = self._cache.get(key)
        if cached is None:
            s_text = reports.render_markdown(kind, reports.validate(kind, sentinel))
            cached = self._cache[key] = (s_text, markdown.render(s_text))
        s_text, s_html = cached

        def swap(m: re.Match) -> str:
            return values.get(m.group(0), m.group(0))

        text = _SENTINEL_RE.sub(swap, s_text)
        html = _SENTINEL_RE.sub(swap, s_html)
        appendix = data.get("appendix")
        if isinstance(appendix, str) and appendix != reports.NA:
            if not (text.endswith(_APPENDIX_TAIL) and html.endswith(_APPENDIX_HTML_TAIL)):
                raise RuntimeError("report template does not end with its appendix")
            fenced = f"```csv\n{appendix}\n```"
            text = text[:-len("N/A\n")] + fenced + "\n"
            html = html[:-len(_APPENDIX_HTML_TAIL)] + self._fenced_html(appendix, fenced)
        self.reused += 1
        clean = None
        if verify:
            clean = reports.validate(kind, data)
            if clean.to_data() != data or reports.render_markdown(kind, clean) != text:
                raise RuntimeError(f"generated {kind} report differs from what the app would post ({key})")
        return text, html, clean

    def _fenced_html(self, csv_text: str, fenced: str) -> str:
        """A fenced CSV block as markdown.render gives it: code text escaped as HTML. The shortcut is
        used only for text without &, <, > or backticks, and is checked against markdown.render on the
        first blocks of every run."""
        if any(c in csv_text for c in "&<>`"):
            self.full_renders += 1
            return markdown.render(fenced)
        html = f'<pre><code class="language-csv">{csv_text}\n</code></pre>'
        if self._fenced_checked < 20:
            self._fenced_checked += 1
            if markdown.render(fenced) != html:
                raise RuntimeError("markdown renders a fenced CSV block differently than expected")
        return html


def affected_csv(rows: list[tuple]) -> str:
    """rows: (precert sha256, cert sha256, subject, issuer, not_before, not_after, serial, dns, revoked_at)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(reports.AFFECTED_CSV_COLUMNS)
    for pre, sha, subject, issuer, nb, na, serial, dns, revoked_at in rows:
        writer.writerow([pre, sha, subject, issuer, _csv_time(nb), _csv_time(na), serial, dns,
                         "yes" if revoked_at else "no", _csv_time(revoked_at) if revoked_at else "",
                         "superseded" if revoked_at else ""])
    return out.getvalue().rstrip("\n")


def _csv_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
