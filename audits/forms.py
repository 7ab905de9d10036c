"""Forms of the audits pages: they parse and validate input; audits.actions does the rest."""

from __future__ import annotations

from django import forms

from audits.actions import (
    DomainError,
    criteria_from_text,
    findings_from_text,
    fingerprints_from_text,
    validate_pdf,
)
from audits.domain.criteria import extract_fingerprints
from audits.models import Auditor, AuditorQualification, AuditStatement

DATE = forms.DateInput(attrs={"type": "date"})


class DomainCheckedForm(forms.Form):
    def _parse(self, field_name: str, parser):
        try:
            return parser(self.cleaned_data.get(field_name, ""))
        except DomainError as exc:
            raise forms.ValidationError(exc.errors.get(field_name, [exc.message])) from None


class StatementForm(DomainCheckedForm):
    auditor = forms.ModelChoiceField(queryset=Auditor.objects.order_by("name"), required=False,
                                     help_text="The audit firm that issued the statement.")
    new_auditor_name = forms.CharField(
        label="Or, auditor not listed", max_length=255, required=False,
        help_text="The firm's name; root program staff will verify its qualifications.",
    )
    source = forms.ChoiceField(choices=AuditStatement.Source.choices, initial=AuditStatement.Source.CA,
                               help_text="Statements from the CA are confirmed with the auditor before they count.")
    kind = forms.ChoiceField(label="Kind of audit", choices=AuditStatement.Kind.choices, initial="period")
    period_start = forms.DateField(label="Period start (or as-of date)", widget=DATE)
    period_end = forms.DateField(label="Period end", widget=DATE, required=False,
                                 help_text="Leave empty for a point-in-time audit.")
    statement_date = forms.DateField(label="Statement date", widget=DATE)
    url = forms.URLField(label="Statement URL", max_length=1000, required=False, assume_scheme="https")
    file = forms.FileField(label="Statement PDF", required=False, help_text="PDF only, at most 25 MB.",
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}))
    criteria = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line with its version, as the statement names it, e.g. "
        "<code>WebTrust for CAs - SSL Baseline 2.8</code> or <code>ETSI EN 319 411-1 V1.4.1 (DVCP, OVCP)</code>.",
    )
    fingerprints = forms.CharField(
        label="SHA-256 fingerprints in scope", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, 64 hex digits (colons allowed).",
    )
    statement_text = forms.CharField(
        label="Or paste the statement's text", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Every SHA-256 fingerprint found in it is added to the scope.",
    )
    findings = forms.CharField(
        label="Qualifications reported", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: <code>minor: …</code>, <code>major: …</code> or <code>critical: …</code>.",
    )

    def __init__(self, *args, can_set_source: bool, auditors=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if auditors is not None:  # the ones the person filling it may see (accounts.permissions.can_view_auditor)
            self.fields["auditor"].queryset = auditors.order_by("name")
        if not can_set_source or editing:
            del self.fields["source"]
        if editing:
            del self.fields["new_auditor_name"]
            self.fields["auditor"].required = True

    def clean_criteria(self):
        return self._parse("criteria", criteria_from_text)

    def clean_fingerprints(self):
        return self._parse("fingerprints", fingerprints_from_text)

    def clean_findings(self):
        return self._parse("findings", findings_from_text)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                validate_pdf(upload)
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
        return upload or None

    def clean(self):
        data = super().clean()
        extracted = extract_fingerprints(data.get("statement_text") or "")
        data["all_fingerprints"] = list(dict.fromkeys([*(data.get("fingerprints") or []), *extracted]))
        if "new_auditor_name" in self.fields and not data.get("auditor") and not data.get("new_auditor_name"):
            self.add_error("auditor", "Choose the auditor, or type its name below.")
        return data


class AuditorForm(forms.Form):
    name = forms.CharField(max_length=255)
    location = forms.CharField(max_length=255, required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    contact_name = forms.CharField(label="Verification contact", max_length=255, required=False)
    contact_email = forms.EmailField(label="Verification contact e-mail", required=False,
                                     help_text="Rootwatch sends verification links here; CAs never see it.")


class QualificationForm(forms.Form):
    scheme = forms.ChoiceField(choices=AuditorQualification.Scheme.choices)
    accrediting_body = forms.CharField(
        max_length=255, required=False,
        help_text="CPA Canada for WebTrust; the national accreditation body (e.g. DAkkS, COFRAC) for ETSI.",
    )
    method = forms.ChoiceField(label="How it was verified", choices=AuditorQualification.Method.choices)
    evidence_url = forms.URLField(label="Evidence URL", max_length=500, required=False, assume_scheme="https",
                                  help_text="The scheme's list naming the auditor.")
    representative = forms.CharField(max_length=255, required=False,
                                     help_text="Who confirmed, for confirmations by a representative.")
    verified_on = forms.DateField(widget=DATE)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ApprovalForm(forms.Form):
    approval = forms.ChoiceField(choices=Auditor.Approval.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class AuditorAnswerForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=255)
    note = forms.CharField(label="Note (optional)", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class StaffVerificationForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", "The auditor confirmed it"), ("deny", "The auditor denied it")],
                                 widget=forms.RadioSelect)
    note = forms.CharField(label="How the auditor answered", widget=forms.Textarea(attrs={"rows": 2}))
