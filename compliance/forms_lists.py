"""Forms of the incident list's additions (issue 16): saved searches and the import's owner aliases."""

from __future__ import annotations

from django import forms

from registry.models import CAOwner


class OwnerAliasForm(forms.Form):
    alias = forms.CharField(label="Name in bug titles", max_length=200,
                            help_text="As Bugzilla titles write it before the colon, e.g. Let's Encrypt.")
    ca_owner = forms.ModelChoiceField(label="CA owner", queryset=CAOwner.objects.none(),
                                      empty_label="Choose a CA owner")

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ca_owner"].queryset = CAOwner.objects.order_by("name")
        if owners is not None:  # the page's one list of owners, so every form on it reuses one query
            self.fields["ca_owner"].choices = [("", "Choose a CA owner"), *((o.pk, o.name) for o in owners)]


class SavedSearchForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)


class SavedSearchRenameForm(forms.Form):
    name = forms.CharField(label="New name", max_length=80)
