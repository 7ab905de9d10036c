from django import forms

from notifications.models import Category, Delivery


class PreferenceForm(forms.Form):
    """One choice per category: `delivery` for deadline reminders, the others named by Category key
    (a category left out of a post keeps its choice)."""

    delivery = forms.ChoiceField(
        label="Deadline reminders", choices=Delivery.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for category, label in Category.choices:
            if category != Category.REMINDERS:
                self.fields[category] = forms.ChoiceField(
                    label=label, choices=EVENT_DELIVERY, widget=forms.RadioSelect, required=False)

    def by_category(self) -> dict[str, str]:
        chosen = {c: v for c, v in self.cleaned_data.items() if c in Category.values and v}
        chosen[Category.REMINDERS] = self.cleaned_data["delivery"]
        return chosen


# Events are told as they happen: the immediate choice reads so.
EVENT_DELIVERY = [
    (Delivery.IMMEDIATE, "E-mail each one as it happens"),
    (Delivery.DIGEST, "One e-mail a day with all of them"),
    (Delivery.NONE, "No e-mail (shown in Rootwatch only)"),
]


class WatchCAForm(forms.Form):
    ca_owner = forms.ModelChoiceField(label="Watch a CA owner", queryset=None, empty_label="Choose a CA owner")

    def __init__(self, *args, **kwargs):
        from registry.models import CAOwner

        super().__init__(*args, **kwargs)
        self.fields["ca_owner"].queryset = CAOwner.objects.order_by("name")


class WatchIncidentForm(forms.Form):
    number = forms.IntegerField(label="Join an incident's CC list (bug number)", min_value=1)
