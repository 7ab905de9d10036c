"""Incident pages. Thin: parse the form, ask accounts.permissions, call one action or selector, render.

An incident the user may not see answers 404 (its existence is not revealed); an action the
user may not take answers 403, or the sign-in page for anonymous visitors.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions as perm
from compliance import related, search, views_lists
from compliance import selectors as sel
from compliance.actions import incidents as act
from compliance.actions.relations import duplicate_target
from compliance.domain import markdown, reports
from compliance.domain import responses as resp
from compliance.domain.whiteboard import parse_whiteboard
from compliance.forms import (
    AnswerForm,
    AssessmentForm,
    CCForm,
    CommentForm,
    DecisionForm,
    IncidentCreateForm,
    RelationForm,
    TriageForm,
    report_data_from_post,
    report_layout,
)
from compliance.models import Assessment, Comment, Incident, Question
from config import stale
from config.errors import DomainError, NotPermitted
from config.pagination import BoundedPaginator

PAGE_SIZE = 50
REPORT_KINDS = [k.value for k in reports.ReportKind]


def _place_errors(form, exc: DomainError) -> None:
    placed = False
    for name, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _incident(request, number: int) -> Incident:
    incident = sel.incident_for(request.user, number)
    if incident is None:
        raise Http404("No such incident.")
    return incident


def _deny(request) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied


# --------------------------------------------------------------------------- list


def incident_list(request):
    now = timezone.now()
    filters = sel.incident_filter(user=request.user, params=request.GET, now=now)
    # A bad value shows no incident (never the unfiltered list), with the error beside its field and a 400.
    qs = sel.incident_rows(filters) if filters.is_valid() else Incident.objects.none()
    page = BoundedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))  # deep pages: config.pagination
    search.attach_highlights(page.object_list)
    rows = [(i, sel.list_deadline(i, now)) for i in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    feed_query = query.copy()
    feed_query.pop("sort", None)
    return render(request, "compliance/incidents/list.html", {
        "form": filters.form, "page": page, "rows": rows, "query": query.urlencode(),
        "feed_query": feed_query.urlencode() if filters.is_valid() else "",
        "export_query": query.urlencode() if filters.is_valid() else "",
        "can_create": perm.can_create_incident(request.user),
        "can_edit_owner_aliases": perm.can_edit_owner_aliases(request.user),
        **views_lists.list_context(request, filters, query.urlencode()),
    }, status=200 if filters.is_valid() else 400)


# --------------------------------------------------------------------------- create


@require_http_methods(["GET", "POST"])
def incident_create(request):
    if not perm.can_create_incident(request.user):
        return _deny(request)
    owners = perm.represented_owner_ids(request.user)
    initial: dict[str, Any] = {"source": "self_reported" if owners or perm.is_staff(request.user) else "third_party"}
    if len(owners) == 1:
        initial["ca_owner"] = next(iter(owners))
    form = IncidentCreateForm(request.POST or None, initial=initial,
                              can_set_whiteboard=perm.can_set_whiteboard_on_filing(request.user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            incident = act.incident_create(
                actor=request.user, ca_owner=d["ca_owner"], title=d["title"], description=d["description"],
                security_sensitive=d["security_sensitive"], source=d["source"],
                whiteboard=d.get("whiteboard", ""), became_aware_at=d.get("became_aware_at"),
            )
        except NotPermitted:
            raise PermissionDenied from None
        except DomainError as exc:
            _place_errors(form, exc)
        else:
            messages.success(request, f"Filed bug {incident.number}.")
            return redirect(incident)
    return render(request, "compliance/incidents/create.html", {"form": form})


# --------------------------------------------------------------------------- detail


def _story(incident: Incident, user: Any) -> list[dict[str, Any]]:
    comments = list(sel.comments_for(incident, user))
    events = [e for e in sel.events_for(incident, user) if e.field != "created"]
    numbered = [{"type": "comment", "at": c.created_at, "obj": c, "n": n} for n, c in enumerate(comments)]
    changes = [{"type": "event", "at": e.at, "obj": e} for e in events]
    return sorted(chain(numbered, changes), key=lambda r: (r["at"], r["type"] == "comment"))


def _detail_context(request, incident: Incident, **extra: Any) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    board = parse_whiteboard(incident.whiteboard or "", today=now.date())
    questions = list(sel.questions_for(incident, user))
    open_questions = [q for q in questions if q.is_open]
    can_comment = perm.can_comment(user, incident)
    cc = list(incident.cc.order_by("username"))
    assessment = Assessment.objects.filter(incident=incident).first() if perm.can_assess(user, incident) else None
    ctx = {
        "incident": incident,
        "board": board,
        "deadlines": sel.deadline_rows(incident, now),
        "story": _story(incident, user),
        "open_questions": [(q, perm.can_answer_question(user, q)) for q in open_questions],
        "relations": sel.relations_for(incident, user),
        "duplicate_of": _duplicate_shown(incident, user),
        "affected": incident.affected_certificates.select_related("certificate")[:200],
        "affected_count": incident.affected_certificates.count(),
        "decisions": list(sel.decisions_for(incident, user)),
        "distrust_actions": related.for_incident("distrust_actions", incident, user),
        "assessment": assessment,
        "problem_response": resp.RESPONSES.get(resp.Problem(assessment.problem)) if assessment and assessment.problem else None,
        "can_comment": can_comment,
        "can_report": perm.can_file_report(user, incident),
        "can_triage": perm.can_triage(user, incident),
        "can_assess": perm.can_assess(user, incident),
        "report_kinds": [(k, reports.TEMPLATES[reports.ReportKind(k)].title) for k in REPORT_KINDS],
        "can_watch": perm.can_watch_incident(user, incident),
        # Watching is being on the CC list (compliance.actions.cc).
        "watching": getattr(user, "pk", None) in {u.pk for u in cc},
        "cc_visible": perm.can_view_cc_list(user, incident),
        "comment_form": extra.pop("comment_form", None) or (
            CommentForm(can_update=perm.can_file_report(user, incident), can_private=perm.can_post_private_comment(user))
            if can_comment else None
        ),
        "answer_form": AnswerForm(),
        "relation_form": RelationForm(),
        "cc": cc,
        "can_edit_cc": perm.can_edit_cc(user, incident),
        "can_leave_cc": perm.can_leave_cc(user, incident),
    }
    if ctx["can_edit_cc"]:
        ctx["cc_form"] = extra.pop("cc_form", None) or CCForm(current=cc)
    ctx.update(extra)
    return ctx


def _duplicate_shown(incident: Incident, user: Any) -> Incident | None:
    """The bug a RESOLVED DUPLICATE incident duplicates, when the reader may see it."""
    if incident.resolution != Incident.Resolution.DUPLICATE:
        return None
    target = duplicate_target(incident)
    return target if target is not None and perm.can_view_incident(user, target) else None


def incident_detail(request, number: int):
    incident = _incident(request, number)
    return render(request, "compliance/incidents/detail.html", _detail_context(request, incident))


@require_POST
def incident_comment(request, number: int):
    incident = _incident(request, number)
    if not perm.can_comment(request.user, incident):
        return _deny(request)
    form = CommentForm(request.POST, can_update=perm.can_file_report(request.user, incident),
                       can_private=perm.can_post_private_comment(request.user))
    if form.is_valid():
        d = form.cleaned_data
        if "preview" in request.POST:
            return render(request, "compliance/incidents/detail.html", _detail_context(
                request, incident, comment_form=form, comment_preview=markdown.render(d["body"])))
        try:
            if d.get("needinfo"):
                act.question_ask(actor=request.user, incident=incident, body=d["body"],
                                 asked_user=d.get("asked_user") if d["needinfo"] == "user" else None)
                messages.success(request, "Question posted: it is due in 7 days.")
            else:
                act.comment_create(actor=request.user, incident=incident, body=d["body"],
                                   kind=d.get("kind") or Comment.Kind.COMMENT, is_private=bool(d.get("is_private")))
                messages.success(request, "Comment posted.")
        except NotPermitted:
            raise PermissionDenied from None
        except DomainError as exc:
            _place_errors(form, exc)
        else:
            return redirect(incident.get_absolute_url() + "#comments")
    return render(request, "compliance/incidents/detail.html",
                  _detail_context(request, incident, comment_form=form), status=400)


@require_POST
def question_answer(request, number: int, question_id: int):
    incident = _incident(request, number)
    question = Question.objects.filter(pk=question_id, incident=incident).select_related("incident").first()
    if question is None:
        raise Http404("No such question.")
    if not request.user.is_authenticated:
        return _deny(request)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            act.question_answer(actor=request.user, question=question, body=form.cleaned_data["body"],
                                promised_date=form.cleaned_data.get("promised_date"))
        except DomainError as exc:
            messages.error(request, exc.message)
            return render(request, "compliance/incidents/detail.html",
                          _detail_context(request, incident, answer_form=form, answer_for=question.pk),
                          status=exc.http_status)
        messages.success(request, "Answer posted.")
        return redirect(incident.get_absolute_url() + "#questions")
    messages.error(request, "The answer is empty.")
    return render(request, "compliance/incidents/detail.html",
                  _detail_context(request, incident, answer_form=form, answer_for=question.pk), status=400)


@require_POST
def incident_watch(request, number: int):
    incident = _incident(request, number)
    if not perm.can_watch_incident(request.user, incident):
        return _deny(request)
    act.incident_watch(actor=request.user, incident=incident, watching=request.POST.get("watch") == "1")
    return redirect(incident)


@require_POST
def incident_cc(request, number: int):
    """Change the CC list: add logins, take ticked people off, or (`leave`) take oneself off."""
    incident = _incident(request, number)
    if "leave" in request.POST:
        if not perm.can_leave_cc(request.user, incident):
            return _deny(request)
        act.incident_cc_change(actor=request.user, incident=incident, remove=[request.user])
        messages.success(request, "You are no longer on the CC list.")
        # Off the list, the incident may now be out of sight: go where the person may still look.
        return redirect(incident if perm.can_view_incident(request.user, incident) else "compliance:incident_list")
    if not perm.can_edit_cc(request.user, incident):
        return _deny(request)
    form = CCForm(request.POST, current=incident.cc.all())
    if form.is_valid():
        try:
            events = act.incident_cc_change(actor=request.user, incident=incident, add=form.cleaned_data["add"],
                                            remove=form.cleaned_data.get("remove") or [])
        except NotPermitted:
            raise PermissionDenied from None
        except DomainError as exc:
            _place_errors(form, exc)
        else:
            messages.success(request, f"{len(events)} change(s) to the CC list." if events else "Nothing changed.")
            return redirect(incident.get_absolute_url() + "#cc")
    return render(request, "compliance/incidents/detail.html", _detail_context(request, incident, cc_form=form),
                  status=400)


# --------------------------------------------------------------------------- reports


@require_http_methods(["GET", "POST"])
def incident_report(request, number: int, kind: str):
    incident = _incident(request, number)
    if kind not in REPORT_KINDS:
        raise Http404("No such report kind.")
    if not perm.can_file_report(request.user, incident):
        return _deny(request)
    template = reports.TEMPLATES[reports.ReportKind(kind)]
    previous = sel.latest_report(incident, kind)
    errors: dict[str, list[str]] = {}
    preview = None
    status = 200
    # The version the author started from, kept through previews: posting on an older one is refused.
    base_version = request.POST.get("base_version", "") if request.method == "POST" else (
        previous.version if previous else 0)
    if request.method == "POST":
        data = report_data_from_post(kind, request.POST)
        try:
            if request.POST.get("action") == "post":
                version = act.report_post(actor=request.user, incident=incident, kind=kind, data=data,
                                          base_version=stale.base_version_from(request.POST))
                messages.success(request, f"{template.title} posted (version {version.version}).")
                return redirect(f"{incident.get_absolute_url()}#c{version.comment_id}")
            _, text = act.report_preview(kind=kind, data=data)
            preview = {"markdown": text, "html": markdown.render(text)}
        except NotPermitted:
            raise PermissionDenied from None
        except stale.NewerVersion as exc:
            errors, base_version, status = exc.errors, exc.version, 409
            messages.error(request, exc.message)
        except DomainError as exc:
            errors = exc.errors or {"report": [exc.message]}
            messages.error(request, exc.message)
            status = 400
    else:
        data = dict(previous.data) if previous else _report_initial(incident, kind)
        if kind == "full" and incident.ca_owner and incident.ca_owner.ccadb_id:
            # The owner record is where the CCADB ID lives (issue 14): a changed record shows here too.
            data["ca_owner_ccadb_id"] = incident.ca_owner.ccadb_id
    return render(request, "compliance/incidents/report_form.html", {
        "incident": incident, "kind": kind, "template": template, "previous": previous,
        "sections": report_layout(kind, data, errors), "preview": preview, "base_version": base_version,
        "general_errors": [m for k, msgs in errors.items() if k in ("report", "kind", "base_version") for m in msgs],
    }, status=status)


def _report_initial(incident: Incident, kind: str) -> dict[str, Any]:
    source = {"self_reported": "Self Reported", "third_party": "Third Party Reported", "audit": "Audit"}
    data: dict[str, Any] = {"source_of_disclosure": source.get(incident.source, "")}
    if kind == "full" and incident.ca_owner and incident.ca_owner.ccadb_id:
        data["ca_owner_ccadb_id"] = incident.ca_owner.ccadb_id
    prelim = sel.latest_report(incident, "preliminary")
    if prelim is not None:
        for key in ("incident_description", "relevant_policies", "source_of_disclosure"):
            data[key] = prelim.data.get(key, data.get(key, ""))
    return data


def incident_report_versions(request, number: int, kind: str):
    incident = _incident(request, number)
    if kind not in REPORT_KINDS:
        raise Http404("No such report kind.")
    versions = list(incident.report_versions.filter(kind=kind).select_related("author").order_by("-version"))
    return render(request, "compliance/incidents/report_versions.html", {
        "incident": incident, "kind": kind, "versions": versions,
        "title": reports.TEMPLATES[reports.ReportKind(kind)].title,
    })


# ---------------------------------------------------------------------- staff pages


@require_http_methods(["GET", "POST"])
def incident_triage(request, number: int):
    incident = _incident(request, number)
    if not perm.can_triage(request.user, incident):
        return _deny(request)
    form = TriageForm(request.POST or None, initial=TriageForm.initial_for(incident))
    relation_form = RelationForm(prefix="rel")
    # The version the form is opened on; a refused save keeps the one it was posted with.
    base = request.POST.get(stale.BASE_PARAM, "") if request.method == "POST" else stale.encode_base(
        sel.incident_snapshot(incident))
    conflict = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        changes = {k: d[k] for k in ("title", "status", "resolution", "whiteboard", "assignee",
                                     "security_sensitive", "source", "became_aware_at", "severity")}
        if d["next_update"] != incident.next_update:
            changes["next_update"] = d["next_update"]
        if d["dupe_of"] != form.initial.get("dupe_of"):
            changes["dupe_of"] = d["dupe_of"]
        try:
            events = act.incident_update(actor=request.user, incident=incident, base=stale.base_from(request.POST),
                                         **changes)
        except stale.EditConflict as exc:
            now = TriageForm.initial_for(Incident.objects.get(pk=incident.pk))
            base, conflict = stale.place_conflict(form, exc, now), True
        except DomainError as exc:
            _place_errors(form, exc)
        else:
            messages.success(request, f"{len(events)} change(s) saved." if events else "Nothing changed.")
            return redirect(incident)
    return _triage_page(request, incident, form, relation_form, base=base, conflict=conflict,
                        status=409 if conflict else 400 if form.errors else 200)


def _triage_page(request, incident: Incident, form, relation_form, *, base: str, conflict: bool = False,
                 status: int = 200) -> HttpResponse:
    return render(request, "compliance/incidents/triage.html",
                  {"incident": incident, "form": form, "relation_form": relation_form, "base": base,
                   "stale_conflict": conflict, "relations": sel.relations_for(incident, request.user)},
                  status=status)


@require_POST
def incident_relation(request, number: int):
    """Add or remove a relation; a refused one (unknown bug, a loop) shows the triage page again with
    the reason beside the bug number, and changes nothing."""
    incident = _incident(request, number)
    if not perm.can_triage(request.user, incident):
        return _deny(request)
    form = RelationForm(request.POST, prefix="rel")
    if form.is_valid():
        try:
            act.incident_relate(actor=request.user, incident=incident, kind=form.cleaned_data["kind"],
                                other_number=form.cleaned_data["other"], remove="remove" in request.POST)
        except NotPermitted:
            raise PermissionDenied from None
        except DomainError as exc:
            _place_errors(form, exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, "Relations updated.")
            return redirect("compliance:incident_triage", number=incident.number)
    else:
        messages.error(request, "Give a relation and a bug number; nothing was changed.")
    triage = TriageForm(initial=TriageForm.initial_for(incident))
    return _triage_page(request, incident, triage, form, base=stale.encode_base(sel.incident_snapshot(incident)),
                        status=400)


@require_http_methods(["GET", "POST"])
def incident_assessment(request, number: int):
    incident = _incident(request, number)
    if not perm.can_assess(request.user, incident):
        return _deny(request)
    assessment = Assessment.objects.filter(incident=incident).first()
    form = AssessmentForm(request.POST or None, initial=AssessmentForm.initial_for(assessment))
    base = request.POST.get(stale.BASE_PARAM, "") if request.method == "POST" else stale.encode_base(
        sel.assessment_snapshot(assessment))
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            act.assessment_save(actor=request.user, incident=incident, base=stale.base_from(request.POST),
                                **form.action_kwargs())
        except stale.EditConflict as exc:
            now = AssessmentForm.initial_for(Assessment.objects.filter(incident=incident).first())
            base, conflict = stale.place_conflict(form, exc, now), True
        except DomainError as exc:
            _place_errors(form, exc)
        else:
            messages.success(request, "Assessment saved.")
            return redirect("compliance:incident_assessment", number=incident.number)
    problem = assessment.problem if assessment else ""
    return render(request, "compliance/incidents/assessment.html", {
        "incident": incident, "form": form, "assessment": assessment, "base": base, "stale_conflict": conflict,
        "responses": sel.response_table(problem), "actions": resp.ACTIONS,
        "decision_form": DecisionForm(), "decisions": list(sel.decisions_for(incident, request.user)),
        "distrust_actions": related.for_incident("distrust_actions", incident, request.user),
    }, status=409 if conflict else 400 if form.errors else 200)


@require_POST
def incident_decision(request, number: int):
    incident = _incident(request, number)
    if not perm.can_assess(request.user, incident):
        return _deny(request)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            decision = act.decision_record(actor=request.user, incident=incident, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Decision recorded.")
            if decision.is_active_distrust:
                messages.info(request, "Start the distrust action from the link beside the decision.")
    else:
        messages.error(request, "Choose a decision.")
    return redirect("compliance:incident_assessment", number=incident.number)


@require_POST
def incident_decision_publish(request, number: int, decision_id: int):
    incident = _incident(request, number)
    if not perm.can_assess(request.user, incident):
        return _deny(request)
    decision = incident.decisions.filter(pk=decision_id).first()
    if decision is None:
        raise Http404("No such decision.")
    try:
        act.decision_publish(actor=request.user, decision=decision)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Decision published: it now shows on the incident.")
    return redirect("compliance:incident_assessment", number=incident.number)


def incident_history(request, number: int):
    incident = _incident(request, number)
    return render(request, "compliance/incidents/history.html",
                  {"incident": incident, "events": list(sel.events_for(incident, request.user))})
