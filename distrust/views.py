"""Distrust pages: list, create, detail with the eight steps, a page per step, downloads.

Views parse input, ask accounts.permissions, call one action or selector, and render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from config import stale
from config.errors import DomainError
from config.filters import db_int
from distrust import actions, artifacts, forms, selectors, test_vector, workflow
from distrust.models import Artifact, DistrustAction
from history import selectors as history

ARTIFACT_FILES = {
    "onecrl.json": (Artifact.Kind.ONECRL, "application/json"),
    "certdata.diff": (Artifact.Kind.CERTDATA_DIFF, "text/x-diff; charset=utf-8"),
}


def _action(request: HttpRequest, pk: int) -> DistrustAction:
    action = selectors.action_for(request.user, pk)
    if action is None:
        raise Http404("No such distrust action, or not one you may see.")
    return action


def _managed(request: HttpRequest, pk: int) -> DistrustAction:
    action = _action(request, pk)
    if not permissions.can_manage_distrust(request.user):
        raise PermissionDenied("Only root program staff manage distrust actions.")
    return action


def _attempt(request: HttpRequest, fn, success: str | None = None, **kw: Any) -> Any:
    """Run an action; a DomainError becomes an error message (nothing changed)."""
    try:
        result = fn(actor=request.user, **kw)
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    if success:
        messages.success(request, success)
    return result if result is not None else True


def _step_url(action: DistrustAction, step: str) -> str:
    return reverse("distrust:step", args=[action.pk, step])


# --- list, create, detail -------------------------------------------------------------------


def action_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.actions_for(request.user)
    state = request.GET.get("state", "")
    if state == "open":
        qs = qs.open()
    elif state in DistrustAction.State.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "distrust/list.html", {
        "page": page, "actions": page.object_list, "steps": workflow.STEPS, "state": state,
        "states": DistrustAction.State.choices, "can_manage": permissions.can_manage_distrust(request.user),
    })


@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_distrust(request.user):
        raise PermissionDenied("Only root program staff start distrust actions.")
    prefill: dict[str, Any] = {}
    number = request.GET.get("incident", "")
    if db_int(number) is not None:
        from compliance.models import Incident

        incident = Incident.objects.select_related("reporter").filter(number=db_int(number)).first()
        if incident is None:
            messages.error(request, f"No incident numbered {number}.")
        else:
            prefill = selectors.incident_prefill(incident)
    if request.method == "POST":
        form = forms.ActionCreateForm(request.POST)
        if form.is_valid():
            action = _attempt(request, actions.action_create, success="Distrust action started.", **form.cleaned_data)
            if action:
                return redirect(action)
    else:
        form = forms.ActionCreateForm(initial={k: v for k, v in prefill.items() if k != "problem"})
    return render(request, "distrust/create.html", {"form": form, "problem": prefill.get("problem")})


def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    return render(request, "distrust/detail.html", _detail_context(request, action))


def _detail_context(request: HttpRequest, action: DistrustAction) -> dict[str, Any]:
    steps = {s.step: s for s in action.steps.all()}
    manage = permissions.can_manage_distrust(request.user)
    checklist = []
    for st in workflow.STEPS:
        row = steps[st.key]
        checklist.append({"step": st, "state": row, "position": workflow.position(st.key),
                          "missing": workflow.missing(action, st.key) if manage and row.status == "open" else []})
    needed, already = artifacts.onecrl_plan(action)
    return {
        "action": action, "checklist": checklist, "can_manage": manage,
        "targets": [(t, already.get((bytes(t.issuer_der), bytes(t.serial_der))))
                    for t in action.targets.select_related("certificate")],
        # An action names only the incidents its viewer may open (one may be security-sensitive).
        "incidents": [i for i in action.incidents.all() if permissions.can_view_incident(request.user, i)],
        "artifacts": list(action.artifacts.all()),
        "test_runs": list(action.test_runs.all()[:5]),
        "events": list(history.for_subject(
            action, include_staff_only=permissions.can_view_staff_only_history(request.user))),
        "closure": list(action.closure_items.select_related("certificate", "decided_by")),
        # Staff only: the security-sensitive incidents the OneCRL records leave out (artifacts.onecrl_bug).
        "onecrl_withheld": artifacts.onecrl_withheld(action) if manage else [],
    }


# --- steps ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    action = _managed(request, pk)
    if step not in workflow.STEP_KEYS:
        raise Http404("No such step.")
    form_class = forms.STEP_FORMS[step]
    conflict = False
    if request.method == "POST":
        form = form_class(request.POST, instance=action)
        base = request.POST.get(stale.BASE_PARAM, "")  # a refused save keeps the version it was made on
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in form.cleaned_data}
            complete = "complete" in request.POST
            try:
                actions.step_save(actor=request.user, action=action, step=step, data=data, complete=complete,
                                  base=stale.base_from(request.POST))
            except stale.EditConflict as exc:
                fresh = DistrustAction.objects.get(pk=action.pk)  # the form wrote the typed values onto `action`
                now = {name: getattr(fresh, name) for name in form.fields if name != "incident_numbers"}
                now["incident_numbers"] = list(fresh.incidents.values_list("number", flat=True))
                base, conflict = stale.place_conflict(form, exc, now), True
                messages.error(request, exc.message)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Step completed." if complete else "Saved.")
                return redirect(action if complete else _step_url(action, step))
        action = _action(request, pk)
    else:
        base = stale.encode_base(workflow.snapshot(action))
        # Drafts for the fields of whichever step's form shows them.
        initial = {}
        if "incident_numbers" in form_class.base_fields:
            initial["incident_numbers"] = list(action.incidents.values_list("number", flat=True))
        if "announcement" in form_class.base_fields and not action.announcement:
            initial["announcement"] = artifacts.announcement_draft(action)
        if "user_visible_result" in form_class.base_fields and not action.user_visible_result:
            initial["user_visible_result"] = artifacts.RESULT_DEFAULT
        form = form_class(instance=action, initial=initial)
    context = _detail_context(request, action)
    current = next(c for c in context["checklist"] if c["step"].key == step)
    context.update({
        "form": form, "current": current, "step": workflow.step(step), "reopen_form": forms.ReopenForm(),
        "missing": workflow.missing(action, step),
        "target_form": forms.TargetForm(), "usage_form": forms.UsageForm(), "csv_form": forms.UsageCSVForm(),
        "closure_form": forms.ClosureForm(), "test_form": forms.TestCertificateForm(),
        "usage_figures": list(action.usage_figures.all()),
        "test_certificates": [(t, artifacts.expectation(action, t)) for t in action.test_certificates.all()],
        "latest_run": action.test_runs.first(), "step_open": current["state"].status == "open",
        "base": base, "stale_conflict": conflict,
        # Each collection's panel shows on the page of the step it belongs to.
        "homes": {c: workflow.home(c) for c in workflow.COLLECTIONS},
    })
    return render(request, "distrust/step.html", context, status=409 if conflict else 200)


@require_POST
def step_reopen(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    action = _managed(request, pk)
    form = forms.ReopenForm(request.POST)
    if form.is_valid():
        _attempt(request, actions.step_reopen, action=action, step=step, reason=form.cleaned_data["reason"],
                 success="Step reopened.")
    else:
        messages.error(request, "Say why the step is reopened.")
    return redirect(_step_url(action, step) if step in workflow.STEP_KEYS else action)


# --- step data: targets, usage, closure, artifacts, tests -----------------------------------


@require_POST
def target_add(request: HttpRequest, pk: int) -> HttpResponse:
    action = _managed(request, pk)
    form = forms.TargetForm(request.POST)
    if form.is_valid():
        _attempt(request, actions.target_add, action=action, success="Certificate added.", **form.cleaned_data)
    return redirect(_step_url(action, workflow.home(workflow.TARGETS)))


@require_http_methods(["GET", "POST"])
def bulk_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """Many targets at once: "Preview" shows what was matched and what was not; "Add" adds them all, or none."""
    action = _managed(request, pk)
    preview, status = None, 200
    if request.method != "POST":
        form = forms.BulkTargetsForm()
    else:
        form = forms.BulkTargetsForm(request.POST, request.FILES)
        if form.is_valid():
            data = request.POST.copy()
            data["text"] = form.cleaned_data.get("text") or ""  # an uploaded file's text stays in the box
            form = forms.BulkTargetsForm(data)
            form.is_valid()
            kw = dict(actor=request.user, action=action, source=form.cleaned_data["source"],
                      text=form.cleaned_data.get("text") or "", incident=form.cleaned_data.get("incident"),
                      owner=form.cleaned_data["owner"].pk if form.cleaned_data.get("owner") else None)
            try:
                if "confirm" in request.POST:
                    done = actions.bulk_targets_add(digest=form.cleaned_data.get("digest") or "", **kw)
                    messages.success(request, f"{len(done.to_add)} certificate(s) added from the "
                                              f"{done.source_label}.")
                    return redirect(_step_url(action, workflow.home(workflow.TARGETS)))
                preview = actions.bulk_targets_preview(**kw)
                data["digest"] = preview.digest
                form = forms.BulkTargetsForm(data)
                form.is_valid()
            except DomainError as exc:
                status = 400
                for name, errs in exc.errors.items():
                    if name in form.fields and name != "digest":
                        for e in errs:
                            form.add_error(name, e)
                messages.error(request, exc.message)
                if "digest" in exc.errors:  # the preview went stale: show the new one
                    preview = actions.bulk_targets_preview(**kw)
                    data["digest"] = preview.digest
                    form = forms.BulkTargetsForm(data)
                    form.is_valid()
        else:
            status = 400
    return render(request, "distrust/bulk_targets.html", {
        "action": action, "form": form, "preview": preview,
        "step_url": _step_url(action, workflow.home(workflow.TARGETS)),
    }, status=status)


@require_POST
def target_remove(request: HttpRequest, pk: int, target_id: int) -> HttpResponse:
    action = _managed(request, pk)
    _attempt(request, actions.target_remove, action=action, target_id=target_id, success="Certificate removed.")
    return redirect(_step_url(action, workflow.home(workflow.TARGETS)))


@require_POST
def usage_add(request: HttpRequest, pk: int) -> HttpResponse:
    action = _managed(request, pk)
    form = forms.UsageForm(request.POST)
    if form.is_valid():
        _attempt(request, actions.usage_add, action=action, figures=[form.cleaned_data], success="Figure added.")
    else:
        messages.error(request, "Give the root, the metric and a numeric value.")
    return redirect(_step_url(action, workflow.home(workflow.USAGE_FIGURES)))


@require_POST
def usage_csv(request: HttpRequest, pk: int) -> HttpResponse:
    action = _managed(request, pk)
    form = forms.UsageCSVForm(request.POST, request.FILES)
    try:
        text = form.text() if form.is_valid() else ""
    except Exception as exc:  # noqa: BLE001 - a ValidationError from decoding
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(_step_url(action, workflow.home(workflow.USAGE_FIGURES)))
    rows = _attempt(request, actions.usage_import_csv, action=action, text=text)
    if rows:
        messages.success(request, f"{len(rows)} usage figure(s) imported.")
    return redirect(_step_url(action, workflow.home(workflow.USAGE_FIGURES)))


@require_POST
def usage_remove(request: HttpRequest, pk: int, figure_id: int) -> HttpResponse:
    action = _managed(request, pk)
    _attempt(request, actions.usage_remove, action=action, figure_id=figure_id, success="Figure removed.")
    return redirect(_step_url(action, workflow.home(workflow.USAGE_FIGURES)))


@require_POST
def artifacts_generate(request: HttpRequest, pk: int) -> HttpResponse:
    action = _managed(request, pk)
    _attempt(request, actions.artifacts_generate, action=action, success="Artifacts generated.")
    return redirect(_step_url(action, workflow.home(workflow.ARTIFACTS)))


@require_POST
def closure_decide(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    action = _managed(request, pk)
    form = forms.ClosureForm(request.POST)
    if form.is_valid():
        # The decision and reason the page showed for this item (config.stale): a newer one is not overwritten.
        base = ({"decision": request.POST["base_decision"], "reason": request.POST.get("base_reason", "")}
                if "base_decision" in request.POST else None)
        try:
            actions.closure_decide(actor=request.user, action=action, item_id=item_id, base=base,
                                   **form.cleaned_data)
        except stale.EditConflict as exc:
            for name, conflict in exc.conflicts.items():
                messages.error(request, stale.conflict_message(form.fields.get(name), name, conflict))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Decision recorded.")
    else:
        messages.error(request, "Choose to add or to waive.")
    return redirect(_step_url(action, workflow.home(workflow.CLOSURE_ITEMS)))


@require_POST
def test_certificate_add(request: HttpRequest, pk: int) -> HttpResponse:
    action = _managed(request, pk)
    form = forms.TestCertificateForm(request.POST, request.FILES)
    if form.is_valid():
        _attempt(request, actions.test_certificate_add, action=action, sha256=form.cleaned_data["sha256"],
                 data=form.data_bytes(), success="Test certificate attached.")
    return redirect(_step_url(action, workflow.home(workflow.TEST_CERTIFICATES)))


@require_POST
def test_certificate_remove(request: HttpRequest, pk: int, test_id: int) -> HttpResponse:
    action = _managed(request, pk)
    _attempt(request, actions.test_certificate_remove, action=action, test_id=test_id, success="Removed.")
    return redirect(_step_url(action, workflow.home(workflow.TEST_CERTIFICATES)))


@require_POST
def test_run(request: HttpRequest, pk: int) -> HttpResponse:
    action = _managed(request, pk)
    run = _attempt(request, actions.test_run, action=action)
    if run:
        if run.passed:
            messages.success(request, "Test passed: " + run.summary + ".")
        else:
            messages.error(request, "Test failed: " + run.summary + ".")
    return redirect(_step_url(action, workflow.home(workflow.TEST_RUNS)))


test_certificate_add.__test__ = False
test_certificate_remove.__test__ = False
test_run.__test__ = False


def artifact_download(request: HttpRequest, pk: int, filename: str) -> HttpResponse:
    action = _action(request, pk)
    if filename == "test-vector.txt":
        if not action.test_certificates.exists() and not action.targets.exists():
            raise Http404("No test vector yet: add the certificates to distrust and attach test certificates.")
        response = HttpResponse(test_vector.render(action), content_type="text/plain; charset=utf-8")
        disposition = "inline" if request.GET.get("view") else "attachment"
        response["Content-Disposition"] = f'{disposition}; filename="distrust-{action.pk}-test-vector.txt"'
        return response
    if filename not in ARTIFACT_FILES:
        raise Http404("No such artifact.")
    kind, content_type = ARTIFACT_FILES[filename]
    art = action.artifacts.filter(kind=kind).first()
    if art is None:
        raise Http404("Not generated yet: staff generate the artifacts at the implement step.")
    response = HttpResponse(art.content, content_type=content_type)
    disposition = "inline" if request.GET.get("view") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="distrust-{action.pk}-{filename}"'
    return response
