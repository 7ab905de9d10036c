"""Compliance incidents ("bugs"), their comments and questions.

Owned by the incidents feature (issue 4). Other apps rely on: Incident.number, .ca_owner,
.security_sensitive, .title; Comment.incident, .is_private; Question.incident, .asked_user.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

__all__ = ["Incident", "Comment", "Question"]


class Incident(models.Model):
    class Status(models.TextChoices):
        UNCONFIRMED = "UNCONFIRMED", "Unconfirmed"
        NEW = "NEW", "New"
        ASSIGNED = "ASSIGNED", "Assigned"
        REOPENED = "REOPENED", "Reopened"
        RESOLVED = "RESOLVED", "Resolved"

    class Resolution(models.TextChoices):
        NONE = "", "—"
        FIXED = "FIXED", "Fixed"
        INVALID = "INVALID", "Invalid"
        WONTFIX = "WONTFIX", "Won't fix"
        DUPLICATE = "DUPLICATE", "Duplicate"
        WORKSFORME = "WORKSFORME", "Works for me"

    # The Bugzilla bug number for imported incidents; new incidents are numbered above the highest.
    number = models.PositiveIntegerField(unique=True)
    ca_owner = models.ForeignKey(
        "compliance.CAOwner", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    title = models.CharField(max_length=400)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, default="", blank=True)
    security_sensitive = models.BooleanField(default=False)
    whiteboard = models.TextField(blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_incidents"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Bug {self.number}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:incident_detail", args=[self.number])

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED


class Comment(models.Model):
    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        PRELIMINARY_REPORT = "preliminary_report", "Preliminary report"
        FULL_REPORT = "full_report", "Full report"
        CLOSURE_REPORT = "closure_report", "Closure report"
        UPDATE = "update", "Update"
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField()
    is_private = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on bug {self.incident_id}"


class Question(models.Model):
    """A needinfo: a comment that asks the CA (asked_user None) or a named person for information."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="questions")
    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="question")
    asked_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions_asked_of"
    )
    asked_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers_question"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]

    def __str__(self) -> str:
        return f"Question on bug {self.incident_id}"
