from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import actions
from accounts.forms import SignupForm


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = actions.user_sign_up(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. You can now file incidents and comment.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


def account(request):
    if not request.user.is_authenticated:
        return redirect("login")
    from accounts.models import AccountHistory
    from history import selectors as history

    # Who granted or revoked this person's CA representation, and when (registry.actions.owners).
    representation = history.for_subject(request.user).filter(action=AccountHistory.REPRESENTATION_CHANGED)
    return render(request, "accounts/account.html", {"representation_history": list(representation)})


# --- API keys --------------------------------------------------------------------------

from django.contrib.auth.decorators import login_required  # noqa: E402
from django.shortcuts import get_object_or_404  # noqa: E402
from django.views.decorators.cache import never_cache  # noqa: E402

from accounts import api_keys  # noqa: E402
from accounts.forms import ApiKeyForm  # noqa: E402
from accounts.models import ApiKey  # noqa: E402
from config.errors import DomainError  # noqa: E402


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_key_list(request):
    """List, name and create keys. A new key is shown in this response only: it is stored nowhere."""
    form = ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = api_keys.api_key_create(
                actor=request.user, name=form.cleaned_data["name"], read_only=form.cleaned_data["read_only"]
            )
            form = ApiKeyForm()
        except DomainError as exc:
            form.add_error("name", exc.message)
    return render(
        request,
        "accounts/api_keys.html",
        {"form": form, "created": created, "keys": api_keys.api_keys_of(user=request.user)},
        status=400 if request.method == "POST" and created is None else 200,
    )


@login_required
@require_http_methods(["POST"])
def api_key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk, user=request.user)
    api_keys.api_key_revoke(actor=request.user, key=key)
    messages.success(request, f"Key “{key.name}” ({key.prefix}…) is revoked: it no longer works.")
    return redirect("api_keys")


# --- sign-in and password reset, throttled (accounts.throttling) -----------------------

from django.contrib.auth import forms as auth_forms  # noqa: E402
from django.contrib.auth import views as auth_views  # noqa: E402

from accounts import throttling  # noqa: E402
from accounts.forms import SignInForm  # noqa: E402


class SignInView(auth_views.LoginView):
    form_class = SignInForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        wait = getattr(self.request, "signin_wait", None)
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response


class OutboxPasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form finds the accounts; the mail goes through the outbox (accounts.actions), so a
    mail server that is down never turns the request into an error, and it is retried."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        actions.password_reset_request(user=context["user"])


class PasswordResetView(auth_views.PasswordResetView):
    """Reset mails are limited per e-mail address and per client address: the form cannot be used
    to flood someone's mailbox or to probe addresses at speed."""

    form_class = OutboxPasswordResetForm

    def form_valid(self, form):
        wait = throttling.password_reset_wait(self.request, form.cleaned_data["email"])
        if wait is None:
            return super().form_valid(form)
        form.add_error(
            "email",
            f"Too many password reset requests for this e-mail address or from your address: retry after {wait} seconds.",
        )
        response = self.form_invalid(form)
        response.status_code = 429
        response["Retry-After"] = str(wait)
        return response
