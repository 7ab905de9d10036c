"""Pages of the incident list's additions (issue 16): saved searches, and the staff pages of the
Bugzilla import's CA owner aliases and unmatched title prefixes. Thin: ask accounts.permissions,
call one action, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions as perm
from compliance import list_columns
from compliance.actions import owner_aliases as alias_act
from compliance.actions import saved_searches as search_act
from compliance.domain.owner_names import whole_key
from compliance.forms_lists import OwnerAliasForm, SavedSearchForm, SavedSearchRenameForm
from compliance.models import OwnerAlias, SavedSearch, UnmatchedOwnerPrefix
from config.errors import DomainError, NotPermitted
from registry.models import CAOwner


def _deny(request) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied


def _place(form, exc: DomainError) -> None:
    placed = False
    for name, msgs in exc.errors.items():
        for msg in msgs:
            visible = name in form.fields and not form.fields[name].widget.is_hidden
            form.add_error(name if visible else None, f"{msg}" if visible else f"The filter: {msg}")
            placed = True
    if not placed:
        form.add_error(None, exc.message)


# --------------------------------------------------------------------------- the list's extras


def list_context(request, filters, query: str) -> dict[str, Any]:
    """What the incident list page adds for columns and saving its search (no query of its own)."""
    shown, column_error = list_columns.chosen(request.GET)
    return {
        "columns": shown,
        "column_choices": list_columns.choices(shown),
        "column_error": column_error,
        "can_save_search": perm.can_save_search(request.user) and filters.is_valid(),
        "save_search_form": SavedSearchForm(initial={"query": query}),
    }


# --------------------------------------------------------------------------- saved searches


def _own_search(request, pk: int) -> SavedSearch:
    """Another's saved search is as absent as one that does not exist."""
    search = SavedSearch.objects.filter(perm.saved_search_visibility_q(request.user), pk=pk).first()
    if search is None:
        raise Http404("No such saved search.")
    return search


@require_http_methods(["GET", "POST"])
def saved_searches(request):
    """GET: the user's saved searches with their feed and CSV links; POST: save the list's filter."""
    if not perm.can_save_search(request.user):
        return _deny(request)
    form = SavedSearchForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                search = search_act.search_save(actor=request.user, name=form.cleaned_data["name"],
                                                query=form.cleaned_data["query"])
            except DomainError as exc:
                _place(form, exc)
            else:
                messages.success(request, f"Saved the search “{search.name}”.")
                return redirect(reverse("compliance:incident_list") + (f"?{search.query}" if search.query else ""))
        status = 400
    searches = list(SavedSearch.objects.filter(perm.saved_search_visibility_q(request.user)))
    return render(request, "compliance/lists/saved_searches.html", {
        "searches": searches, "form": form, "rename_form": SavedSearchRenameForm(),
    }, status=status)


@require_POST
def saved_search_rename(request, pk: int):
    if not perm.can_save_search(request.user):
        return _deny(request)
    search = _own_search(request, pk)
    form = SavedSearchRenameForm(request.POST)
    if form.is_valid():
        try:
            search_act.search_rename(actor=request.user, search=search, name=form.cleaned_data["name"])
        except NotPermitted:
            raise Http404("No such saved search.") from None
        except DomainError as exc:
            _place(form, exc)
        else:
            messages.success(request, f"Renamed to “{search.name}”.")
            return redirect("compliance:saved_searches")
    searches = list(SavedSearch.objects.filter(perm.saved_search_visibility_q(request.user)))
    return render(request, "compliance/lists/saved_searches.html", {
        "searches": searches, "form": SavedSearchForm(), "rename_form": form, "renaming": search.pk,
    }, status=400)


@require_POST
def saved_search_delete(request, pk: int):
    if not perm.can_save_search(request.user):
        return _deny(request)
    search = _own_search(request, pk)
    try:
        search_act.search_delete(actor=request.user, search=search)
    except NotPermitted:
        raise Http404("No such saved search.") from None
    messages.success(request, f"Deleted the search “{search.name}”.")
    return redirect("compliance:saved_searches")


# --------------------------------------------------------------------------- owner aliases (staff)


def _owners() -> list[CAOwner]:
    return list(CAOwner.objects.order_by("name").only("pk", "name"))


@require_http_methods(["GET", "POST"])
def owner_aliases(request):
    """The alias table: add (POST without `alias_id`), change (`alias_id`), remove (`delete`)."""
    if not perm.can_edit_owner_aliases(request.user):
        return _deny(request)
    owners = _owners()
    by_key = {whole_key(o.name): o for o in owners}
    alias_id = request.POST.get("alias_id", "") if request.method == "POST" else ""
    instance = None
    if alias_id:
        instance = OwnerAlias.objects.filter(pk=int(alias_id)).first() if alias_id.isascii() and alias_id.isdigit() else None
        if instance is None:
            raise Http404("No such alias.")
    form = OwnerAliasForm(request.POST or None, owners=owners, initial={"alias": request.GET.get("alias", "")[:200]},
                          auto_id=f"id_a{instance.pk}_%s" if instance else "id_%s")
    failed_id, status = None, 200
    if request.method == "POST":
        try:
            if instance is not None and "delete" in request.POST:
                alias_act.alias_delete(actor=request.user, alias=instance)
                messages.success(request, f"Removed the alias “{instance.alias}”.")
                return redirect("compliance:owner_aliases")
            if form.is_valid():
                row = alias_act.alias_save(actor=request.user, alias=form.cleaned_data["alias"],
                                           ca_owner=form.cleaned_data["ca_owner"], instance=instance)
                messages.success(request, f"“{row.alias}” now names {row.owner_name}. The next import uses it.")
                return redirect("compliance:owner_aliases")
        except NotPermitted:
            raise PermissionDenied from None
        except DomainError as exc:
            _place(form, exc)
        failed_id, status = (instance.pk if instance else None), 400
    rows = []
    for alias in OwnerAlias.objects.all():
        owner = by_key.get(whole_key(alias.owner_name))
        edit = form if failed_id == alias.pk else OwnerAliasForm(
            owners=owners, auto_id=f"id_a{alias.pk}_%s",
            initial={"alias": alias.alias, "ca_owner": owner.pk if owner else None})
        rows.append({"alias": alias, "owner": owner, "form": edit})
    return render(request, "compliance/lists/owner_aliases.html", {
        "rows": rows, "form": form if failed_id is None else OwnerAliasForm(owners=owners),
        "unmatched_count": UnmatchedOwnerPrefix.objects.count(),
    }, status=status)


@require_http_methods(["GET"])
def owner_prefixes_unmatched(request):
    """The title prefixes the last import matched to no CA owner, most bugs first, each with a link
    to map it (the alias form filled in). Nothing is guessed."""
    if not perm.can_edit_owner_aliases(request.user):
        return _deny(request)
    rows = list(UnmatchedOwnerPrefix.objects.all())
    return render(request, "compliance/lists/owner_prefixes_unmatched.html", {
        "rows": rows, "bugs": sum(r.bugs for r in rows), "imported_at": rows[0].imported_at if rows else None,
    })
