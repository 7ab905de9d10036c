from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from accounts import throttling
from accounts.models import User


class SignInForm(AuthenticationForm):
    """Django's sign-in form, saying so when the throttle (accounts.throttling) refused the attempt."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            wait = getattr(self.request, "signin_wait", None)
            if wait is not None:
                raise ValidationError(throttling.signin_refusal(wait), code="throttled") from None
            raise


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
