"""The /rest/ endpoints. Each is a plain function of (request, user, ...) returning a dict; the
`endpoint` decorator does what every one shares: the methods it answers (GET unless told), who is
asking, rate limits, and Bugzilla's error body. Reads go through compliance.selectors and
accounts.permissions; writes are in compliance.bugzilla.writes and .attachments, and `by_method`
routes one URL's methods to them.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts import permissions as perm
from accounts import throttling
from compliance import selectors
from compliance.bugzilla import (
    BUG_ACCESS_DENIED,
    BUG_DOES_NOT_EXIST,
    COMPONENT_PUBLIC,
    COMPONENT_SECURITY,
    INVALID_RESOURCE,
    PARAM_INVALID,
    PRODUCT,
    UNKNOWN_TRANSIENT,
    VERSION,
    BugzillaError,
    auth,
    regexp,
    search,
    serialize,
)
from compliance.models import Comment, Incident
from compliance.selectors_attachments import comment_attachment_ids
from config.pagination import deferred_slice


def error_response(error: BugzillaError) -> JsonResponse:
    return JsonResponse({"error": True, "code": error.code, "message": error.message}, status=error.status)


def refused(request, status: int, message: str) -> JsonResponse:
    """A request config.middleware refuses before any view (a NUL byte, a body too large)."""
    return JsonResponse({"error": True, "code": PARAM_INVALID, "message": message}, status=status)


def unknown_resource(request) -> JsonResponse:
    path = request.path[len("/rest"):] or "/"
    return error_response(
        BugzillaError(INVALID_RESOURCE, f"A REST API resource was not found for '{request.method} {path}'.")
    )


def endpoint(view=None, *, methods=("GET", "HEAD"), status=200):
    """`methods`: those the view answers (Bugzilla answers any other with 32614); `status`: on success
    (201 for a POST that creates, as Bugzilla's REST resources say). A write (any other method than GET
    and HEAD) needs an API key that may write (auth.writer)."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return unknown_resource(request)
            try:
                user, key = auth.authenticate(request)
                if request.method not in perm.SAFE_HTTP_METHODS:
                    auth.writer(user, key, request.method)
                verdict = throttling.check(request, key)
                if verdict is not None:
                    response = JsonResponse({"error": True, "code": UNKNOWN_TRANSIENT, "message": verdict.message},
                                            status=429)
                    response["Retry-After"] = str(verdict.wait)
                    return response
                return JsonResponse(view(request, user, *args, **kwargs), status=status)
            except BugzillaError as error:
                return error_response(error)

        return wrapper

    return decorate(view) if view is not None else decorate


def by_method(**views):
    """One URL, a view per method (GET=..., POST=..., PUT=...); HEAD is GET's; others answer 32614."""
    if "GET" in views:
        views.setdefault("HEAD", views["GET"])

    @csrf_exempt
    def dispatch(request, *args, **kwargs):
        view = views.get(request.method)
        if view is None:
            return unknown_resource(request)
        return view(request, *args, **kwargs)

    return dispatch


def _context(request, user) -> serialize.Context:
    return serialize.Context(user=user, base_url=request.build_absolute_uri("/").rstrip("/"))


def _fields(request, available) -> list[str]:
    include = serialize.split_names(request.GET.getlist("include_fields"))
    exclude = serialize.split_names(request.GET.getlist("exclude_fields"))
    return serialize.select_fields(available, include, exclude)


def _incident(user, raw_id) -> Incident:
    number = search.parse_bug_id(raw_id)
    incident = Incident.objects.filter(number=number).first()
    if incident is None:
        raise BugzillaError(BUG_DOES_NOT_EXIST, f"Bug #{number} does not exist.")
    if not perm.can_view_incident(user, incident):
        raise BugzillaError(BUG_ACCESS_DENIED, f"You are not authorized to access bug #{number}.")
    return incident


@endpoint
def version(request, user):
    return {"version": VERSION}


@endpoint
def timezone_view(request, user):
    return {"timezone": "+0000"}


@endpoint
def extensions(request, user):
    return {"extensions": {}}


