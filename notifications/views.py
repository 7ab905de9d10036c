"""Pages: a user's notifications, their delivery choice and watches, one-click unsubscribe, the staff schedule."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions as perm
from compliance.actions import cc
from config.errors import DomainError
from config.filters import db_int
from notifications import actions, selectors
from notifications.forms import PreferenceForm, WatchCAForm, WatchIncidentForm


@login_required
@require_http_methods(["GET"])
def notification_list(request):
    page = Paginator(selectors.notifications_for(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html",
                  {"page": page, "can_view_operations": perm.can_view_operations(request.user)})


@login_required
@require_POST
def mark_read(request):
    ids = request.POST.getlist("id")
    ids = [n for n in (db_int(i) for i in ids) if n is not None] or None
    changed = actions.notifications_mark_read(actor=request.user, ids=ids)
    messages.success(request, f"Marked {changed} notification{'' if changed == 1 else 's'} as read.")
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    chosen = actions.deliveries_for(request.user)
    current = chosen["reminders"]
    pref_form = PreferenceForm(initial={"delivery": current, **chosen})
    ca_form, incident_form = WatchCAForm(), WatchIncidentForm()
    status = 200
    if request.method == "POST":
        what = request.POST.get("form")
        try:
            if what == "delivery":
                pref_form = PreferenceForm(request.POST)
                if pref_form.is_valid():
                    actions.preference_set(actor=request.user, by_category=pref_form.by_category())
                    messages.success(request, "Your delivery choices are saved.")
                    return redirect("notifications:settings")
            elif what == "watch_ca":
                ca_form = WatchCAForm(request.POST)
                if ca_form.is_valid():
                    actions.watch_add(actor=request.user, ca_owner=ca_form.cleaned_data["ca_owner"])
                    messages.success(request, f"You now watch {ca_form.cleaned_data['ca_owner']}.")
                    return redirect("notifications:settings")
            elif what == "watch_incident":
                incident_form = WatchIncidentForm(request.POST)
                if incident_form.is_valid():
                    from compliance.models import Incident

                    incident = Incident.objects.filter(number=incident_form.cleaned_data["number"]).first()
                    if incident is None or not perm.can_view_incident(request.user, incident):
                        # Same answer for "no such bug" and "not yours to see": nothing leaks.
                        incident_form.add_error("number", "No incident with that number.")
                    else:
                        cc.cc_add(actor=request.user, incident=incident, user=request.user)
                        messages.success(request, f"You are now on the CC list of bug {incident.number}.")
                        return redirect("notifications:settings")
            elif what == "unwatch":
                actions.watch_remove(actor=request.user, watch_id=db_int(request.POST.get("watch", "")) or 0)
                messages.success(request, "You no longer watch it.")
                return redirect("notifications:settings")
            elif what == "leave_cc":
                from compliance.models import Incident

                incident = Incident.objects.filter(number=db_int(request.POST.get("number", "")) or 0).first()
                if incident is None or not perm.can_leave_cc(request.user, incident):
                    raise DomainError("You are not on the CC list of that incident.")
                cc.cc_remove(actor=request.user, incident=incident, user=request.user)
                messages.success(request, f"You are no longer on the CC list of bug {incident.number}.")
                return redirect("notifications:settings")
        except DomainError as exc:
            messages.error(request, exc.message)
        status = 400
    context = {
        "pref_form": pref_form,
        "ca_form": ca_form,
        "incident_form": incident_form,
        "watches": selectors.watches_for(user=request.user),
        "cc_incidents": selectors.cc_incidents_for(user=request.user),
        "current": current,
    }
    return render(request, "notifications/settings.html", context, status=status)


@csrf_exempt  # RFC 8058 one-click POSTs come from mail clients, without a CSRF token: the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        user = actions.user_for_unsubscribe_token(token)
    except DomainError as exc:
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=400)
    if request.method == "POST":
        actions.unsubscribe(token=token)
        return render(request, "notifications/unsubscribe.html", {"done": True, "account": user})
    # GET only asks: link scanners in mail systems must not unsubscribe people.
    return render(request, "notifications/unsubscribe.html", {"account": user, "token": token})


@require_http_methods(["GET", "POST"])
def schedule(request):
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    if not perm.can_view_operations(request.user):
        raise PermissionDenied("Only root program staff see the job schedule.")
    if request.method == "POST":
        if actions.sweep_enqueue(actor=request.user):
            messages.success(request, "A sweep was queued; reload in a moment to see what it found.")
        else:
            messages.error(request, "The task broker is unavailable, so the sweep was not queued. Reminders wait; "
                                    "the next scheduled sweep catches up once the broker is back.")
        return redirect("notifications:schedule")
    context = {
        "jobs": selectors.schedule_rows(),
        "failed": selectors.failed_notifications(),
        "outbox": selectors.outbox_counts(),
    }
    return render(request, "notifications/schedule.html", context)
