"""The incident page's attachment forms: they only parse input; compliance.actions.attachments validates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings


class AttachmentForm(forms.Form):
    file = forms.FileField(label="File", help_text="")
    description = forms.CharField(label="Description", max_length=400,
                                  help_text="What the file is, e.g. “Affected certificates (CSV)”.")
    comment = forms.CharField(label="Comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Posted with the file. Markdown.")
    is_private = forms.BooleanField(label="Private (root program staff and this CA's representatives only)",
                                    required=False)

    def __init__(self, *args: Any, can_private: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = int(settings.ATTACHMENT_MAX_BYTES)
        self.fields["file"].help_text = (
            f"At most {limit / (1024 * 1024):.0f} MB. Its type is read from its contents (PDF, images, ZIP, gzip, "
            "certificates, CSV and text are recognised)."
        )
        if not can_private:
            del self.fields["is_private"]


class AttachmentChangeForm(forms.Form):
    is_obsolete = forms.BooleanField(required=False)
    is_private = forms.BooleanField(required=False)
    what = forms.ChoiceField(choices=[("obsolete", "obsolete"), ("private", "private")])
