"""Mounted at /rest/ by config/urls.py; a trailing slash is optional everywhere, as in Bugzilla."""

from django.urls import re_path

from compliance.bugzilla import attachments, views, writes
from compliance.bugzilla.views import by_method

urlpatterns = [
    re_path(r"^version/?$", views.version, name="bugzilla-version"),
    re_path(r"^timezone/?$", views.timezone_view, name="bugzilla-timezone"),
    re_path(r"^extensions/?$", views.extensions, name="bugzilla-extensions"),
    re_path(r"^product/?$", views.product, name="bugzilla-products"),
    re_path(r"^product_(?:accessible|selectable|enterable)/?$", views.product_ids, name="bugzilla-product-ids"),
    re_path(r"^product/(?P<name>[^/]+)/?$", views.product, name="bugzilla-product"),
    re_path(r"^bug/?$", by_method(GET=views.bug_search, POST=writes.bug_create), name="bugzilla-bug-search"),
    re_path(r"^bug/attachment/(?P<attachment_id>[^/]+)/?$",
            by_method(GET=attachments.attachment_get, PUT=attachments.attachment_update), name="bugzilla-attachment"),
    re_path(r"^bug/(?P<bug_id>[^/]+)/comment/?$", by_method(GET=views.bug_comments, POST=writes.comment_add),
            name="bugzilla-bug-comments"),
    re_path(r"^bug/(?P<bug_id>[^/]+)/history/?$", views.bug_history, name="bugzilla-bug-history"),
    re_path(r"^bug/(?P<bug_id>[^/]+)/attachment/?$",
            by_method(GET=attachments.bug_attachments, POST=attachments.attachment_add),
            name="bugzilla-bug-attachments"),
    re_path(r"^bug/(?P<bug_id>[^/]+)/?$", by_method(GET=views.bug_get, PUT=writes.bug_update), name="bugzilla-bug"),
    re_path(r"^field/bug/?$", views.fields, name="bugzilla-fields"),
    re_path(r"^field/bug/(?P<name>[^/]+)/?$", views.fields, name="bugzilla-field"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
