"""Forms of the distrust pages: they parse input; distrust/actions.py decides."""

from __future__ import annotations

import re

from django import forms

from distrust.actions import CSV_COLUMNS
from distrust.models import ClosureItem, DistrustAction

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT = forms.Textarea(attrs={"rows": 4})


class IncidentNumbersField(forms.CharField):
    default_error_messages = {"invalid": "Give incident (bug) numbers separated by commas or spaces."}

    def to_python(self, value):
        value = super().to_python(value)
        parts = [p for p in re.split(r"[\s,]+", value or "") if p]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return [int(p) for p in parts]

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value)
        return value


class ActionCreateForm(forms.Form):
    title = forms.CharField(max_length=300)
    incident_numbers = IncidentNumbersField(label="Incidents", required=False,
                                            help_text="Bug numbers of the incidents this action comes from.")
    kind = forms.ChoiceField(choices=DistrustAction.Kind.choices, initial=DistrustAction.Kind.FULL)
    purpose_server = forms.BooleanField(label="Websites (TLS server authentication)", required=False, initial=True)
    purpose_email = forms.BooleanField(label="E-mail (S/MIME)", required=False)
    distrust_after = forms.DateTimeField(required=False, widget=DATETIME, help_text="UTC; for distrust-after only.")
    bug = forms.CharField(label="Bugzilla bug", max_length=200, required=False)
    reported_by = forms.CharField(max_length=300, required=False)
    reported_on = forms.DateField(required=False, widget=DATE)
    decision = forms.CharField(label="Course of action (draft)", required=False, widget=TEXT,
                               help_text="Starts from the immediate minimum response of the incident's classification.")
    is_embargoed = forms.BooleanField(label="Embargoed (staff only until released)", required=False)
    is_security_incident = forms.BooleanField(label="Security incident (gets a CVE)", required=False)


class ReportForm(forms.ModelForm):
    incident_numbers = IncidentNumbersField(label="Incidents", required=False)

    class Meta:
        model = DistrustAction
        fields = ["reported_by", "reported_on"]
        widgets = {"reported_on": DATE}


class DecideForm(forms.ModelForm):
    discussion_url = forms.URLField(label="Discussion link", required=False, assume_scheme="https")

    class Meta:
        model = DistrustAction
        fields = ["decision", "rationale", "discussed_in", "discussion_url", "decided_on", "kind", "purpose_server",
                  "purpose_email", "distrust_after", "bug"]
        widgets = {"decided_on": DATE, "distrust_after": DATETIME, "decision": TEXT, "rationale": TEXT}
        help_texts = {"distrust_after": "UTC. Certificates issued after it are no longer trusted."}


class ImpactForm(forms.ModelForm):
    class Meta:
        model = DistrustAction
        fields = ["impact_notes"]
        widgets = {"impact_notes": TEXT}


class ImplementForm(forms.ModelForm):
    class Meta:
        model = DistrustAction
        fields = ["include_certificate_objects"]


class TestStepForm(forms.ModelForm):
    __test__ = False

    class Meta:
        model = DistrustAction
        fields: list[str] = []


class ReleaseForm(forms.ModelForm):
    class Meta:
        model = DistrustAction
        fields = ["nss_version", "roots_module_version", "release_kind", "release_date", "onecrl_published_on"]
        widgets = {"release_date": DATE, "onecrl_published_on": DATE}


class CommunicateForm(forms.ModelForm):
    blog_url = forms.URLField(label="Blog post", required=False, assume_scheme="https")

    class Meta:
        model = DistrustAction
        fields = ["announcement", "is_security_incident", "cve_id", "all_cas_mailed", "blog_url"]
        widgets = {"announcement": forms.Textarea(attrs={"rows": 14})}


class ResultForm(forms.ModelForm):
    class Meta:
        model = DistrustAction
        fields = ["user_visible_result"]
        widgets = {"user_visible_result": TEXT}


STEP_FORMS = {
    "report": ReportForm,
    "decide": DecideForm,
    "impact": ImpactForm,
    "implement": ImplementForm,
    "test": TestStepForm,
    "release": ReleaseForm,
    "communicate": CommunicateForm,
    "result": ResultForm,
}


class ReopenForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why the step is reopened.")


class TargetForm(forms.Form):
    sha256 = forms.CharField(label="Registry certificate (SHA-256)", required=False, max_length=100)
    issuer = forms.CharField(label="Or issuer (base64 or hex of the DER Name)", required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    serial = forms.CharField(label="and serial number (hex)", required=False, max_length=200)
    label = forms.CharField(label="Label (optional)", required=False, max_length=255)


class UsageForm(forms.Form):
    root = forms.CharField(max_length=255, help_text="Root label or SHA-256.")
    metric = forms.CharField(max_length=200, help_text="e.g. TLS handshakes (%) from telemetry.")
    value = forms.DecimalField(max_digits=20, decimal_places=6)
    period = forms.CharField(max_length=100, required=False)


class UsageCSVForm(forms.Form):
    csv_file = forms.FileField(label="Usage CSV", required=False,
                               help_text="Columns: " + ", ".join(CSV_COLUMNS) + " (period optional).")
    csv_text = forms.CharField(label="Or paste the CSV", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def text(self) -> str:
        f = self.cleaned_data.get("csv_file")
        if f:
            try:
                return f.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The CSV file is not UTF-8.") from None
        return self.cleaned_data.get("csv_text") or ""


class ClosureForm(forms.Form):
    decision = forms.ChoiceField(choices=[(ClosureItem.Decision.ADDED, "Add to the distrust"),
                                          (ClosureItem.Decision.WAIVED, "Waive")])
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required to waive.")


class TestCertificateForm(forms.Form):
    __test__ = False

    sha256 = forms.CharField(label="Registry certificate (SHA-256)", required=False, max_length=100)
    upload = forms.FileField(label="Or upload a certificate (PEM or DER)", required=False)
    pem = forms.CharField(label="Or paste a PEM certificate", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def data_bytes(self) -> bytes:
        f = self.cleaned_data.get("upload")
        if f:
            return f.read()
        return (self.cleaned_data.get("pem") or "").encode()
