"""Serializers of the root store release API and of the trust edit (staff)."""

from __future__ import annotations

from rest_framework import serializers

from registry.models import Release, ReleaseChange, RootStoreEntry


class ReleaseChangeSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    purpose_label = serializers.CharField(source="get_purpose_display", read_only=True)
    certificate_sha256 = serializers.CharField(source="certificate.sha256", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ReleaseChange
        fields = ["id", "kind", "kind_label", "purpose", "purpose_label", "label", "issuer_key", "serial_hex",
                  "certificate_sha256", "before", "after", "origin", "origin_url"]  # fmt: skip


class ReleaseSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    change_count = serializers.IntegerField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Release
        fields = ["id", "name", "nss_version", "roots_module_version", "kind", "kind_label", "status", "status_label",
                  "released_on", "published_at", "notes", "source", "certdata_sha256", "change_count", "url"]  # fmt: skip


class ReleaseDetailSerializer(ReleaseSerializer):
    changes = ReleaseChangeSerializer(many=True, read_only=True, source="change_list")

    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "changes"]


class ReleasePublishSerializer(serializers.Serializer):
    nss_version = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    roots_module_version = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=Release.Kind.choices)
    released_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


_TRUST = [RootStoreEntry.Trust.TRUSTED_DELEGATOR, RootStoreEntry.Trust.MUST_VERIFY, RootStoreEntry.Trust.NOT_TRUSTED]


class EntryTrustSerializer(serializers.Serializer):
    """A partial update: only the fields given change; a date null clears it."""

    trust_server = serializers.ChoiceField(choices=_TRUST, required=False)
    trust_email = serializers.ChoiceField(choices=_TRUST, required=False)
    server_distrust_after = serializers.DateTimeField(required=False, allow_null=True)
    email_distrust_after = serializers.DateTimeField(required=False, allow_null=True)
