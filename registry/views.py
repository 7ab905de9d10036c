"""Pages of the CA registry: owners, certificates, search, upload, root store. Thin: ask, call, render."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts import permissions
from config.errors import DomainError
from pki.x509 import CertificateError, iter_ccadb_pem_csv
from registry import related, selectors, selectors_releases
from registry.actions import certificates_import
from registry.forms import CertificateSearchForm, CertificateUploadForm
from registry.models import CAOwner, RootStoreEntry

PAGE_SIZE = 50


def _certificate_or_404(sha256: str):
    cert = selectors.certificate_by_fingerprint(sha256)
    if cert is None:
        raise Http404("No certificate with this fingerprint in the registry.")
    return cert


@require_GET
def ca_list(request):
    q = (request.GET.get("q") or "").strip()
    owners = selectors.ca_owner_list()
    if q:
        owners = owners.filter(name__icontains=q)
    page = Paginator(owners, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "registry/ca_list.html",
        {"page": page, "q": q, "can_edit_owner": permissions.can_edit_ca_owner(request.user, None)},
    )


@require_GET
def ca_detail(request, pk: int):
    owner = get_object_or_404(CAOwner, pk=pk)
    return ca_detail_response(request, owner)


def ca_detail_response(request, owner: CAOwner, *, grant_form=None, status: int = 200):
    """The owner page; also the answer to a refused representation grant (its form kept, with the error)."""
    from registry import selectors_owners
    from registry.forms_owners import RepresentativeGrantForm

    tree = selectors.owner_certificate_tree(owner)
    user = request.user
    manage_reps = permissions.can_manage_representation(user, owner)
    context = {
        "owner": owner,
        "tree": tree,
        "can_edit": permissions.can_edit_registry(user),
        "can_edit_owner": permissions.can_edit_ca_owner(user, owner),
        "urls": list(owner.urls.order_by("position", "pk")),
        "contacts": list(owner.contacts.order_by("position", "pk")) if permissions.can_view_owner_contacts(user, owner) else None,
        "can_manage_reps": manage_reps,
        "history": selectors_owners.owner_history(
            owner, include_staff_only=permissions.can_view_staff_only_history(user)
        ),
    }
    if manage_reps:
        context["representatives"] = list(selectors_owners.representatives_of(owner))
        context["grant_form"] = grant_form or RepresentativeGrantForm()
    return render(request, "registry/ca_detail.html", context, status=status)


@require_GET
def certificate_search(request):
    form = CertificateSearchForm(request.GET or None)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    kind = request.GET.get("kind", "")
    if q:
        # A full fingerprint that matches goes straight to the certificate.
        exact = selectors.certificate_by_fingerprint(q)
        if exact is not None:
            return redirect(exact)
        results = selectors.search_certificates(q)
    else:
        results = selectors.certificate_list(kind=kind)
    if kind and q:
        results = results.filter(kind=kind)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/certificate_search.html",
        {"form": form, "page": page, "q": q, "kind": kind, "can_upload": permissions.can_edit_registry(request.user)},
    )


@require_GET
def certificate_detail(request, sha256: str):
    cert = _certificate_or_404(sha256)
    if cert.sha256 != sha256:
        return redirect(cert)
    return render(
        request,
        "registry/certificate_detail.html",
        {
            "cert": cert,
            "parents": list(selectors.parents_of(cert)),
            "children": list(selectors.children_of(cert)[:200]),
            "children_count": selectors.children_of(cert).count(),
            "cross_signs": list(selectors.cross_signs(cert)),
            "paths": selectors.path_details(cert),
            "entries": list(cert.root_store_entries.all()),
            # Its standing: root store trust per purpose since which release, release changes, and what the
            # apps above the registry say of it (OneCRL, distrust actions, incidents, audit statements).
            "standing": selectors_releases.certificate_standing(cert, request.user),
            "release_changes": selectors_releases.certificate_release_changes(cert, request.user),
            "related": related.for_certificate(cert, request.user),
            "can_change_root_store": permissions.can_change_root_store(request.user),
        },
    )


@require_GET
def certificate_pem(request, sha256: str):
    cert = _certificate_or_404(sha256)
    response = HttpResponse(cert.pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{cert.sha256}.pem"'
    return response


@require_GET
def certificate_certdata(request, sha256: str):
    cert = _certificate_or_404(sha256)
    entry = cert.root_store_entries.first()
    return HttpResponse(selectors.certificate_block_text(cert, entry=entry), content_type="text/plain; charset=utf-8")


def _upload_items(files, pem: str):
    items, errors = [], {}
    for f in files:
        data = f.read()
        if f.name.lower().endswith(".csv"):
            # CCADB CSVs are parsed row by row so each bad row is named.
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(f.name).name
                path.write_bytes(data)
                try:
                    for cert in iter_ccadb_pem_csv(path):
                        items.append((cert, f"{f.name}: {cert.source.rsplit(':', 1)[-1]}"))
                except CertificateError as exc:
                    errors.setdefault(f.name, []).append(str(exc).replace(str(path), f.name))
            continue
        items.append((data, f.name))
    if pem.strip():
        items.append((pem.encode("utf-8"), "pasted PEM"))
    return items, errors


@require_http_methods(["GET", "POST"])
def certificate_upload(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_edit_registry(request.user):
        raise PermissionDenied("Only root program staff upload certificates.")
    file_errors: dict[str, list[str]] = {}
    summary = None
    if request.method == "POST":
        form = CertificateUploadForm(request.POST, request.FILES)
        if form.is_valid():
            items, file_errors = _upload_items(form.cleaned_data["files"], form.cleaned_data.get("pem") or "")
            if not file_errors:
                try:
                    summary = certificates_import(actor=request.user, items=items, owner=form.cleaned_data.get("owner"))
                except DomainError as exc:
                    file_errors = exc.errors or {"upload": [exc.message]}
            if file_errors:
                form.add_error(None, "Nothing was stored: fix or leave out the files listed below.")
            else:
                messages.success(request, f"Stored: {summary}.")
                if len(summary.certificates) == 1:
                    return redirect("registry:certificate_detail", sha256=summary.certificates[0])
                return redirect(f"{request.path}?done=" + ",".join(summary.certificates[:100]))
    else:
        form = CertificateUploadForm()
    done = [s for s in (request.GET.get("done") or "").split(",") if s]
    done_certs = list(selectors.certificates_qs().filter(sha256__in=done[:100])) if done else []
    return render(
        request,
        "registry/certificate_upload.html",
        {"form": form, "file_errors": file_errors, "done_certs": done_certs},
    )


@require_GET
def root_store(request):
    entries = selectors.entries_with_certificates().order_by("label")
    trust = request.GET.get("trust", "")
    if trust == "distrusted":
        entries = entries.filter(trust_server=RootStoreEntry.Trust.NOT_TRUSTED)
    elif trust == "server":
        entries = entries.filter(trust_server=RootStoreEntry.Trust.TRUSTED_DELEGATOR)
    elif trust == "email":
        entries = entries.filter(trust_email=RootStoreEntry.Trust.TRUSTED_DELEGATOR)
    elif trust == "distrust-after":
        entries = entries.exclude(server_distrust_after=None, email_distrust_after=None)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/root_store.html",
        {"page": page, "trust": trust, "can_change_root_store": permissions.can_change_root_store(request.user)},
    )


@require_GET
def root_store_certdata(request):
    response = HttpResponse(selectors.export_certdata_text(), content_type="text/plain; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Disposition"] = 'attachment; filename="certdata.txt"'
    return response
