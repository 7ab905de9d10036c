"""Forms of the distrust pages: they parse input; distrust/actions.py decides."""

from __future__ import annotations

import re

from django import forms

from config.filters import UTCDateTimeField
from distrust import workflow
from distrust.actions import CSV_COLUMNS
from distrust.actions import SOURCES as BULK_SOURCES
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
    title = forms.CharField(max_length=300, help_text="Staff only while it may hold confidential text.")
    public_title = forms.CharField(
        max_length=300, required=False,
        help_text="What everyone reads once the action is public, and the OneCRL records' reason. Empty: the "
                  "title, unless it came from a security-sensitive incident.")
    incident_numbers = IncidentNumbersField(label="Incidents", required=False,
                                            help_text="Bug numbers of the incidents this action comes from.")
    kind = forms.ChoiceField(choices=DistrustAction.Kind.choices, initial=DistrustAction.Kind.FULL)
    purpose_server = forms.BooleanField(label="Websites (TLS server authentication)", required=False, initial=True)
    purpose_email = forms.BooleanField(label="E-mail (S/MIME)", required=False)
    distrust_after = UTCDateTimeField(required=False, widget=DATETIME, help_text="UTC; for distrust-after only.")
    bug = forms.CharField(label="Bugzilla bug", max_length=200, required=False)
    reported_by = forms.CharField(max_length=300, required=False)
    reported_on = forms.DateField(required=False, widget=DATE)
    decision = forms.CharField(label="Course of action (draft)", required=False, widget=TEXT,
                               help_text="Starts from the immediate minimum response of the incident's classification.")
    is_embargoed = forms.BooleanField(label="Embargoed (staff only until released)", required=False)
    is_security_incident = forms.BooleanField(label="Security incident (gets a CVE)", required=False)


# How a field looks in whichever step's form asks for it (workflow.STEPS says which step does).
# Fields that are not plain model fields, or need a URL scheme assumed, are declared here.
FORM_FIELDS = {
    "incident_numbers": lambda: IncidentNumbersField(label="Incidents", required=False),
    "discussion_url": lambda: forms.URLField(label="Discussion link", required=False, assume_scheme="https"),
    "blog_url": lambda: forms.URLField(label="Blog post", required=False, assume_scheme="https"),
}
WIDGETS = {
    "reported_on": DATE, "decided_on": DATE, "distrust_after": DATETIME, "decision": TEXT, "rationale": TEXT,
    "impact_notes": TEXT, "release_date": DATE, "onecrl_published_on": DATE,
    "announcement": forms.Textarea(attrs={"rows": 14}), "user_visible_result": TEXT,
}
HELP_TEXTS = {"distrust_after": "UTC. Certificates issued after it are no longer trusted."}


def step_form(step: workflow.Step) -> type[forms.ModelForm]:
    """The form of one step: exactly the fields of its row in the workflow table, in the table's order."""
    meta = type("Meta", (), {
        "model": DistrustAction,
        "fields": list(step.fields),
        "widgets": {name: w for name, w in WIDGETS.items() if name in step.fields},
        "help_texts": {name: h for name, h in HELP_TEXTS.items() if name in step.fields},
    })
    declared = {name: make() for name, make in FORM_FIELDS.items() if name in step.fields}
    name = "".join(word.capitalize() for word in step.title.split()) + "StepForm"
    # __test__: a form named "TestStepForm" is not a pytest test class.
    return type(name, (forms.ModelForm,), {"Meta": meta, "__module__": __name__, "__test__": False, **declared})


STEP_FORMS: dict[str, type[forms.ModelForm]] = {s.key: step_form(s) for s in workflow.STEPS}


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


def _owner_queryset():
    from registry.models import CAOwner

    return CAOwner.objects.order_by("name")


class BulkTargetsForm(forms.Form):
    """Many targets at once (distrust.actions.bulk): the page previews first, then staff confirm."""

    source = forms.ChoiceField(label="Where the certificates come from", widget=forms.RadioSelect,
                               choices=[(k, v) for k, v in BULK_SOURCES.items()])
    upload = forms.FileField(label="File (PEM bundle or CSV)", required=False,
                             help_text="Its text is copied into the box below, so the preview and the "
                                       "confirmation read the same.")
    text = forms.CharField(label="Or paste the PEM bundle or CSV", required=False,
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
                           help_text="CSV: a header with sha256, or with issuer and serial (issuer as base64 or hex "
                                     "DER, or as a name such as CN=..., O=..., C=...); label optional.")
    incident = forms.IntegerField(label="Incident (bug) number", required=False, min_value=1,
                                  help_text="Its latest full report's affected certificates.")
    owner = forms.ModelChoiceField(label="CA owner", queryset=None, required=False,
                                   help_text="Every root and intermediate the registry attaches to it.")
    digest = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owner_queryset()

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload:
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("upload", "The file is not UTF-8 text (a PEM bundle or a CSV).")
        return data
