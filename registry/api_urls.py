from django.urls import path

from registry import api, api_owners, api_releases

urlpatterns = [
    path("cas/", api_owners.CAOwnerListCreate.as_view(), name="api-ca-list"),
    path("cas/attach-by-chaining/", api_owners.AttachByChaining.as_view(), name="api-ca-attach-by-chaining"),
    path("cas/<int:pk>/", api_owners.CAOwnerDetailUpdate.as_view(), name="api-ca-detail"),
    path("cas/<int:pk>/representatives/", api_owners.CARepresentatives.as_view(), name="api-ca-representatives"),
    path(
        "cas/<int:pk>/representatives/<int:user_id>/",
        api_owners.CARepresentativeRevoke.as_view(),
        name="api-ca-representative-revoke",
    ),
    path("certificates/", api.CertificateList.as_view(), name="api-certificate-list"),
    path("certificates/<str:sha256>/", api.CertificateDetail.as_view(), name="api-certificate-detail"),
    path("certificates/<str:sha256>/paths/", api.CertificatePaths.as_view(), name="api-certificate-paths"),
    path("certificates/<str:sha256>/certdata", api.CertificateCertdata.as_view(), name="api-certificate-certdata"),
    path("root-store/certdata", api.RootStoreCertdata.as_view(), name="api-root-store-certdata"),
    path("root-store/entries/<int:pk>/", api_releases.EntryTrust.as_view(), name="api-root-store-entry"),
    path("root-store/releases/", api_releases.ReleaseList.as_view(), name="api-release-list"),
    path("root-store/releases/<int:pk>/", api_releases.ReleaseDetail.as_view(), name="api-release-detail"),
    path("root-store/releases/<int:pk>/certdata", api_releases.ReleaseCertdata.as_view(), name="api-release-certdata"),
    path("root-store/releases/<int:pk>/publish/", api_releases.ReleasePublish.as_view(), name="api-release-publish"),
]
