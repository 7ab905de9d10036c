"""Pages of the audits feature. Thin: validate, ask accounts.permissions, call one action or selector."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import permissions as perm
from audits import actions, selectors
from audits.domain.criteria import FAMILIES
from audits.forms import (
    ApprovalForm,
    AuditorAnswerForm,
    AuditorForm,
    QualificationForm,
    StaffVerificationForm,
    StatementForm,
)
from audits.models import Auditor, AuditStatement, StatementFinding
from config import stale
from config.errors import DomainError, NotPermitted
from history import selectors as history


def _show_error(form, exc: DomainError) -> None:
    placed = False
    for field_name, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(field_name if field_name in form.fields else None, msg)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _login_required(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _visible_statement(request, pk: int) -> AuditStatement:
    statement = selectors.statement_detail(user=request.user, pk=pk)
    if statement is None:
        raise Http404("No such statement.")
    return statement


# --- index and CA page ------------------------------------------------------------------------


def index(request):
    family = request.GET.get("family") or None
    verification = request.GET.get("verification") or None
    if family not in FAMILIES:
        family = None
    if verification not in AuditStatement.Verification.values:
        verification = None
    statements = selectors.statement_list(user=request.user, family=family, verification=verification)
    page = Paginator(statements, 50).get_page(request.GET.get("page"))
    return render(request, "audits/index.html", {
        "page": page,
        "owners": selectors.ca_owners_with_audits(user=request.user),
        "families": [(f, selectors.FAMILY_LABELS[f]) for f in FAMILIES],
        "verifications": AuditStatement.Verification.choices,
        "family": family,
        "verification": verification,
        "pending_count": selectors.pending_verification_count(request.user) if request.user.is_authenticated else 0,
        "can_manage_auditors": perm.can_manage_auditors(request.user),
    })


def ca_audits(request, pk: int):
    from registry.models import CAOwner

    owner = get_object_or_404(CAOwner, pk=pk)
    report = selectors.ca_audit_report(user=request.user, ca_owner=owner)
    return render(request, "audits/ca.html", {
        "owner": owner,
        "report": report,
        "can_submit": perm.can_submit_statement(request.user, owner.pk),
    })


# --- statements ---------------------------------------------------------------------------------


def statement_new(request, pk: int):
    from registry.models import CAOwner

    if (response := _login_required(request)) is not None:
        return response
    owner = get_object_or_404(CAOwner, pk=pk)
    if not perm.can_submit_statement(request.user, owner.pk):
        raise PermissionDenied("You may not submit audit statements for this CA.")
    form = StatementForm(request.POST or None, request.FILES or None, auditors=selectors.visible_auditors(request.user),
                         can_set_source=perm.can_record_statement_from_auditor(request.user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            statement = actions.statement_submit(
                actor=request.user, ca_owner=owner, auditor=d["auditor"], new_auditor_name=d["new_auditor_name"],
                source=d.get("source") or AuditStatement.Source.CA, kind=d["kind"],
                period_start=d["period_start"], period_end=d["period_end"], statement_date=d["statement_date"],
                url=d["url"], file=d["file"], criteria=d["criteria"], fingerprints=d["all_fingerprints"],
                findings=d["findings"],
            )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, "Statement recorded." if statement.is_legitimate else
                             "Statement recorded. It counts once its auditor confirms it.")
            return redirect(statement)
    return render(request, "audits/statement_form.html", {"form": form, "owner": owner, "editing": False})


def statement_detail(request, pk: int):
    statement = _visible_statement(request, pk)
    return render(request, "audits/statement_detail.html", {
        "statement": statement,
        "can_change": perm.can_change_statement(request.user, statement),
        "can_manage": perm.can_manage_auditors(request.user),
        "can_view_contacts": perm.can_view_auditor_contacts(request.user),
        "verify_form": StaffVerificationForm() if perm.can_manage_auditors(request.user) else None,
        "invalidated_link": selectors.invalidated_link(statement),
        "events": list(history.for_subject(
            statement, include_staff_only=perm.can_view_staff_only_history(request.user))),
        "fingerprints": list(statement.fingerprints.all()),
        "findings": list(statement.findings.all()),
    })


def statement_edit(request, pk: int):
    if (response := _login_required(request)) is not None:
        return response
    statement = _visible_statement(request, pk)
    if not perm.can_change_statement(request.user, statement):
        raise PermissionDenied("You may not change this statement.")
    form = StatementForm(request.POST or None, request.FILES or None, initial=_statement_initial(statement),
                         auditors=selectors.visible_auditors(request.user),
                         can_set_source=perm.can_record_statement_from_auditor(request.user), editing=True)
    # The version the form is opened on; a refused save keeps the one it was posted with.
    base = request.POST.get(stale.BASE_PARAM, "") if request.method == "POST" else stale.encode_base(
        selectors.statement_snapshot(statement))
    conflict = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            actions.statement_update(
                actor=request.user, statement=statement, auditor=d["auditor"], kind=d["kind"],
                period_start=d["period_start"], period_end=d["period_end"], statement_date=d["statement_date"],
                url=d["url"], file=d["file"], criteria=d["criteria"], fingerprints=d["all_fingerprints"],
                findings=d["findings"], base=stale.base_from(request.POST),
            )
        except stale.EditConflict as exc:
            now = _statement_initial(AuditStatement.objects.get(pk=statement.pk))
            base, conflict = stale.place_conflict(form, exc, now), True
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, "Statement updated.")
            return redirect(statement)
    return render(request, "audits/statement_form.html",
                  {"form": form, "owner": statement.ca_owner, "statement": statement, "editing": True,
                   "base": base, "stale_conflict": conflict}, status=409 if conflict else 200)


def _statement_initial(statement: AuditStatement) -> dict:
    """The edit form's values for a statement as it is stored."""
    return {
        "auditor": statement.auditor_id, "kind": statement.kind, "period_start": statement.period_start,
        "period_end": statement.period_end if statement.kind == AuditStatement.Kind.PERIOD else None,
        "statement_date": statement.statement_date, "url": statement.url,
        "criteria": "\n".join(_criterion_line(c) for c in statement.criteria.all()),
        "fingerprints": "\n".join(f.sha256 for f in statement.fingerprints.all()),
        "findings": "\n".join(f"{f.severity}: {f.text}" for f in statement.findings.all()),
    }


