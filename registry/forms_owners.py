"""Forms of the CA owner pages (issue 14): the record, its contacts and URLs, representation.

Rows of contacts and URLs are formsets; a row left empty is no row (that is how one is removed).
The action validates again and its errors are put back next to the fields (`apply_errors`).
"""

from __future__ import annotations

from typing import Any

from django import forms

from registry.models import CAOwner, CAOwnerURL


class CAOwnerForm(forms.Form):
    name = forms.CharField(label="Name", max_length=255)
    ccadb_id = forms.CharField(
        label="CCADB unique ID", max_length=7, required=False,
        help_text="'A' followed by 6 digits, e.g. A000123. Leave empty while the CA has none.",
    )
    country = forms.CharField(label="Country", max_length=100, required=False)
    status = forms.ChoiceField(label="Status", choices=CAOwner.Status.choices, initial=CAOwner.Status.APPLYING)


class _RowForm(forms.Form):
    """A row: all fields optional; a row with anything typed needs its required parts."""

    needed: tuple[str, ...] = ()

    def has_values(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return any(str(v or "").strip() for v in data.values())

    def clean(self):
        data = super().clean()
        if any(str(v or "").strip() for v in data.values()):
            for name in self.needed:
                if not str(data.get(name) or "").strip() and name not in self.errors:
                    self.add_error(name, f"{self.fields[name].label} is needed for this row (or empty the row).")
        return data


class ContactForm(_RowForm):
    needed = ("name", "email")
    name = forms.CharField(label="Contact name", max_length=255, required=False)
    email = forms.EmailField(label="E-mail address", required=False)
    role = forms.CharField(label="Role", max_length=100, required=False, help_text="e.g. Primary POC")


class URLForm(_RowForm):
    needed = ("kind", "url")
    kind = forms.ChoiceField(label="Kind", choices=[("", "—")] + list(CAOwnerURL.Kind.choices), required=False)
    url = forms.URLField(label="URL", max_length=1000, required=False, assume_scheme="https")


class _RowFormSet(forms.BaseFormSet):
    def _construct_form(self, i, **kwargs):
        # Every row may be left empty, the stored ones too (emptying a row removes it).
        kwargs["empty_permitted"] = True
        kwargs["use_required_attribute"] = False
        return super()._construct_form(i, **kwargs)

    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        """(form index, values) of the rows with anything typed."""
        return [(i, dict(f.cleaned_data)) for i, f in enumerate(self.forms) if f.has_values()]


ContactFormSet = forms.formset_factory(ContactForm, formset=_RowFormSet, extra=2, max_num=50, absolute_max=60)
URLFormSet = forms.formset_factory(URLForm, formset=_RowFormSet, extra=3, max_num=50, absolute_max=60)


def owner_forms(data=None, *, owner: CAOwner | None = None):
    """The record form and its two row formsets, bound to `data` or filled from `owner`."""
    if data is not None:
        return (
            CAOwnerForm(data, prefix="owner"),
            ContactFormSet(data, prefix="contacts"),
            URLFormSet(data, prefix="urls"),
        )
    initial = None
    contacts: list[dict] = []
    urls: list[dict] = []
    if owner is not None:
        initial = {"name": owner.name, "ccadb_id": owner.ccadb_id or "", "country": owner.country, "status": owner.status}
        contacts = [{"name": c.name, "email": c.email, "role": c.role} for c in owner.contacts.all()]
        urls = [{"kind": u.kind, "url": u.url} for u in owner.urls.all()]
    return (
        CAOwnerForm(initial=initial, prefix="owner"),
        ContactFormSet(initial=contacts, prefix="contacts"),
        URLFormSet(initial=urls, prefix="urls"),
    )


def apply_errors(errors: dict[str, list[str]], form: forms.Form, sets: dict[str, tuple[_RowFormSet, list[int]]]) -> None:
    """Put an action's errors ("ccadb_id", "contacts.0.email", ...) next to the fields they name.
    `sets` maps "contacts"/"urls" to the formset and the form index of each row given to the action."""
    for key, messages in errors.items():
        head, _, rest = key.partition(".")
        if head in sets and rest:
            formset, indexes = sets[head]
            pos, _, field = rest.partition(".")
            target = formset.forms[indexes[int(pos)]]
            for message in messages:
                target.add_error(field if field in target.fields else None, message)
        else:
            for message in messages:
                form.add_error(key if key in form.fields else None, message)


class RepresentativeGrantForm(forms.Form):
    user = forms.CharField(
        label="User name or e-mail address", max_length=254,
        help_text="The person's account; they may then file reports and statements for this CA owner.",
    )
