"""Serializers of the CA owner records API (issue 14): output with labels, input for create/edit
and representation. Keys (status, kind) are kept for clients; each has its `_label` beside it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import permissions
from registry.models import CAOwner, CAOwnerContact, CAOwnerURL
from registry.serializers import CAOwnerSerializer


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = CAOwnerContact
        fields = ["name", "email", "role"]


class OwnerURLSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = CAOwnerURL
        fields = ["kind", "kind_label", "url"]


class CAOwnerRecordSerializer(CAOwnerSerializer):
    """A CA owner with its record: status label, URLs (public), contacts (staff and the owner's
    representatives; null for everyone else)."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    urls = OwnerURLSerializer(many=True, read_only=True)
    contacts = serializers.SerializerMethodField(help_text="Staff and the owner's representatives only; null otherwise.")

    class Meta(CAOwnerSerializer.Meta):
        fields = CAOwnerSerializer.Meta.fields + ["status_label", "urls", "contacts"]

    @extend_schema_field(ContactSerializer(many=True, allow_null=True))
    def get_contacts(self, obj) -> list[dict] | None:
        request = self.context.get("request")
        if request is None or not permissions.can_view_owner_contacts(request.user, obj):
            return None
        return ContactSerializer(obj.contacts.all(), many=True).data


class ContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    email = serializers.CharField(max_length=254)
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class URLInputSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=20, help_text=", ".join(CAOwnerURL.Kind.values))
    url = serializers.CharField(max_length=1000)


class CAOwnerInputSerializer(serializers.Serializer):
    """Create (name required) or change (PATCH: only what is sent). `contacts` and `urls` replace the
    owner's lists. Values are checked by the action (registry.actions.owners), which names bad fields."""

    name = serializers.CharField(max_length=255)
    ccadb_id = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.CharField(max_length=20, required=False, help_text=", ".join(CAOwner.Status.values))
    contacts = ContactInputSerializer(many=True, required=False)
    urls = URLInputSerializer(many=True, required=False)


class RepresentativeInputSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=254, help_text="User name, e-mail address or id of the account.")


class RepresentativeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()


class RepresentationEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    action_label = serializers.CharField()
    user = serializers.SerializerMethodField()
    summary = serializers.CharField()

    def get_user(self, obj) -> str:
        return str((obj.detail or {}).get("user", ""))


class RepresentativesSerializer(serializers.Serializer):
    representatives = RepresentativeSerializer(many=True)
    history = RepresentationEventSerializer(many=True)


class AmbiguousSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    label = serializers.CharField()
    owners = serializers.ListField(child=serializers.CharField())


class ChainingSummarySerializer(serializers.Serializer):
    examined = serializers.IntegerField()
    attached_count = serializers.IntegerField()
    attached = serializers.DictField(child=serializers.IntegerField(), help_text="Owner name -> intermediates attached.")
    attached_certificates = serializers.ListField(child=serializers.CharField())
    ambiguous = AmbiguousSerializer(many=True)
    unreached = serializers.IntegerField()
    summary = serializers.CharField(source="__str__")
