"""Input and output serializers of the distrust REST API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import permissions as perm
from distrust import workflow
from distrust.models import (
    Artifact,
    ClosureItem,
    DistrustAction,
    DistrustStep,
    DistrustTarget,
    TestCertificate,
    TestRun,
    UsageFigure,
)
from history import selectors as history
from history.models import Event

MAX_NUMBER = 2**31 - 1  # Incident.number is a PositiveIntegerField


# --- output ---------------------------------------------------------------------------------


def _reader(context: dict):
    """Who reads the serialized data (AnonymousUser without a request: nothing confidential)."""
    from django.contrib.auth.models import AnonymousUser

    request = context.get("request")
    return request.user if request is not None else AnonymousUser()


class StepStateSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()

    class Meta:
        model = DistrustStep
        fields = ["step", "position", "title", "status", "completed_at", "reopen_count"]

    def get_title(self, obj) -> str:
        return workflow.step(obj.step).title


class ActionListSerializer(serializers.ModelSerializer):
    purposes = serializers.ListField(child=serializers.CharField(), read_only=True)
    steps = StepStateSerializer(many=True, read_only=True)
    incidents = serializers.SerializerMethodField()
    target_count = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = DistrustAction
        fields = ["id", "title", "public_title", "kind", "state", "is_embargoed", "purposes", "distrust_after",
                  "steps", "target_count", "incidents", "url", "created_at", "updated_at"]

    def to_representation(self, obj):
        data = super().to_representation(obj)
        # Text copied from a confidential source reaches only staff; everyone else reads the wording staff
        # chose to publish (DistrustAction.published_title) and nothing of the other copied fields.
        data["public_title"] = obj.published_title
        request = self.context.get("request")
        if not perm.can_manage_distrust(request.user if request is not None else None):
            data["title"] = obj.published_title
            for name in obj.confidential_fields or ():
                if name != "title" and name in data:
                    data[name] = ""
        return data

    def get_incidents(self, obj) -> list[int]:
        # Only the incidents the reader may open: one may be security-sensitive.
        user = _reader(self.context)
        return [i.number for i in obj.incidents.all() if perm.can_view_incident(user, i)]

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()


class TargetSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="certificate.sha256", default=None, read_only=True)

    class Meta:
        model = DistrustTarget
        fields = ["id", "label", "cert_kind", "serial_hex", "sha256"]


class UsageFigureSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageFigure
        fields = ["id", "root", "metric", "value", "period", "source"]


class ClosureItemSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="certificate.sha256", read_only=True)
    label = serializers.CharField(source="certificate.__str__", read_only=True)

    class Meta:
        model = ClosureItem
        fields = ["id", "sha256", "label", "decision", "reason", "decided_at"]


class ArtifactSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = ["kind", "config_digest", "generated_at", "url"]

    def get_url(self, obj) -> str:
        name = "onecrl.json" if obj.kind == Artifact.Kind.ONECRL else "certdata.diff"
        return f"/api/v1/distrust/{obj.action_id}/{name}"


class TestCertificateSerializer(serializers.ModelSerializer):
    __test__ = False

    class Meta:
        model = TestCertificate
        fields = ["id", "sha256", "label", "cert_kind", "not_before"]


class TestRunSerializer(serializers.ModelSerializer):
    __test__ = False

    class Meta:
        model = TestRun
        fields = ["id", "passed", "summary", "results", "ran_at", "config_digest"]


class EventSerializer(serializers.ModelSerializer):
    """A history row in the distrust API's own names: the step is the row's field, the reason its summary."""

    kind = serializers.CharField(source="action")
    step = serializers.CharField(source="field")
    old_state = serializers.CharField(source="old")
    new_state = serializers.CharField(source="new")
    reason = serializers.CharField(source="summary")
    created_at = serializers.DateTimeField(source="at")

    class Meta:
        model = Event
        fields = ["kind", "step", "old_state", "new_state", "actor_name", "reason", "detail", "created_at"]


class ActionDetailSerializer(ActionListSerializer):
    targets = TargetSerializer(many=True, read_only=True)
    usage_figures = UsageFigureSerializer(many=True, read_only=True)
    closure_items = ClosureItemSerializer(many=True, read_only=True)
    artifacts = ArtifactSerializer(many=True, read_only=True)
    test_certificates = TestCertificateSerializer(many=True, read_only=True)
    test_runs = TestRunSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField()
    missing = serializers.SerializerMethodField(help_text="What the open step still needs (staff only).")
    target_count = serializers.SerializerMethodField()
    # Empty until given, so not declared as URIs.
    discussion_url = serializers.CharField(read_only=True)
    blog_url = serializers.CharField(read_only=True)

    class Meta(ActionListSerializer.Meta):
        fields = ActionListSerializer.Meta.fields + [
            "bug", "reported_by", "reported_on", "decision", "rationale", "discussed_in", "discussion_url",
            "decided_on", "impact_notes", "chain_count", "chain_intermediates", "chain_leaves",
            "include_certificate_objects", "nss_version", "roots_module_version", "release_kind", "release_date",
            "onecrl_published_on", "announcement", "is_security_incident", "cve_id", "all_cas_mailed", "blog_url",
            "user_visible_result", "closed_at", "targets", "usage_figures", "closure_items", "artifacts",
            "test_certificates", "test_runs", "events", "missing",
        ]

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, obj) -> list[dict]:
        include = perm.can_view_staff_only_history(_reader(self.context))
        return EventSerializer(history.for_subject(obj, include_staff_only=include), many=True).data

    def get_target_count(self, obj) -> int:
        return obj.targets.count()

    def get_missing(self, obj) -> list[str]:
        if not self.context.get("can_manage") or obj.state == DistrustAction.State.CLOSED:
            return []
        return workflow.missing(obj, obj.state)


# --- input ----------------------------------------------------------------------------------


class ActionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    public_title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                         help_text="The title published once the action is public.")
    incident_numbers = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_NUMBER), required=False, default=list)
    kind = serializers.ChoiceField(choices=DistrustAction.Kind.choices, default=DistrustAction.Kind.FULL)
    purpose_server = serializers.BooleanField(default=True)
    purpose_email = serializers.BooleanField(default=False)
    distrust_after = serializers.DateTimeField(required=False, allow_null=True, default=None)
    bug = serializers.CharField(required=False, allow_blank=True, default="")
    reported_by = serializers.CharField(required=False, allow_blank=True, default="")
    reported_on = serializers.DateField(required=False, allow_null=True, default=None)
    decision = serializers.CharField(required=False, allow_blank=True, default="")
    is_embargoed = serializers.BooleanField(default=False)
    is_security_incident = serializers.BooleanField(default=False)


class StepSaveSerializer(serializers.ModelSerializer):
    """A step's fields (send only the ones of that step) and whether to complete it."""

    incident_numbers = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_NUMBER), required=False,
                                             help_text="report: the incidents' bug numbers.")
    complete = serializers.BooleanField(required=False, default=False, help_text="Complete the step after saving.")

    class Meta:
        model = DistrustAction
        fields = ["reported_by", "reported_on", "incident_numbers", "decision", "rationale", "discussed_in",
                  "discussion_url", "decided_on", "kind", "purpose_server", "purpose_email", "distrust_after", "bug",
                  "impact_notes", "include_certificate_objects", "nss_version", "roots_module_version",
                  "release_kind", "release_date", "onecrl_published_on", "public_title", "public_wording_confirmed",
                  "announcement", "is_security_incident", "cve_id", "all_cas_mailed", "blog_url",
                  "user_visible_result", "complete"]
        extra_kwargs = {name: {"required": False} for name in fields}


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField()


