"""{% saved_searches_nav %}: the navigation's menu of the signed-in user's saved searches (one query,
only for signed-in users; only their own, accounts.permissions.saved_search_visibility_q)."""

from __future__ import annotations

from django import template

from accounts import permissions as perm

register = template.Library()


@register.inclusion_tag("compliance/lists/_saved_searches_nav.html", takes_context=True)
def saved_searches_nav(context):
    from compliance.models import SavedSearch

    request = context.get("request")
    user = getattr(request, "user", None)
    if not perm.can_save_search(user):
        return {"show": False}
    searches = list(SavedSearch.objects.filter(perm.saved_search_visibility_q(user)).only("pk", "name", "query")[:20])
    return {"show": True, "searches": searches}
