"""Pages that keep CA owner records (issue 14): create and edit an owner with its contacts and URLs,
grant and revoke representation, attach intermediates by chaining. Thin: ask, call one action, render.

Who may: accounts.permissions.can_edit_ca_owner / can_manage_representation / can_edit_registry
(staff only); anonymous visitors are sent to sign in, everyone else gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from config.errors import DomainError
from registry import selectors_owners
from registry.actions.chaining import owners_attach_by_chaining
from registry.actions.owners import ca_owner_create, ca_owner_update, representation_grant, representation_revoke
from registry.forms_owners import RepresentativeGrantForm, apply_errors, owner_forms
from registry.models import CAOwner


def _allow(request, allowed: bool, refusal: str):
    """None when the request may go on; otherwise the answer (sign in, or 403)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed:
        raise PermissionDenied(refusal)
    return None


def _save(request, owner: CAOwner | None):
    """Validate the three forms and call the action; (owner, forms) — owner None when refused."""
    form, contacts, urls = owner_forms(request.POST)
    valid = all([form.is_valid(), contacts.is_valid(), urls.is_valid()])
    if not valid:
        return None, (form, contacts, urls)
    contact_rows, url_rows = contacts.rows(), urls.rows()
    values = dict(form.cleaned_data)
    try:
        if owner is None:
            saved = ca_owner_create(
                actor=request.user, **values,
                contacts=[row for _i, row in contact_rows], urls=[row for _i, row in url_rows],
            )
        else:
            saved = ca_owner_update(
                actor=request.user, owner=owner, **values,
                contacts=[row for _i, row in contact_rows], urls=[row for _i, row in url_rows],
            )
    except DomainError as exc:
        apply_errors(
            exc.errors or {"owner": [exc.message]}, form,
            {"contacts": (contacts, [i for i, _ in contact_rows]), "urls": (urls, [i for i, _ in url_rows])},
        )
        if not exc.errors:
            form.add_error(None, exc.message)
        return None, (form, contacts, urls)
    return saved, (form, contacts, urls)


def _form_page(request, owner: CAOwner | None, forms, status: int = 200):
    form, contacts, urls = forms
    return render(
        request, "registry/ca_form.html",
        {"owner": owner, "form": form, "contacts": contacts, "urls": urls},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def ca_create(request):
    refused = _allow(request, permissions.can_edit_ca_owner(request.user, None), "Only root program staff create CA owner records.")
    if refused:
        return refused
    if request.method == "POST":
        owner, forms = _save(request, None)
        if owner is not None:
            messages.success(request, f"CA owner “{owner.name}” created.")
            return redirect(owner)
        return _form_page(request, None, forms, status=400)
    return _form_page(request, None, owner_forms())


@require_http_methods(["GET", "POST"])
def ca_edit(request, pk: int):
    owner = get_object_or_404(selectors_owners.owner_with_lists(), pk=pk)
    refused = _allow(request, permissions.can_edit_ca_owner(request.user, owner), "Only root program staff change CA owner records.")
    if refused:
        return refused
    if request.method == "POST":
        saved, forms = _save(request, owner)
        if saved is not None:
            messages.success(request, f"CA owner “{saved.name}” saved.")
            return redirect(saved)
        return _form_page(request, owner, forms, status=400)
    return _form_page(request, owner, owner_forms(owner=owner))


@require_POST
def ca_representative_grant(request, pk: int):
    owner = get_object_or_404(CAOwner, pk=pk)
    refused = _allow(request, permissions.can_manage_representation(request.user, owner), "Only root program staff grant CA representation.")
    if refused:
        return refused
    form = RepresentativeGrantForm(request.POST)
    if form.is_valid():
        user = selectors_owners.find_user(form.cleaned_data["user"])
        if user is None:
            form.add_error("user", f"No account with the user name or e-mail address “{form.cleaned_data['user']}”.")
        else:
            try:
                if representation_grant(actor=request.user, owner=owner, user=user):
                    messages.success(request, f"{user.username} now represents {owner.name}.")
                else:
                    messages.info(request, f"{user.username} already represents {owner.name}.")
                return redirect(f"{owner.get_absolute_url()}#representatives")
            except DomainError as exc:
                form.add_error("user", exc.message)
    from registry.views import ca_detail_response

    return ca_detail_response(request, owner, grant_form=form, status=400)


@require_POST
def ca_representative_revoke(request, pk: int, user_id: int):
    owner = get_object_or_404(CAOwner, pk=pk)
    refused = _allow(request, permissions.can_manage_representation(request.user, owner), "Only root program staff revoke CA representation.")
    if refused:
        return refused
    user = get_object_or_404(selectors_owners.representatives_of(owner), pk=user_id)
    representation_revoke(actor=request.user, owner=owner, user=user)
    messages.success(request, f"{user.username} no longer represents {owner.name}.")
    return redirect(f"{owner.get_absolute_url()}#representatives")


@require_http_methods(["GET", "POST"])
def attach_by_chaining(request):
    refused = _allow(request, permissions.can_edit_registry(request.user), "Only root program staff attach owners.")
    if refused:
        return refused
    summary = None
    if request.method == "POST":
        summary = owners_attach_by_chaining(actor=request.user)
    return render(request, "registry/attach_by_chaining.html", {"summary": summary})