def _product() -> dict:
    components = [
        {"id": 1, "name": COMPONENT_PUBLIC, "description": "Compliance incidents of CAs in the root store.",
         "is_active": True, "default_assigned_to": "nobody", "sort_key": 0},
        {"id": 2, "name": COMPONENT_SECURITY, "description": "Security-sensitive incidents (group ca-program-security).",
         "is_active": True, "default_assigned_to": "nobody", "sort_key": 1},
    ]
    return {"id": 1, "name": PRODUCT, "description": "The root store program's CA compliance incidents.",
            "is_active": True, "classification": "Other", "components": components,
            "versions": [{"id": 1, "name": "other", "sort_key": 0, "is_active": True}],
            "milestones": [{"id": 1, "name": "---", "sort_key": 0, "is_active": True}],
            "has_unconfirmed": True, "default_milestone": "---"}


@endpoint
def product(request, user, name=None):
    names = [name] if name else request.GET.getlist("names")
    products = [_product()] if not names or PRODUCT in names or "1" in request.GET.getlist("ids") else []
    keep = serialize.split_names(request.GET.getlist("include_fields"))
    if keep:
        top = {n.split(".", 1)[0] for n in keep} | {"id"}
        products = [{k: v for k, v in p.items() if k in top} for p in products]
    return {"products": products}


@endpoint
def product_ids(request, user):
    return {"ids": [1]}


@endpoint
def bug_search(request, user):
    s = search.build(
        search.SearchContext(user=user),
        request.GET,
        default_limit=settings.BUGZILLA_DEFAULT_LIMIT,
        max_limit=settings.BUGZILLA_MAX_LIMIT,
    )
    qs = search.visible_incidents(user).filter(s.q)
    # Bounded in time: a regexp operator runs the client's expression inside the database.
    with regexp.bounded():
        if s.count_only:
            return {"bug_count": qs.count()}
        names = _fields(request, serialize.BUG_FIELDS)
        # A deferred join: a deep offset walks the sort key only (config.pagination).
        page = deferred_slice(serialize.prefetch_for(qs, names).order_by(*s.order), s.offset, s.limit)
    ctx = _context(request, user)
    return {"bugs": [serialize.bug_dict(incident, ctx, names) for incident in page]}


@endpoint
def bug_get(request, user, bug_id):
    incident = _incident(user, bug_id)
    names = _fields(request, serialize.BUG_FIELDS)
    incident = serialize.prefetch_for(Incident.objects.filter(pk=incident.pk), names).get()
    return {"bugs": [serialize.bug_dict(incident, _context(request, user), names)], "faults": []}


@endpoint
def bug_comments(request, user, bug_id):
    incident = _incident(user, bug_id)
    # Bugzilla numbers comments among all of the bug's comments, private ones included.
    positions = {
        pk: n for n, pk in enumerate(Comment.objects.filter(incident=incident).order_by("created_at", "pk").values_list("pk", flat=True))
    }
    comments = selectors.comments_for(incident, user)
    new_since = request.GET.get("new_since")
    if new_since:
        comments = comments.filter(created_at__gt=search.parse_time(new_since, "new_since"))
    names = _fields(request, serialize.COMMENT_FIELDS)
    # The attachment posted with a comment (Bugzilla's "Created attachment N"), if the reader may see it.
    attached = comment_attachment_ids(incident, user) if "attachment_id" in names else {}
    rows = [
        {k: v for k, v in {**serialize.comment_dict(c, bug_id=incident.number, count=positions.get(c.pk, 0)),
                           "attachment_id": attached.get(c.pk)}.items() if k in names}
        for c in comments
    ]
    return {"bugs": {str(incident.number): {"comments": rows}}, "comments": {}}


@endpoint
def bug_history(request, user, bug_id):
    incident = _incident(user, bug_id)
    events = selectors.events_for(incident, user)
    new_since = request.GET.get("new_since")
    if new_since:
        events = events.filter(at__gt=search.parse_time(new_since, "new_since"))
    return {"bugs": [serialize.history_dict(incident, events)]}


@endpoint
def fields(request, user, name=None):
    definitions = serialize.field_definitions()
    if name:
        definitions = [f for f in definitions if f["name"] == name or str(f["id"]) == name]
        if not definitions:
            raise BugzillaError(51, f"There is no field named '{name}'.")
    names = request.GET.getlist("names")
    if names:
        definitions = [f for f in definitions if f["name"] in names]
    keep = _fields(request, definitions[0].keys()) if definitions else []
    return {"fields": [{k: v for k, v in f.items() if k in keep} for f in definitions]}


@csrf_exempt
def not_found(request, rest=""):
    return unknown_resource(request)
