from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

__all__ = ["CAOwner"]

ccadb_id_validator = RegexValidator(r"^A\d{6}$", "A CCADB unique ID is 'A' followed by 6 digits, e.g. A000123.")


class CAOwner(models.Model):
    class Status(models.TextChoices):
        INCLUDED = "included", "Included"
        APPLYING = "applying", "Applying"
        REMOVED = "removed", "Removed"
        DISTRUSTED = "distrusted", "Distrusted"

    name = models.CharField(max_length=255, unique=True)
    ccadb_id = models.CharField(
        "CCADB unique ID", max_length=7, unique=True, null=True, blank=True, validators=[ccadb_id_validator]
    )
    country = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INCLUDED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "CA owner"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("compliance:ca_detail", args=[self.pk])
