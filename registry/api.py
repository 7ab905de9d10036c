"""REST API of the CA registry: owners, certificates, paths, certdata blocks. Read-only and public
(accounts.permissions.can_view_registry); thin views over registry.selectors."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from config.api import query_choice
from config.errors import DomainError
from pki.x509 import CertificateError, fingerprint_normalize
from registry import selectors
from registry.models import Certificate
from registry.serializers import (
    CAOwnerSerializer,
    CertificateDetailSerializer,
    CertificateSerializer,
    PathsSerializer,
)


class CanViewRegistry(BasePermission):
    def has_permission(self, request, view):
        return permissions.can_view_registry(request.user)


def _certificate(sha256: str) -> Certificate:
    cert = selectors.certificate_by_fingerprint(sha256)
    if cert is None:
        raise NotFound(f"No certificate with SHA-256 {sha256} in the registry.")
    return cert


class CAOwnerList(generics.ListAPIView):
    """CA owners with their root, intermediate and trusted-root counts."""

    serializer_class = CAOwnerSerializer
    permission_classes = [CanViewRegistry]
    ordering_fields = ["name", "country"]

    def get_queryset(self):
        return selectors.ca_owner_list()


class CAOwnerDetail(generics.RetrieveAPIView):
    serializer_class = CAOwnerSerializer
    permission_classes = [CanViewRegistry]

    def get_queryset(self):
        return selectors.ca_owner_list()


_LIST_PARAMETERS = [
    OpenApiParameter("sha256", str, description="SHA-256 fingerprint (colons and any case accepted)."),
    OpenApiParameter("owner", str, description="CA owner id, or its exact name."),
    OpenApiParameter("kind", str, enum=["root", "intermediate", "leaf"]),
    OpenApiParameter("issuer_sha256", str, description="Only certificates this issuer's signature verifies on."),
    OpenApiParameter("trusted_for", str, enum=["server", "email"], description="Only root store anchors trusted for this purpose."),
    OpenApiParameter("q", str, description="Search by name, fingerprint or serial number, as the search page does."),
]


class CertificateList(generics.ListAPIView):
    """Certificates of the registry, filtered; a fixed number of queries whatever the page size."""

    serializer_class = CertificateSerializer
    permission_classes = [CanViewRegistry]
    ordering_fields = ["label", "not_before", "not_after", "sha256"]

    @extend_schema(parameters=_LIST_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        kind = query_choice(self.request, "kind", Certificate.Kind.values) or ""
        trusted_for = query_choice(self.request, "trusted_for", ["server", "email"]) or ""
        for name in ("sha256", "issuer_sha256"):
            if params.get(name):
                try:
                    fingerprint_normalize(params[name])
                except CertificateError:
                    raise DomainError(
                        f"'{name}' must be a SHA-256 fingerprint (64 hex digits, colons allowed), not {params[name]!r}.",
                        errors={name: ["64 hex digits."]},
                    ) from None
        if params.get("q"):
            qs = selectors.search_certificates(params["q"])
            if kind:
                qs = qs.filter(kind=kind)
        else:
            qs = selectors.certificate_list(
                sha256=params.get("sha256", ""),
                owner=params.get("owner", ""),
                kind=kind,
                issuer_sha256=params.get("issuer_sha256", ""),
                trusted_for=trusted_for,
            )
        return qs.prefetch_related("root_store_entries").defer("der", "subject_der", "issuer_der", "spki_der", "serial_der")


class CertificateDetail(APIView):
    """Every field of one certificate, its PEM, root store entries, issuers and cross-signs."""

    permission_classes = [CanViewRegistry]

    @extend_schema(responses=CertificateDetailSerializer)
    def get(self, request, sha256: str):
        cert = _certificate(sha256)
        cert.parents_list = list(selectors.parents_of(cert))
        cert.cross_signs_list = list(selectors.cross_signs(cert))
        cert.children_count = selectors.children_of(cert).count()
        return Response(CertificateDetailSerializer(cert, context={"request": request}).data)


class CertificatePaths(APIView):
    """All paths from the certificate up to root store anchors, through every cross-sign, with verdicts."""

    permission_classes = [CanViewRegistry]

    @extend_schema(responses=PathsSerializer)
    def get(self, request, sha256: str):
        cert = _certificate(sha256)
        details = selectors.path_details(cert)

        def verdict(result):
            if result is None:
                return {"trusted": False, "reasons": []}
            return {"trusted": result.trusted, "reasons": [r.message for r in result.reasons]}

        data = {
            "sha256": cert.sha256,
            "count": len(details),
            "paths": [
                {
                    "certificates": p.certificates,
                    "anchor": p.certificates[-1].sha256,
                    "anchor_label": p.anchor_entry.label,
                    "server": verdict(p.verdicts["server"]),
                    "email": verdict(p.verdicts["email"]),
                }
                for p in details
            ],
        }
        return Response(PathsSerializer(data).data)


class CertificateCertdata(APIView):
    """The certificate object and trust object NSS would add for this certificate (text/plain).

    For a certificate in the root store, with its entry's label, trust bits and distrust-after
    dates; otherwise as a new root trusted for websites.
    """

    permission_classes = [CanViewRegistry]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request, sha256: str):
        cert = _certificate(sha256)
        text = selectors.certificate_block_text(cert, entry=cert.root_store_entries.first())
        return HttpResponse(text, content_type="text/plain; charset=utf-8")


class RootStoreCertdata(APIView):
    """The whole root store as certdata.txt (text/plain): imported blocks byte for byte."""

    permission_classes = [CanViewRegistry]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request):
        return HttpResponse(selectors.export_certdata_text(), content_type="text/plain; charset=utf-8")
