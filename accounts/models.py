from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person. Root program staff have is_staff; CA representatives represent one or more CA owners.

    Everyone else who signs up is a community reviewer. The role is derived, never stored twice:
    see accounts.permissions.role().
    """

    email = models.EmailField("e-mail address", unique=True)
    represented_owners = models.ManyToManyField(
        "registry.CAOwner",
        blank=True,
        related_name="representatives",
        help_text="CA owners this person files reports and statements for.",
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username


class ApiKey(models.Model):
    """A REST client's credential: acts as its user, optionally read-only.

    Only the SHA-256 of the key is stored. A key is 256 random bits (accounts.api_keys.KEY_BYTES),
    so a fast hash is enough: there is nothing to brute-force, unlike a password. `prefix` (the
    first characters of the key) lets a user tell keys apart in lists and in logs. Keys are never
    deleted: a revoked key keeps its row, which is the history of who made it and when it stopped.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What this key is for, e.g. 'CI dashboard'.")
    prefix = models.CharField(max_length=16)
    # Authentication looks a key up by this column (unique index).
    key_hash = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The account page's list of a user's keys, newest first.
            models.Index(fields=["user", "-created_at"], name="apikey_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AccountHistory(models.TextChoices):
    """The keys accounts write into the shared history (history.Event.action): role grants on the
    user (subject: the user) and API keys (subject: the key; never the key itself or its hash)."""

    STAFF_GRANTED = "staff_granted", "Staff status granted"
    STAFF_REMOVED = "staff_removed", "Staff status removed"
    REPRESENTATION_CHANGED = "representation_changed", "CA representation changed"
    API_KEY_CREATED = "api_key_created", "API key created"
    API_KEY_REVOKED = "api_key_revoked", "API key revoked"


class IdempotencyKeyQuerySet(models.QuerySet):
    def expired(self, *, when):
        # Served by idemkey_created_idx: the cleanup on each new key deletes the oldest first.
        return self.filter(created_at__lt=when)


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` an API client sent with a POST, and the response it got (accounts.idempotency).

    While `response_status` is null the first request is still running (`claimed_at` says since
    when); once set, the row holds what the client was answered, written in the same transaction as
    what the request created, and a retry with the same key and body is given it again. The scope
    (who sent it, method, path, key) is looked up through `scope_hash`, so a long path or key never
    meets an index size limit. Rows older than accounts.idempotency.KEY_LIFETIME count as absent.
    """

    scope_hash = models.CharField(max_length=64, unique=True)
    # "key:<id>" for a request made with an API key, "user:<id>" for a signed-in session.
    principal = models.CharField(max_length=40)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    method = models.CharField(max_length=10)
    path = models.TextField()
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(default=bytes, blank=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="idemkey_created_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] ({self.principal})"