class TargetInputSerializer(serializers.Serializer):
    sha256 = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="A registry certificate; or give issuer and serial.")
    issuer = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="Base64 (as OneCRL) or hex of the issuer's DER Name.")
    serial = serializers.CharField(required=False, allow_blank=True, default="", help_text="Hexadecimal.")
    label = serializers.CharField(required=False, allow_blank=True, default="")


class UsageRowSerializer(serializers.Serializer):
    root = serializers.CharField()
    metric = serializers.CharField()
    value = serializers.DecimalField(max_digits=20, decimal_places=6)
    period = serializers.CharField(required=False, allow_blank=True, default="")


class UsageInputSerializer(serializers.Serializer):
    figures = UsageRowSerializer(many=True, required=False)
    csv = serializers.CharField(required=False, help_text="CSV with columns root, metric, value, period.")


class ClosureDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ClosureItem.Decision.ADDED, ClosureItem.Decision.WAIVED])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TestCertificateInputSerializer(serializers.Serializer):
    __test__ = False

    sha256 = serializers.CharField(required=False, allow_blank=True, default="")
    pem = serializers.CharField(required=False, allow_blank=True, default="",
                                help_text="A certificate not in the registry, PEM.")


class BulkTargetsInputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=[("pem", "PEM bundle"), ("csv", "CSV"), ("incident", "Incident report"),
                                              ("owner", "CA owner")],
                                     help_text="pem, csv (text); incident (number); owner (CA owner id).")
    text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False,
                                 help_text="The PEM bundle or the CSV.")
    incident = serializers.IntegerField(required=False, allow_null=True, default=None)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    confirm = serializers.BooleanField(required=False, default=False,
                                       help_text="false: preview only (nothing changes); true: add every matched "
                                                 "certificate in one transaction.")
    digest = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="The preview's digest: confirming is refused (400) when what the input "
                                             "matches changed since that preview.")


class BulkRowSerializer(serializers.Serializer):
    where = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(source="cert_kind")
    kind_label = serializers.CharField()
    serial = serializers.CharField(source="serial_hex")
    sha256 = serializers.CharField()
    in_registry = serializers.SerializerMethodField()
    reason = serializers.CharField()

    def get_in_registry(self, row) -> bool:
        return row.certificate is not None


class BulkPreviewSerializer(serializers.Serializer):
    source = serializers.CharField()
    source_label = serializers.CharField()
    added = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    digest = serializers.CharField()
    to_add = BulkRowSerializer(many=True)
    duplicates = BulkRowSerializer(many=True)
    unmatched = BulkRowSerializer(many=True)

    def get_added(self, preview) -> bool:
        return bool(self.context.get("added"))

    def get_counts(self, preview) -> dict:
        return {"read": preview.read, "to_add": len(preview.to_add), "in_registry": preview.in_registry,
                "issuer_serial_only": preview.issuer_serial_only, "duplicates": len(preview.duplicates),
                "unmatched": len(preview.unmatched)}
