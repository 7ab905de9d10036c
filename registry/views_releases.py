"""Pages of root store releases (list, detail, publish, compare, certdata.txt) and the staff trust edit page.

Thin: ask accounts.permissions, call one action or selector, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from config.errors import DomainError
from registry import selectors_releases as selectors
from registry.actions.certdata import root_store_entry_update
from registry.actions.releases import release_publish
from registry.forms_releases import CompareForm, EntryTrustForm, ReleasePublishForm
from registry.models import Release, RootStoreEntry


def _release_or_404(request, pk: int) -> Release:
    release = selectors.release_for(request.user, pk)
    if release is None:
        raise Http404("No such release.")
    return release


def _require_root_store_editor(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_change_root_store(request.user):
        raise PermissionDenied("Only root program staff change the root store and its releases.")
    return None


@require_GET
def release_list(request):
    releases = selectors.releases_for(request.user)
    page = Paginator(releases, 50).get_page(request.GET.get("page"))
    published = [r for r in page if r.status == Release.Status.PUBLISHED]
    form = CompareForm(
        releases=list(page),
        initial={"older": published[1].pk if len(published) > 1 else None, "newer": published[0].pk if published else None},
    )
    return render(request, "registry/release_list.html", {"page": page, "compare_form": form})


def _detail(request, release: Release, publish_form=None, status=200):
    can_change = permissions.can_change_root_store(request.user)
    if publish_form is None and can_change and release.status == Release.Status.DRAFT:
        publish_form = ReleasePublishForm(initial={"kind": Release.Kind.REGULAR})
    return render(
        request,
        "registry/release_detail.html",
        {
            "release": release,
            "changes": list(selectors.release_changes(release)),
            "previous": selectors.previous_release(release),
            "publish_form": publish_form,
            "can_change": can_change,
        },
        status=status,
    )


@require_GET
def release_detail(request, pk: int):
    return _detail(request, _release_or_404(request, pk))


@require_POST
def release_publish_view(request, pk: int):
    refused = _require_root_store_editor(request)
    if refused:
        return refused
    release = _release_or_404(request, pk)
    form = ReleasePublishForm(request.POST)
    if form.is_valid():
        try:
            release = release_publish(actor=request.user, release=release, **form.cleaned_data)
        except DomainError as exc:
            for name, errs in (exc.errors or {None: [exc.message]}).items():
                for err in errs:
                    form.add_error(name if name in form.fields else None, err)
        else:
            messages.success(request, f"{release.name} published.")
            return redirect(release)
    return _detail(request, release, publish_form=form, status=400)


@require_GET
def release_certdata(request, pk: int):
    release = _release_or_404(request, pk)
    response = HttpResponse(selectors.release_certdata_text(release), content_type="text/plain; charset=utf-8")
    if request.GET.get("download"):
        name = (release.roots_module_version or release.nss_version or str(release.pk)).replace("/", "_")
        response["Content-Disposition"] = f'attachment; filename="certdata_{name}.txt"'
    return response


@require_GET
def release_compare(request):
    releases = list(selectors.releases_for(request.user))
    form = CompareForm(request.GET or None, releases=releases)
    comparison = None
    if request.GET and form.is_valid():
        by_pk = {r.pk: r for r in releases}
        comparison = selectors.compare(by_pk[form.cleaned_data["older"]], by_pk[form.cleaned_data["newer"]])
        if request.GET.get("format") == "diff":
            return HttpResponse(comparison.diff, content_type="text/plain; charset=utf-8")
    return render(request, "registry/release_compare.html", {"form": form, "comparison": comparison})


@require_http_methods(["GET", "POST"])
def entry_edit(request, pk: int):
    refused = _require_root_store_editor(request)
    if refused:
        return refused
    entry = get_object_or_404(RootStoreEntry.objects.select_related("certificate"), pk=pk)
    if request.method == "POST":
        form = EntryTrustForm(request.POST)
        if form.is_valid():
            changes = form.changes(entry)
            if not changes:
                messages.info(request, "Nothing changed.")
            else:
                try:
                    root_store_entry_update(actor=request.user, entry=entry, **changes)
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, f"{entry.label}: saved; the change is in the next release (draft).")
                    return redirect(entry.certificate or "registry:root_store")
    else:
        form = EntryTrustForm.for_entry(entry)
    return render(
        request,
        "registry/entry_edit.html",
        {"entry": entry, "form": form, "draft": selectors.draft_release()},
        status=400 if form.errors else 200,
    )