def _criterion_line(c) -> str:
    from audits.domain.criteria import CRITERIA

    label = CRITERIA[c.key].label if c.key in CRITERIA else c.key
    if c.policies and "(" in label:
        label = label.split(" (")[0] + f" ({c.policies.replace(',', ', ')})"
    return f"{label} {c.version}".strip()


def statement_file(request, pk: int):
    statement = _visible_statement(request, pk)
    if not statement.file:
        raise Http404("This statement has no uploaded file.")
    return FileResponse(statement.file.open("rb"), content_type="application/pdf",
                        filename=f"audit-statement-{statement.pk}.pdf")


@require_POST
def statement_request_verification(request, pk: int):
    statement = _visible_statement(request, pk)
    if not perm.can_manage_auditors(request.user):
        raise PermissionDenied("Only root program staff send verification requests.")
    try:
        actions.statement_request_verification(actor=request.user, statement=statement)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Verification link sent to {statement.auditor}'s verification contact.")
    return redirect(statement)


@require_POST
def statement_staff_verification(request, pk: int):
    statement = _visible_statement(request, pk)
    if not perm.can_manage_auditors(request.user):
        raise PermissionDenied("Only root program staff record the auditor's answer.")
    form = StaffVerificationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the auditor's answer and say how it was given.")
        return redirect(statement)
    try:
        actions.statement_set_verification(actor=request.user, statement=statement,
                                           confirmed=form.cleaned_data["decision"] == "confirm",
                                           note=form.cleaned_data["note"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The auditor's answer is recorded.")
    return redirect(statement)


# --- the auditor's verification link (no account) ---------------------------------------------------


@never_cache
def verify(request, token: str):
    try:
        vrequest = actions.verification_request_for_token(token)
        # The page is drawn from the very value whose digest matched the one stored when the link was sent.
        shown, _ = actions.verification_content(vrequest)
    except actions.VerificationLinkError as exc:
        return render(request, "audits/verify_refused.html", {"reason": exc.message}, status=400)
    statement = vrequest.statement
    form = AuditorAnswerForm(request.POST or None)
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in ("confirm", "deny"):
            form.add_error(None, "Choose Confirm or Deny.")
        elif form.is_valid():
            try:
                actions.statement_answer_verification(
                    token=token, confirmed=decision == "confirm", name=form.cleaned_data["name"],
                    note=form.cleaned_data["note"],
                )
            except actions.VerificationLinkError as exc:
                return render(request, "audits/verify_refused.html", {"reason": exc.message}, status=400)
            except DomainError as exc:
                _show_error(form, exc)
            else:
                return render(request, "audits/verify_done.html",
                              {"statement": statement, "confirmed": decision == "confirm"})
    return render(request, "audits/verify.html", {
        "shown": shown, "request_obj": vrequest, "form": form, "token": token,
        "kind_label": AuditStatement.Kind(shown.kind).label if shown.kind in AuditStatement.Kind.values else shown.kind,
        "findings": [(StatementFinding.Severity(f.severity).label, f.text) for f in shown.findings],
    })


@never_cache
def verify_file(request, token: str):
    try:
        vrequest = actions.verification_request_for_token(token)
        _, data = actions.verification_content(vrequest)
    except actions.VerificationLinkError as exc:
        return render(request, "audits/verify_refused.html", {"reason": exc.message}, status=400)
    if data is None:
        raise Http404("This statement has no uploaded file.")
    # The bytes whose digest was just compared, not a second read that could differ.
    return FileResponse(io.BytesIO(data), content_type="application/pdf",
                        filename=f"audit-statement-{vrequest.statement_id}.pdf")


# --- auditors -----------------------------------------------------------------------------------------


def auditor_list(request):
    return render(request, "audits/auditor_list.html", {
        "auditors": selectors.auditor_list(user=request.user),
        "can_manage": perm.can_manage_auditors(request.user),
        "can_view_contacts": perm.can_view_auditor_contacts(request.user),
    })


def auditor_detail(request, pk: int):
    auditor = selectors.auditor_detail(pk=pk, user=request.user)
    if auditor is None:
        raise Http404("No such auditor.")
    manage = perm.can_manage_auditors(request.user)
    statements = selectors.statement_list(user=request.user).filter(auditor=auditor)[:50]
    return render(request, "audits/auditor_detail.html", {
        "auditor": auditor,
        "statements": statements,
        "can_manage": manage,
        "can_view_contacts": perm.can_view_auditor_contacts(request.user),
        "approval_form": ApprovalForm(initial={"approval": auditor.approval}) if manage else None,
        "events": list(history.for_subject(auditor)) if manage else [],
    })


def _require_manager(request):
    if (response := _login_required(request)) is not None:
        return response
    if not perm.can_manage_auditors(request.user):
        raise PermissionDenied("Only root program staff maintain auditors.")
    return None


def auditor_new(request):
    if (response := _require_manager(request)) is not None:
        return response
    form = AuditorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            auditor = actions.auditor_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, f"{auditor} added; record its qualifications to approve it.")
            return redirect(auditor)
    return render(request, "audits/auditor_form.html", {"form": form, "auditor": None})


def auditor_edit(request, pk: int):
    if (response := _require_manager(request)) is not None:
        return response
    auditor = get_object_or_404(Auditor, pk=pk)
    initial = {f: getattr(auditor, f) for f in AuditorForm.base_fields}
    form = AuditorForm(request.POST or None, initial=initial)
    base = request.POST.get(stale.BASE_PARAM, "") if request.method == "POST" else stale.encode_base(
        selectors.auditor_snapshot(auditor))
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            actions.auditor_update(actor=request.user, auditor=auditor, base=stale.base_from(request.POST),
                                   **form.cleaned_data)
        except stale.EditConflict as exc:
            fresh = Auditor.objects.get(pk=auditor.pk)
            now = {f: getattr(fresh, f) for f in AuditorForm.base_fields}
            base, conflict = stale.place_conflict(form, exc, now), True
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, "Auditor updated.")
            return redirect(auditor)
    return render(request, "audits/auditor_form.html", {"form": form, "auditor": auditor, "base": base,
                                                        "stale_conflict": conflict}, status=409 if conflict else 200)


def qualification_new(request, pk: int):
    if (response := _require_manager(request)) is not None:
        return response
    auditor = get_object_or_404(Auditor, pk=pk)
    form = QualificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.qualification_record(actor=request.user, auditor=auditor, **form.cleaned_data)
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, "Qualification recorded; it must be verified again in a year.")
            return redirect(auditor)
    return render(request, "audits/qualification_form.html", {"form": form, "auditor": auditor})


@require_POST
def auditor_approval(request, pk: int):
    if (response := _require_manager(request)) is not None:
        return response
    auditor = get_object_or_404(Auditor, pk=pk)
    form = ApprovalForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the approval and give the reason.")
        return redirect(auditor)
    try:
        auditor = actions.auditor_set_approval(actor=request.user, auditor=auditor, **form.cleaned_data)
    except (DomainError, NotPermitted) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{auditor} is now {auditor.get_approval_display().lower()}.")
    return redirect(auditor)
