from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(label="E-mail address", help_text="Used for password resets and notifications.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
