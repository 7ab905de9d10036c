"""REST input/output shapes for audits. Validation of meaning is audits.actions' job."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from audits.domain.criteria import CRITERIA
from audits.models import Auditor, AuditorQualification, AuditStatement, StatementFinding


class CriterionSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=sorted(CRITERIA), help_text="A criterion key, e.g. webtrust-tls-br.")
    version = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    policies = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list,
                                     help_text="ETSI policies, e.g. DVCP, OVCP, EVCP, QCP-w.")


class CriterionOutSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.SerializerMethodField()
    family = serializers.CharField()
    version = serializers.CharField()
    policies = serializers.SerializerMethodField()

    def get_label(self, obj) -> str:
        return CRITERIA[obj.key].label if obj.key in CRITERIA else obj.key

    def get_policies(self, obj) -> list[str]:
        return [p for p in obj.policies.split(",") if p]


class FindingInSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=StatementFinding.Severity.choices)
    text = serializers.CharField()


class FindingOutSerializer(serializers.Serializer):
    severity = serializers.CharField()
    text = serializers.CharField()
    incident = serializers.SerializerMethodField(help_text="Number of the compliance incident it caused, if any.")

    def get_incident(self, obj) -> int | None:
        return obj.incident.number if obj.incident_id else None


class StatementSerializer(serializers.ModelSerializer):
    ca_owner_name = serializers.CharField(source="ca_owner.name")
    auditor_name = serializers.CharField(source="auditor.name", default=None, allow_null=True)
    # Plain strings: an empty value is not a valid "uri" in the schema.
    url = serializers.CharField(help_text="The statement's URL, or empty.")
    criteria = CriterionOutSerializer(many=True)
    fingerprint_count = serializers.IntegerField()
    finding_count = serializers.IntegerField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = AuditStatement
        fields = [
            "id", "ca_owner", "ca_owner_name", "auditor", "auditor_name", "source", "kind", "period_start",
            "period_end", "statement_date", "url", "file_url", "verification", "is_public", "criteria",
            "fingerprint_count", "finding_count", "verification_requests_sent", "verification_last_sent_at",
            "unverified_since", "created_at",
        ]

    def get_file_url(self, obj) -> str | None:
        return reverse("audits:statement_file", args=[obj.pk]) if obj.file else None


class StatementDetailSerializer(StatementSerializer):
    fingerprints = serializers.SerializerMethodField()
    findings = FindingOutSerializer(many=True)

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "fingerprints", "findings"]

    def get_fingerprints(self, obj) -> list[dict]:
        return [{"sha256": f.sha256, "in_registry": f.certificate_id is not None} for f in obj.fingerprints.all()]


class StatementInputSerializer(serializers.Serializer):
    ca_owner = serializers.IntegerField()
    auditor = serializers.IntegerField(required=False, allow_null=True, default=None)
    auditor_name = serializers.CharField(required=False, allow_blank=True, default="",
                                         help_text="An auditor not listed yet: created pending.")
    source = serializers.ChoiceField(choices=AuditStatement.Source.choices, default=AuditStatement.Source.CA)
    kind = serializers.ChoiceField(choices=AuditStatement.Kind.choices, default=AuditStatement.Kind.PERIOD)
    period_start = serializers.DateField()
    period_end = serializers.DateField(required=False, allow_null=True, default=None)
    statement_date = serializers.DateField()
    url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False, allow_null=True, default=None, help_text="The statement PDF.")
    criteria = CriterionSerializer(many=True)
    fingerprints = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list,
                                         help_text="SHA-256 fingerprints in scope: 64 hex digits each.")
    findings = FindingInSerializer(many=True, required=False, default=list)


class QualificationSerializer(serializers.ModelSerializer):
    evidence_url = serializers.CharField(help_text="URL of the scheme's list, or empty.")

    class Meta:
        model = AuditorQualification
        fields = ["id", "scheme", "accrediting_body", "evidence_url", "method", "representative", "verified_by_name",
                  "verified_on", "next_due"]


class AuditorSerializer(serializers.ModelSerializer):
    qualifications = QualificationSerializer(many=True, read_only=True)
    website = serializers.CharField(help_text="URL, or empty.")
    contact_name = serializers.CharField(required=False, help_text="Staff only.")
    contact_email = serializers.CharField(required=False, help_text="Staff only: where verification links go.")

    class Meta:
        model = Auditor
        fields = ["id", "name", "location", "website", "approval", "contact_name", "contact_email", "qualifications"]
        read_only_fields = ["approval"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_contacts"):
            data.pop("contact_name", None)
            data.pop("contact_email", None)
        return data


class AuditorInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    location = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    website = serializers.URLField(required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")


class AuditFindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    family = serializers.CharField(allow_null=True)
    statements = serializers.ListField(child=serializers.IntegerField(), source="statement_pks")
    certificate = serializers.CharField(allow_null=True)
    action = serializers.CharField(help_text="The seed's immediate minimum response, when one applies.")
    consider = serializers.CharField()
    incidents = serializers.SerializerMethodField()

    def get_incidents(self, obj) -> list[int]:
        return [i.number for i in obj.incidents]


class CAAuditFindingsSerializer(serializers.Serializer):
    ca_owner = serializers.IntegerField()
    as_of = serializers.DateField()
    findings = AuditFindingSerializer(many=True)
