from django import forms

from notifications.models import Delivery


class PreferenceForm(forms.Form):
    delivery = forms.ChoiceField(
        label="How should reminders reach you?", choices=Delivery.choices, widget=forms.RadioSelect
    )


class WatchCAForm(forms.Form):
    ca_owner = forms.ModelChoiceField(label="Watch a CA owner", queryset=None, empty_label="Choose a CA owner")

    def __init__(self, *args, **kwargs):
        from registry.models import CAOwner

        super().__init__(*args, **kwargs)
        self.fields["ca_owner"].queryset = CAOwner.objects.order_by("name")


class WatchIncidentForm(forms.Form):
    number = forms.IntegerField(label="Watch an incident (bug number)", min_value=1)
