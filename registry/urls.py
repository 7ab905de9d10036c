"""Pages of the CA registry (namespace `registry`)."""

from django.urls import path

from registry import views, views_owners, views_releases

app_name = "registry"

urlpatterns = [
    path("cas/", views.ca_list, name="ca_list"),
    path("cas/<int:pk>/", views.ca_detail, name="ca_detail"),
    path("cas/new/", views_owners.ca_create, name="ca_create"),
    path("cas/<int:pk>/edit/", views_owners.ca_edit, name="ca_edit"),
    path("cas/<int:pk>/representatives/", views_owners.ca_representative_grant, name="ca_representative_grant"),
    path(
        "cas/<int:pk>/representatives/<int:user_id>/revoke/",
        views_owners.ca_representative_revoke,
        name="ca_representative_revoke",
    ),
    path("cas/attach-by-chaining/", views_owners.attach_by_chaining, name="attach_by_chaining"),
    path("certificates/", views.certificate_search, name="certificate_search"),
    path("certificates/upload/", views.certificate_upload, name="certificate_upload"),
    path("certificates/<str:sha256>/", views.certificate_detail, name="certificate_detail"),
    path("certificates/<str:sha256>/pem/", views.certificate_pem, name="certificate_pem"),
    path("certificates/<str:sha256>/certdata.txt", views.certificate_certdata, name="certificate_certdata"),
    path("root-store/", views.root_store, name="root_store"),
    path("root-store/certdata.txt", views.root_store_certdata, name="root_store_certdata"),
    path("root-store/entries/<int:pk>/edit/", views_releases.entry_edit, name="entry_edit"),
    path("root-store/releases/", views_releases.release_list, name="release_list"),
    path("root-store/releases/compare/", views_releases.release_compare, name="release_compare"),
    path("root-store/releases/<int:pk>/", views_releases.release_detail, name="release_detail"),
    path("root-store/releases/<int:pk>/publish/", views_releases.release_publish_view, name="release_publish"),
    path("root-store/releases/<int:pk>/certdata.txt", views_releases.release_certdata, name="release_certdata"),
]
