"""Active distrust actions. Owned by the distrust feature (issue 6).

Other code relies on: DistrustAction.is_embargoed (accounts.permissions), .incidents.
"""

from django.db import models

__all__ = ["DistrustAction"]


class DistrustAction(models.Model):
    title = models.CharField(max_length=300)
    incidents = models.ManyToManyField("compliance.Incident", blank=True, related_name="distrust_actions")
    # Prepared under embargo (before a security release): staff only until released.
    is_embargoed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title
