"""Serializers of the incident API: outputs describe rows; inputs only parse (the actions validate)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance import selectors as sel
from compliance.domain import reports
from compliance.models import Comment, Incident, Question, ReportVersion


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    due_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=["met", "met_late", "due", "due_soon", "overdue"])
    text = serializers.CharField(help_text='E.g. "due in 2 days 3 hours", "overdue by 5 hours", "met".')
    met_at = serializers.DateTimeField(allow_null=True, required=False)
    subject = serializers.CharField(allow_null=True, required=False, help_text="The question id, for question deadlines.")


class IncidentOwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class IncidentSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="number", read_only=True, help_text="The bug number (Bugzilla's for imported bugs).")
    ca_owner = IncidentOwnerSerializer(allow_null=True)
    tags = serializers.SerializerMethodField()
    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    open_question_count = serializers.IntegerField(read_only=True)
    comment_count = serializers.IntegerField(read_only=True, help_text="Comments you may see.")
    next_deadline = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    severity = serializers.CharField(read_only=True, help_text="S1..S4 (Bugzilla's scale), empty until staff set it.")
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    bugzilla_url = serializers.URLField(read_only=True, allow_null=True,
                                        help_text="The bug on bugzilla.mozilla.org, for imported incidents; null otherwise.")

    class Meta:
        model = Incident
        fields = [
            "id", "number", "title", "ca_owner", "status", "resolution", "security_sensitive", "whiteboard", "tags",
            "next_update", "source", "reporter", "assignee", "became_aware_at", "first_disclosed_at", "created_at",
            "updated_at", "next_deadline", "open_question_count", "comment_count", "url", "bugzilla_url",
            "severity", "severity_label",
        ]

    def get_tags(self, obj) -> list[str]:
        return [t.tag for t in obj.tags.all()]

    @extend_schema_field(DeadlineSerializer(allow_null=True))
    def get_next_deadline(self, obj):
        return sel.list_deadline(obj, self.context["now"])


class IncidentCreateInput(serializers.Serializer):
    ca_owner = serializers.CharField(help_text="The CA owner's id or exact name.")
    title = serializers.CharField(max_length=400, help_text="Without the owner prefix: it is added.")
    description = serializers.CharField()
    security_sensitive = serializers.BooleanField(default=False)
    source = serializers.ChoiceField(choices=Incident.Source.values, default=Incident.Source.SELF_REPORTED)
    whiteboard = serializers.CharField(required=False, allow_blank=True, default="")
    became_aware_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class IncidentUpdateInput(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=400)
    status = serializers.ChoiceField(choices=Incident.Status.values, required=False)
    resolution = serializers.ChoiceField(choices=Incident.Resolution.values, required=False, allow_blank=True)
    whiteboard = serializers.CharField(required=False, allow_blank=True)
    next_update = serializers.DateField(required=False, allow_null=True)
    assignee = serializers.CharField(required=False, allow_null=True, help_text="Username, or null.")
    security_sensitive = serializers.BooleanField(required=False)
    source = serializers.ChoiceField(choices=Incident.Source.values, required=False)
    became_aware_at = serializers.DateTimeField(required=False, allow_null=True)
    severity = serializers.ChoiceField(
        choices=Incident.Severity.values, required=False, allow_blank=True,
        help_text="S1 (critical) .. S4 (low), Bugzilla's scale; empty clears it. Staff only, like every field here.")
    dupe_of = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1,
        help_text="The bug this one duplicates (Bugzilla's dupe_of). Alone, it resolves the incident as "
                  "RESOLVED DUPLICATE; RESOLVED with DUPLICATE needs it unless the incident already names one; "
                  "null removes it. A bug that duplicates itself or closes a loop of duplicates is refused.")


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    question_id = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "kind", "author", "body", "body_html", "is_private", "created_at", "question_id"]

    def get_question_id(self, obj) -> int | None:
        question = getattr(obj, "question", None) if obj.kind == Comment.Kind.QUESTION else None
        return question.pk if question else None


class CommentInput(serializers.Serializer):
    body = serializers.CharField()
    kind = serializers.ChoiceField(choices=[Comment.Kind.COMMENT, Comment.Kind.UPDATE], default=Comment.Kind.COMMENT)
    is_private = serializers.BooleanField(default=False)


class QuestionSerializer(serializers.ModelSerializer):
    asked_user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    asks = serializers.SerializerMethodField()
    is_open = serializers.BooleanField(read_only=True)
    body = serializers.CharField(source="comment.body", read_only=True)
    asked_by = serializers.CharField(source="comment.author.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Question
        fields = ["id", "asks", "asked_user", "asked_by", "body", "asked_at", "answered_at", "promised_date",
                  "closed_at", "is_open", "answered_by"]

    def get_asks(self, obj) -> str:
        return "person" if obj.asked_user_id else "ca"


class QuestionInput(serializers.Serializer):
    body = serializers.CharField()
    asked_user = serializers.CharField(required=False, allow_null=True, default=None,
                                       help_text="Username to ask; omit to ask the CA.")


class AnswerInput(serializers.Serializer):
    body = serializers.CharField()
    promised_date = serializers.DateField(required=False, allow_null=True, default=None,
                                          help_text="For an acknowledgement: when the full answer will come.")


class ReportVersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ReportVersion
        fields = ["id", "kind", "version", "data", "markdown", "changes", "author", "created_at", "comment"]


class ReportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[k.value for k in reports.ReportKind])
    data = serializers.DictField(help_text="Field key -> value, as in the IRG template; tables as lists of rows.")
    preview = serializers.BooleanField(default=False, help_text="Only validate and return the Markdown.")
    base_version = serializers.IntegerField(
        required=False, min_value=0, max_value=10**9,
        help_text="The latest version of this kind you started from (0: none). If a newer one exists, nothing is "
                  "posted: 409 with `version` and the `changes` it made. Without it, the report is not checked.")


class ReportPreviewSerializer(serializers.Serializer):
    kind = serializers.CharField()
    markdown = serializers.CharField()


class QuestionBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    asked_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    asks = serializers.CharField()
    promised_date = serializers.DateField(allow_null=True)


class IncidentStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    resolution = serializers.CharField()
    next_update = serializers.DateField(allow_null=True)
    updated_at = serializers.DateTimeField()
    deadlines = DeadlineSerializer(many=True)
    open_questions = QuestionBriefSerializer(many=True)
