"""Bugzilla's writes: POST /rest/bug (Bug.create), PUT /rest/bug/N (Bug.update), POST /rest/bug/N/comment
(Bug.add_comment). Each parses Bugzilla's parameters and calls the compliance actions, which enforce
accounts.permissions; one request is one transaction, so a refusal of any part changes nothing.

Decisions where Bugzilla and Rootwatch differ:
- The CA owner of a new bug: `cf_ca_owner` (name or id), else the summary's "<CA owner name>: " prefix
  (the compliance component's convention), else the one CA the key's user represents.
- Component "CA Security Vulnerability" (or group ca-program-security) files or marks the incident
  security-sensitive; "CA Certificate Compliance" is the public one.
- The needinfo flag is a question (compliance.Question): `{"name": "needinfo", "status": "?"}` asks the
  CA (or `requestee`, a login), with the update's comment as the question (a default text without
  one); clearing it ("X", "-" or "+") answers the open question asked of the caller, and needs the
  answer as the update's `comment`.
- The CC list is compliance.actions.cc (the one watch mechanism: joining it follows the incident).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from accounts import permissions as perm
from accounts.models import User
from compliance.actions import cc as cc_actions
from compliance.actions import incidents as act
from compliance.bugzilla import (
    COMMENT_INVALID_ISPRIVATE,
    COMPONENT_PUBLIC,
    COMPONENT_SECURITY,
    FLAG_STATUS_INVALID,
    FLAG_UPDATE_DENIED,
    GROUP_NOT_ALLOWED,
    INVALID_USERNAME,
    PARAM_INVALID,
    PARAM_REQUIRED,
    PRODUCT,
    PRODUCT_ACCESS_DENIED,
    PRODUCT_EDIT_DENIED,
    REQUIRE_COMPONENT,
    REQUIRE_SUMMARY,
    SECURITY_GROUP,
    USER_NOT_INSIDER,
    BugzillaError,
    search,
    serialize,
)
from compliance.bugzilla.errors import body_params, flag, from_domain, text
from compliance.bugzilla.views import _incident, endpoint
from compliance.models import Incident, Question
from config.errors import DomainError
from registry.models import CAOwner

# Our history field names -> Bugzilla's Bug.update `changes` keys.
CHANGE_NAMES = {**serialize.HISTORY_FIELD_NAMES, "security_sensitive": "groups", "duplicate_of": "dupe_of",
                "depends_on": "depends_on", "blocks": "blocks"}
NEEDINFO = "needinfo"


def _params(request) -> dict[str, Any]:
    return body_params(request, limit=settings.MAX_REQUEST_BODY_BYTES)


def _user(login: Any, param: str) -> User:
    name = text(login, param).strip()
    user = User.objects.filter(Q(username=name), is_active=True).first() if name else None
    if user is None:
        raise BugzillaError(INVALID_USERNAME, f"There is no user named '{name}' ({param}): give a Rootwatch login.")
    return user


def _names(value: Any, param: str) -> list[str]:
    if value in (None, ""):
        return []
    values = value if isinstance(value, list) else [value]
    return [text(v, param) for v in values]


# ------------------------------------------------------------------------------ create


def _security(params: dict[str, Any]) -> bool:
    component = text(params.get("component"), "component").strip()
    if not component:
        raise BugzillaError(REQUIRE_COMPONENT, f"You must select a component: '{COMPONENT_PUBLIC}', or "
                            f"'{COMPONENT_SECURITY}' for a security-sensitive incident.")
    if component not in (COMPONENT_PUBLIC, COMPONENT_SECURITY):
        raise BugzillaError(REQUIRE_COMPONENT, f"There is no component '{component}' in {PRODUCT}: use "
                            f"'{COMPONENT_PUBLIC}' or '{COMPONENT_SECURITY}'.")
    groups = _names(params.get("groups"), "groups")
    unknown = [g for g in groups if g != SECURITY_GROUP]
    if unknown:
        raise BugzillaError(GROUP_NOT_ALLOWED, f"There is no group {unknown[0]!r}; the one group is '{SECURITY_GROUP}'.")
    return component == COMPONENT_SECURITY or bool(groups)


def _ca_owner(params: dict[str, Any], summary: str, user: Any) -> CAOwner:
    given = text(params.get("cf_ca_owner"), "cf_ca_owner").strip()
    if given:
        owner = CAOwner.objects.filter(name__iexact=given).first()
        if owner is None and given.isascii() and given.isdigit():
            owner = CAOwner.objects.filter(pk=int(given)).first()
        if owner is None:
            raise BugzillaError(PARAM_INVALID, f"There is no CA owner named '{given}' (cf_ca_owner).")
        return owner
    prefix, sep, _ = summary.partition(":")
    if sep and prefix.strip():
        owner = CAOwner.objects.filter(name__iexact=prefix.strip()).first()
        if owner is not None:
            return owner
    owners = perm.represented_owner_ids(user)
    if len(owners) == 1:
        return CAOwner.objects.get(pk=next(iter(owners)))
    raise BugzillaError(PARAM_REQUIRED, "Name the CA owner: start the summary with its name (\"Acme Trust: ...\"), "
                        "or send cf_ca_owner.")


@endpoint(methods=("POST",), status=201)
@transaction.atomic
def bug_create(request, user):
    params = _params(request)
    product = text(params.get("product"), "product").strip()
    if not product:
        raise BugzillaError(PARAM_REQUIRED, f"You must select a product: '{PRODUCT}'.")
    if product != PRODUCT:
        raise BugzillaError(PRODUCT_ACCESS_DENIED, f"There is no product '{product}' you may file in: use '{PRODUCT}'.")
    sensitive = _security(params)
    summary = " ".join(text(params.get("summary"), "summary").split())
    if not summary:
        raise BugzillaError(REQUIRE_SUMMARY, "You must enter a summary for this bug.")
    description = text(params.get("description"), "description")
    if not description.strip():
        raise BugzillaError(PARAM_REQUIRED, "Describe what happened (description): it is the bug's comment 0.")
    if flag(params.get("comment_is_private"), "comment_is_private"):
        if not perm.can_post_private_comment(user):
            raise BugzillaError(USER_NOT_INSIDER, "Only root program staff post private comments.")
        raise BugzillaError(COMMENT_INVALID_ISPRIVATE, "The description (comment 0) is public on Rootwatch: file the "
                            "bug in 'CA Security Vulnerability' to keep it to those who may see it.")
    owner = _ca_owner(params, summary, user)
    try:
        incident = act.incident_create(
            actor=user, ca_owner=owner, title=summary, description=description, security_sensitive=sensitive,
            whiteboard=text(params.get("whiteboard"), "whiteboard"),
        )
        cc = [_user(name, "cc") for name in _names(params.get("cc"), "cc")]
        if cc:
            cc_actions.cc_change(actor=user, incident=incident, add=cc)
        for item in _flag_list(params.get("flags")):
            _apply_flag(user, incident, item, comment=None)
    except DomainError as exc:
        raise from_domain(exc) from None
    return {"id": incident.number}


# ------------------------------------------------------------------------------ comment


@endpoint(methods=("POST",), status=201)
@transaction.atomic
def comment_add(request, user, bug_id):
    incident = _incident(user, bug_id)
    params = _params(request)
    body = text(params.get("comment"), "comment")
    if not body.strip():
        raise BugzillaError(PARAM_REQUIRED, "The comment is empty: send its text as 'comment'.")
    private = flag(params.get("is_private", params.get("private")), "is_private")
    try:
        comment = act.comment_create(actor=user, incident=incident, body=body, is_private=private)
    except DomainError as exc:
        raise from_domain(exc, denied=PRODUCT_EDIT_DENIED) from None
    return {"id": comment.pk}


# ------------------------------------------------------------------------------ update


def _flag_list(value: Any) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(f, dict) for f in value):
        raise BugzillaError(PARAM_INVALID, "'flags' must be a list of objects ({\"name\": \"needinfo\", \"status\": \"?\"}).")
    return value


def _apply_flag(user, incident: Incident, item: dict, *, comment: str | None) -> tuple[str, str] | None:
    """One needinfo flag change; returns (removed, added) for `changes`. Consumes `comment` (the caller
    knows it was used when this returns)."""
    name = item.get("name")
    if name not in (None, NEEDINFO) or item.get("type_id") not in (None, serialize.NEEDINFO_TYPE_ID, str(serialize.NEEDINFO_TYPE_ID)):
        raise BugzillaError(PARAM_INVALID, "The only flag here is needinfo (type_id 1): a question to the CA or a person.")
    if name is None and item.get("type_id") is None and item.get("id") is None:
        raise BugzillaError(PARAM_INVALID, "A flag names its type: \"name\": \"needinfo\".")
    status = item.get("status")
    if status == "?":
        if item.get("id") is not None:
            raise BugzillaError(FLAG_STATUS_INVALID, "This needinfo is already requested.")
        requestee = item.get("requestee")
        asked = _user(requestee, "requestee") if requestee not in (None, "") else None
        who = asked.username if asked is not None else (incident.ca_owner.name if incident.ca_owner_id else "")
        body = comment if comment and comment.strip() else f"Needinfo: information is requested from {who}."
        act.question_ask(actor=user, incident=incident, body=body, asked_user=asked)
        return "", f"needinfo?({who})"
    if status in ("X", "-", "+"):
        question = _question_to_answer(user, incident, item)
        if not (comment and comment.strip()):
            raise BugzillaError(PARAM_REQUIRED, "Clearing a needinfo answers the question: send the answer as the "
                                "update's 'comment'.")
        act.question_answer(actor=user, question=question, body=comment)
        return f"needinfo?({question.asked_user.username if question.asked_user_id else incident.ca_owner})", ""
    raise BugzillaError(FLAG_STATUS_INVALID, f"A flag's status is ?, X, - or +, not {status!r}.")


def _question_to_answer(user, incident: Incident, item: dict) -> Question:
    open_questions = Question.objects.filter(incident=incident, closed_at__isnull=True).select_related(
        "incident", "asked_user")
    if item.get("id") is not None:
        open_questions = open_questions.filter(pk=search.parse_count(item["id"], "flags.id"))
    mine = [q for q in open_questions if perm.can_answer_question(user, q)]
    if not mine:
        raise BugzillaError(FLAG_UPDATE_DENIED, "There is no open needinfo you may answer on this bug: a needinfo is "
                            "answered by whom it asks (the CA's representatives, or the named person).")
    return mine[0]


def _changes(events) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, list[str]]] = {}
    for event in events:
        name = CHANGE_NAMES.get(event.field, event.field)
        entry = out.setdefault(name, {"removed": [], "added": []})
        if event.old:
            entry["removed"].append(str(event.old))
        if event.new:
            entry["added"].append(str(event.new))
    return {k: {"removed": ", ".join(v["removed"]), "added": ", ".join(v["added"])} for k, v in out.items()}


TRIAGE_PARAMS = {"summary": "title", "status": "status", "resolution": "resolution", "whiteboard": "whiteboard"}


def _update_one(user, incident: Incident, params: dict[str, Any]) -> dict:
    fields: dict[str, Any] = {}
    for param, field in TRIAGE_PARAMS.items():
        if param in params:
            fields[field] = text(params[param], param)
    if "dupe_of" in params:
        fields["dupe_of"] = None if params["dupe_of"] in (None, "") else search.parse_bug_id(params["dupe_of"])
    if "assigned_to" in params:
        fields["assignee"] = _user(params["assigned_to"], "assigned_to") if params["assigned_to"] else None
    if flag(params.get("reset_assigned_to"), "reset_assigned_to"):
        fields["assignee"] = None
    if "component" in params:
        fields["security_sensitive"] = _security({"component": params["component"]})
    groups = params.get("groups")
    if isinstance(groups, dict):
        if SECURITY_GROUP in _names(groups.get("add"), "groups.add"):
            fields["security_sensitive"] = True
        if SECURITY_GROUP in _names(groups.get("remove"), "groups.remove"):
            fields["security_sensitive"] = False
    comment = params.get("comment")
    body, private = "", False
    if isinstance(comment, dict):
        body = text(comment.get("body", comment.get("comment")), "comment.body")
        private = flag(comment.get("is_private"), "comment.is_private")
    elif comment not in (None, ""):
        body = text(comment, "comment")
    events: list = []
    extra: dict[str, dict[str, str]] = {}
    if fields:
        events += act.incident_update(actor=user, incident=incident, **fields)
    cc = params.get("cc")
    if isinstance(cc, dict):
        add = [_user(n, "cc.add") for n in _names(cc.get("add"), "cc.add")]
        remove = [_user(n, "cc.remove") for n in _names(cc.get("remove"), "cc.remove")]
        if add or remove:
            events += cc_actions.cc_change(actor=user, incident=incident, add=add, remove=remove)
    for param, kind in (("depends_on", "depends_on"), ("blocks", "blocks")):
        value = params.get(param)
        if isinstance(value, dict):
            for number in value.get("add") or []:
                act.incident_relate(actor=user, incident=incident, kind=kind, other_number=search.parse_bug_id(number))
                extra.setdefault(param, {"removed": "", "added": ""})["added"] = str(number)
            for number in value.get("remove") or []:
                act.incident_relate(actor=user, incident=incident, kind=kind,
                                    other_number=search.parse_bug_id(number), remove=True)
                extra.setdefault(param, {"removed": "", "added": ""})["removed"] = str(number)
    used_comment = False
    for item in _flag_list(params.get("flags")):
        if private and body:
            raise BugzillaError(COMMENT_INVALID_ISPRIVATE, "A needinfo's question or answer is public: the CA must see it.")
        change = _apply_flag(user, incident, item, comment=None if used_comment else body)
        used_comment = used_comment or bool(body)
        if change:
            entry = extra.setdefault("flagtypes.name", {"removed": "", "added": ""})
            entry["removed"] = ", ".join(x for x in (entry["removed"], change[0]) if x)
            entry["added"] = ", ".join(x for x in (entry["added"], change[1]) if x)
    if body.strip() and not used_comment:
        try:
            act.comment_create(actor=user, incident=incident, body=body, is_private=private)
        except DomainError as exc:
            raise from_domain(exc, denied=PRODUCT_EDIT_DENIED) from None
    incident.refresh_from_db(fields=["updated_at"])
    return {"id": incident.number, "alias": [], "last_change_time": serialize.bz_time(incident.updated_at),
            "changes": {**_changes(events), **extra}}


@endpoint(methods=("PUT",))
@transaction.atomic
def bug_update(request, user, bug_id):
    params = _params(request)
    numbers = [bug_id] + [n for n in (params.pop("ids", None) or []) if str(n) != str(bug_id)]
    incidents = [_incident(user, n) for n in numbers]
    try:
        return {"bugs": [_update_one(user, incident, params) for incident in incidents]}
    except DomainError as exc:
        raise from_domain(exc) from None
