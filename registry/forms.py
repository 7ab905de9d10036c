"""Forms of the CA registry pages."""

from __future__ import annotations

from django import forms

from registry.models import CAOwner


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class CertificateUploadForm(forms.Form):
    files = MultipleFileField(
        label="Certificate files",
        required=False,
        help_text="DER or PEM, PEM bundles, or CCADB AllCertificatePEMsCSVFormat CSV files. Several at once are fine.",
    )
    pem = forms.CharField(
        label="Or paste PEM",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
    )
    owner = forms.ModelChoiceField(
        label="CA owner",
        queryset=CAOwner.objects.order_by("name"),
        required=False,
        help_text="Given to the uploaded certificates that have no owner yet.",
    )

    def clean(self):
        data = super().clean()
        if not data.get("files") and not (data.get("pem") or "").strip():
            raise forms.ValidationError("Choose at least one file or paste a PEM certificate.")
        return data


class CertificateSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, fingerprint or serial number",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
