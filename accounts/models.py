from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person. Root program staff have is_staff; CA representatives represent one or more CA owners.

    Everyone else who signs up is a community reviewer. The role is derived, never stored twice:
    see accounts.permissions.role().
    """

    email = models.EmailField("e-mail address", unique=True)
    represented_owners = models.ManyToManyField(
        "compliance.CAOwner",
        blank=True,
        related_name="representatives",
        help_text="CA owners this person files reports and statements for.",
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username
