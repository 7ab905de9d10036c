"""Atom feeds: all incidents, one CA's, one tag's, and one incident's comments.

Same permissions as the pages (compliance.selectors through accounts.permissions):
a security-sensitive incident or a private comment appears only to those who may see it.
Feed readers rarely keep a session, so a feed also accepts `Authorization: Token <key>`; an
unknown or revoked key is a 401, not a silently public feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks

from accounts import throttling
from accounts.api_keys import api_key_authenticate, token_from_authorization
from compliance import selectors as sel
from compliance.models import Incident
from registry.models import CAOwner

FEED_LENGTH = 50


class InvalidKey(Exception):
    pass


def feed_user(request) -> Any:
    """The API key's user when a Token is sent, else the session's (possibly anonymous) user.
    Counts the request against the API's rate limits (request.rate_limited: a 429 to answer, or None)."""
    plain = token_from_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
    key = None
    if plain is not None:
        key = api_key_authenticate(plain=plain)
        if key is None:
            raise InvalidKey
    request.rate_limited = rate_limited(request, key)
    return request.user if key is None else key.user


def rate_limited(request, key) -> HttpResponse | None:
    """Feeds and exports are polled by programs as the API is: the same limits, per key and per address."""
    verdict = throttling.check(request, key)
    if verdict is None:
        return None
    response = HttpResponse(verdict.message + "\n", status=429, content_type="text/plain")
    response["Retry-After"] = str(verdict.wait)
    return response


@dataclass
class Scope:
    user: Any
    title: str
    link: str
    ca: CAOwner | None = None
    tag: str = ""
    incident: Incident | None = None
    params: dict | None = None  # the incident list's filter (incidents.atom?status=...)


class _AuthFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request, *args, **kwargs):
        try:
            request.feed_user = feed_user(request)
        except InvalidKey:
            return HttpResponse(
                "Invalid API key: it is unknown or has been revoked.\n", status=401, content_type="text/plain"
            )
        if request.rate_limited is not None:
            return request.rate_limited
        response = super().__call__(request, *args, **kwargs)
        # Per-user content must not be shared by caches between users.
        response["Cache-Control"] = "private, max-age=60"
        response["Vary"] = "Cookie, Authorization"
        return response

    def title(self, obj: Scope) -> str:
        return obj.title

    def link(self, obj: Scope) -> str:
        return obj.link

    def feed_guid(self, obj: Scope) -> str:
        return obj.link


# A feed is always newest change first and one page long.
FEED_IGNORED_PARAMS = ("sort", "page")


class IncidentsFeed(_AuthFeed):
    """Incidents by last change: all, one CA's, or one tag's."""

    subtitle = "Compliance incidents, most recently changed first."

    def get_object(self, request, pk=None, tag=None):
        user = request.feed_user
        if pk is not None:
            owner = get_object_or_404(CAOwner, pk=pk)
            return Scope(user=user, title=f"Rootwatch: incidents of {owner.name}", link=f"/incidents/?ca={owner.pk}", ca=owner)
        if tag is not None:
            return Scope(user=user, title=f"Rootwatch: incidents tagged [{tag}]", link=f"/incidents/?tag={tag}", tag=tag)
        # The list's filter, as its page links to it: the same selection, newest change first.
        params = {k: v for k, v in request.GET.items() if k not in FEED_IGNORED_PARAMS and v}
        if params:
            query = urlencode(params)
            return Scope(user=user, title=f"Rootwatch: incidents ({query})", link=f"/incidents/?{query}", params=params)
        return Scope(user=user, title="Rootwatch: incidents", link="/incidents/")

    def items(self, obj: Scope):
        params = {**(obj.params or {}), "ca": obj.ca.pk if obj.ca else (obj.params or {}).get("ca", ""),
                  "tag": obj.tag or (obj.params or {}).get("tag", ""), "sort": "-updated"}
        try:
            return sel.incident_list(user=obj.user, params=params)[:FEED_LENGTH]
        except sel.InvalidFilter:
            return []  # a tag that is not a known one: nothing is tagged with it

    def item_title(self, item: Incident) -> str:
        return f"Bug {item.number}: {item.title}"

    def item_description(self, item: Incident) -> str:
        status = item.status + (f" {item.resolution}" if item.resolution else "")
        owner = item.ca_owner.name if item.ca_owner_id else "—"
        parts = [f"<p>Status: {escape(status)} · CA owner: {escape(owner)}</p>"]
        if item.whiteboard:
            parts.append(f"<p>Whiteboard: {escape(item.whiteboard)}</p>")
        return "".join(parts)

    def item_link(self, item: Incident) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Incident):
        return item.created_at

    def item_updateddate(self, item: Incident):
        return item.updated_at


class IncidentCommentsFeed(_AuthFeed):
    """One incident's comments, newest first; private ones only for those who may see them."""

    def get_object(self, request, number):
        incident = sel.incident_for(request.feed_user, number)
        if incident is None:
            raise Http404("No such incident.")
        return Scope(
            user=request.feed_user,
            title=f"Rootwatch: comments on bug {incident.number}: {incident.title}",
            link=incident.get_absolute_url(),
            incident=incident,
        )

    def items(self, obj: Scope):
        return sel.comments_for(obj.incident, obj.user).order_by("-created_at", "-pk")[:FEED_LENGTH]

    def item_title(self, item) -> str:
        who = item.author.username if item.author_id and item.author else "nobody"
        return f"{item.get_kind_display()} by {who}"

    def item_description(self, item) -> str:
        return getattr(item, "body_html", "") or linebreaks(escape(item.body))

    def item_link(self, item) -> str:
        return f"{item.incident.get_absolute_url()}#c{item.pk}"

    def item_guid(self, item) -> str:
        return f"comment-{item.pk}"

    def item_pubdate(self, item):
        return item.created_at

    def item_author_name(self, item):
        return item.author.username if item.author_id and item.author else None


incidents_feed = IncidentsFeed()
incident_comments_feed = IncidentCommentsFeed()
