from django.urls import path

from registry import api, api_releases

urlpatterns = [
    path("cas/", api.CAOwnerList.as_view(), name="api-ca-list"),
    path("cas/<int:pk>/", api.CAOwnerDetail.as_view(), name="api-ca-detail"),
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
