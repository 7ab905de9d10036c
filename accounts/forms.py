from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(label="E-mail address", help_text="Used for password resets and notifications.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What this key is for, e.g. 'CI dashboard'.")
    read_only = forms.BooleanField(
        label="Read-only", required=False, initial=True,
        help_text="A read-only key may only read (GET); it can never change anything.",
    )
