"""Output serializers of the registry API (read-only: writes go through compliance.actions.registry)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import CAOwner, Certificate, RootStoreEntry


class OwnerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CAOwner
        fields = ["id", "name"]


class CAOwnerSerializer(serializers.ModelSerializer):
    root_count = serializers.IntegerField(read_only=True)
    intermediate_count = serializers.IntegerField(read_only=True)
    trusted_count = serializers.IntegerField(read_only=True, help_text="Roots trusted for websites or e-mail.")
    url = serializers.SerializerMethodField()

    class Meta:
        model = CAOwner
        fields = ["id", "name", "ccadb_id", "country", "status", "root_count", "intermediate_count", "trusted_count", "url"]

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()


class RootStoreEntrySerializer(serializers.ModelSerializer):
    serial_hex = serializers.CharField(help_text="Serial number content octets, uppercase hex.")

    class Meta:
        model = RootStoreEntry
        fields = [
            "id", "label", "trust_server", "trust_email", "trust_code", "trust_step_up",
            "server_distrust_after", "email_distrust_after", "serial_hex",
        ]  # fmt: skip


class CertificateSerializer(serializers.ModelSerializer):
    # A certificate imported before any CA owner claims it has none: null, and the schema says so.
    owner = OwnerRefSerializer(read_only=True, allow_null=True)
    trusted_for = serializers.SerializerMethodField(help_text="Purposes a root store entry trusts it for as an anchor.")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "sha256", "sha1", "spki_sha256", "cross_sign_key", "label", "kind", "owner",
            "subject_text", "issuer_text", "serial_hex", "not_before", "not_after",
            "key_type", "key_size", "is_ca", "path_length", "ski", "aki", "trusted_for", "url",
        ]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=["server", "email"])))
    def get_trusted_for(self, obj) -> list[str]:
        out = []
        for entry in obj.root_store_entries.all():  # prefetched
            if entry.trust_server == RootStoreEntry.Trust.TRUSTED_DELEGATOR and "server" not in out:
                out.append("server")
            if entry.trust_email == RootStoreEntry.Trust.TRUSTED_DELEGATOR and "email" not in out:
                out.append("email")
        return out

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()


class CertificateRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certificate
        fields = ["sha256", "label", "kind", "subject_text", "not_before", "not_after"]


class CertificateDetailSerializer(CertificateSerializer):
    pem = serializers.CharField(read_only=True)
    subject_der = serializers.SerializerMethodField(help_text="Base64 of the DER subject Name.")
    issuer_der = serializers.SerializerMethodField(help_text="Base64 of the DER issuer Name.")
    serial_der = serializers.SerializerMethodField(help_text="Base64 of the whole DER INTEGER (as NSS stores it).")
    root_store_entries = RootStoreEntrySerializer(many=True, read_only=True)
    parents = CertificateRefSerializer(many=True, read_only=True, source="parents_list")
    cross_signs = CertificateRefSerializer(many=True, read_only=True, source="cross_signs_list")
    children_count = serializers.IntegerField(read_only=True)

    class Meta(CertificateSerializer.Meta):
        fields = CertificateSerializer.Meta.fields + [
            "md5", "subject_der", "issuer_der", "serial_der", "pem", "source",
            "root_store_entries", "parents", "cross_signs", "children_count",
        ]  # fmt: skip

    def _b64(self, value) -> str:
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")

    def get_subject_der(self, obj) -> str:
        return self._b64(obj.subject_der)

    def get_issuer_der(self, obj) -> str:
        return self._b64(obj.issuer_der)

    def get_serial_der(self, obj) -> str:
        return self._b64(obj.serial_der)


class PathVerdictSerializer(serializers.Serializer):
    trusted = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class PathSerializer(serializers.Serializer):
    certificates = CertificateRefSerializer(many=True)
    anchor = serializers.CharField(help_text="SHA-256 of the root store anchor the path ends at.")
    anchor_label = serializers.CharField()
    server = PathVerdictSerializer(help_text="Verdict for TLS server authentication.")
    email = PathVerdictSerializer(help_text="Verdict for S/MIME.")


class PathsSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    count = serializers.IntegerField()
    paths = PathSerializer(many=True)
