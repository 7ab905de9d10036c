"""Forms of the root store release pages and of the trust edit page."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms

from registry.models import Release, RootStoreEntry

_TRUST_CHOICES = [
    (RootStoreEntry.Trust.TRUSTED_DELEGATOR, "Trusted (as an issuer of certificates)"),
    (RootStoreEntry.Trust.MUST_VERIFY, "Not a trust anchor (must verify)"),
    (RootStoreEntry.Trust.NOT_TRUSTED, "Distrusted"),
]


class EntryTrustForm(forms.Form):
    """Trust bits and distrust-after dates of one root store entry (dates as UTC days, 00:00:00)."""

    trust_server = forms.ChoiceField(label="Websites (TLS server authentication)", choices=_TRUST_CHOICES)
    trust_email = forms.ChoiceField(label="E-mail (S/MIME)", choices=_TRUST_CHOICES)
    server_distrust_after = forms.DateField(
        label="Websites: distrust certificates issued after", required=False,
        help_text="A day (YYYY-MM-DD), read as 00:00:00 UTC; empty for none.")  # fmt: skip
    email_distrust_after = forms.DateField(
        label="E-mail: distrust certificates issued after", required=False,
        help_text="A day (YYYY-MM-DD), read as 00:00:00 UTC; empty for none.")  # fmt: skip

    FIELDS = ("trust_server", "trust_email", "server_distrust_after", "email_distrust_after")

    @classmethod
    def for_entry(cls, entry: RootStoreEntry) -> EntryTrustForm:
        initial = {name: getattr(entry, name) for name in cls.FIELDS}
        for name in ("server_distrust_after", "email_distrust_after"):
            if initial[name]:
                initial[name] = initial[name].astimezone(UTC).date()
        extra = [(v, RootStoreEntry.Trust(v).label) for v in (entry.trust_server, entry.trust_email)
                 if v not in dict(_TRUST_CHOICES)]  # fmt: skip
        form = cls(initial=initial)
        if extra:
            for name in ("trust_server", "trust_email"):
                form.fields[name].choices = _TRUST_CHOICES + extra
        return form

    def changes(self, entry: RootStoreEntry) -> dict:
        """The fields whose value differs from the entry's (dates as aware datetimes at 00:00 UTC)."""
        out = {}
        for name in self.FIELDS:
            value = self.cleaned_data[name]
            if name.endswith("distrust_after") and value is not None:
                value = datetime.combine(value, time(0, 0), tzinfo=UTC)
            if value != getattr(entry, name):
                out[name] = value
        return out


class ReleasePublishForm(forms.Form):
    nss_version = forms.CharField(label="NSS version", max_length=40, required=False, help_text="e.g. 3.110")
    roots_module_version = forms.CharField(label="Roots module version", max_length=40, required=False,
                                           help_text="e.g. 2.86")
    kind = forms.ChoiceField(label="Kind of release", choices=Release.Kind.choices)
    released_on = forms.DateField(label="Release date", help_text="YYYY-MM-DD")
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("nss_version", "").strip() or data.get("roots_module_version", "").strip()):
            self.add_error("nss_version", "Give the NSS version or the roots module version.")
        return data


class CompareForm(forms.Form):
    older = forms.TypedChoiceField(label="From release", coerce=int, choices=())
    newer = forms.TypedChoiceField(label="To release", coerce=int, choices=())

    def __init__(self, *args, releases=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a release")] + [(r.pk, f"{r.name}" + (f" ({r.released_on:%Y-%m-%d})" if r.released_on else ""))
                                                 for r in releases]  # fmt: skip
        for name in ("older", "newer"):
            self.fields[name].choices = choices
            self.fields[name].error_messages["invalid_choice"] = "Choose a release from the list."
            self.fields[name].error_messages["required"] = "Choose a release."
