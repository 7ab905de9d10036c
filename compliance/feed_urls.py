"""Atom feeds and CSV exports (included from config/urls.py ahead of the incident pages)."""

from django.urls import path

from compliance import exports, feeds

urlpatterns = [
    path("feeds/incidents.atom", feeds.incidents_feed, name="feed-incidents"),
    path("feeds/cas/<int:pk>/incidents.atom", feeds.incidents_feed, name="feed-ca-incidents"),
    path("feeds/tags/<slug:tag>.atom", feeds.incidents_feed, name="feed-tag-incidents"),
    path("feeds/incidents/<int:number>/comments.atom", feeds.incident_comments_feed, name="feed-incident-comments"),
    path("incidents/export.csv", exports.incidents_csv, name="incidents-export-csv"),
]
