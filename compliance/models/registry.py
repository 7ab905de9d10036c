"""The CA registry: owners, certificates, issuer links and the root store.

Owned by the registry feature (issue 3); other apps point here by foreign key.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

__all__ = ["CAOwner", "Certificate", "IssuerLink", "RootStoreEntry"]

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


class Certificate(models.Model):
    """A root, intermediate or leaf certificate; the DER is kept, the rest is derived from it."""

    class Kind(models.TextChoices):
        ROOT = "root", "Root"
        INTERMEDIATE = "intermediate", "Intermediate"
        LEAF = "leaf", "Leaf"

    sha256 = models.CharField("SHA-256", max_length=64, unique=True)  # uppercase hex, no colons
    sha1 = models.CharField("SHA-1", max_length=40, db_index=True)
    spki_sha256 = models.CharField("SPKI SHA-256", max_length=64, db_index=True)
    # SHA-256 of subject DER + SPKI DER: certificates sharing it are one cross-sign group.
    cross_sign_key = models.CharField(max_length=64, db_index=True)
    # SHA-256 of the subject / issuer Name DER, so issuer lookups compare short indexed strings.
    subject_key = models.CharField(max_length=64, db_index=True)
    issuer_key = models.CharField(max_length=64)
    der = models.BinaryField()
    subject_der = models.BinaryField()
    issuer_der = models.BinaryField()
    serial_hex = models.CharField(max_length=80)
    subject_text = models.TextField()
    issuer_text = models.TextField()
    label = models.CharField(max_length=255, blank=True)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    key_type = models.CharField(max_length=20)
    key_size = models.PositiveIntegerField(null=True)
    is_ca = models.BooleanField(null=True)
    path_length = models.PositiveIntegerField(null=True, blank=True)
    ski = models.CharField(max_length=128, blank=True)
    aki = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    owner = models.ForeignKey(CAOwner, null=True, blank=True, on_delete=models.SET_NULL, related_name="certificates")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "sha256"]
        indexes = [
            # Distrust entries and OneCRL records name a certificate by issuer + serial.
            models.Index(fields=["issuer_key", "serial_hex"], name="cert_issuer_serial_idx"),
            # The owner page lists its certificates by kind.
            models.Index(fields=["owner", "kind"], name="cert_owner_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.label or self.sha256

    def get_absolute_url(self) -> str:
        return reverse("compliance:certificate_detail", args=[self.sha256])


class IssuerLink(models.Model):
    """child was issued by parent: the names chain AND the signature verifies."""

    child = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="child_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "parent"], name="unique_issuer_link")]

    def __str__(self) -> str:
        return f"{self.child_id} -> {self.parent_id}"


class RootStoreEntry(models.Model):
    """One NSS trust object of the root store: trust bits and distrust-after dates.

    A trust-only entry (a distrust by issuer + serial) has no certificate.
    """

    class Trust(models.TextChoices):
        TRUSTED_DELEGATOR = "CKT_NSS_TRUSTED_DELEGATOR", "Trusted (delegator)"
        MUST_VERIFY = "CKT_NSS_MUST_VERIFY_TRUST", "Must verify"
        NOT_TRUSTED = "CKT_NSS_NOT_TRUSTED", "Not trusted (distrusted)"
        TRUSTED = "CKT_NSS_TRUSTED", "Trusted"
        UNKNOWN = "CKT_NSS_TRUST_UNKNOWN", "Unknown"

    certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="root_store_entries"
    )
    label = models.CharField(max_length=255)
    issuer_der = models.BinaryField()
    serial_der = models.BinaryField()  # the whole DER INTEGER, tag and length included, as NSS stores it
    issuer_key = models.CharField(max_length=64)
    serial_hex = models.CharField(max_length=80)
    trust_server = models.CharField(max_length=40, choices=Trust.choices, default=Trust.MUST_VERIFY)
    trust_email = models.CharField(max_length=40, choices=Trust.choices, default=Trust.MUST_VERIFY)
    trust_code = models.CharField(max_length=40, choices=Trust.choices, default=Trust.MUST_VERIFY)
    server_distrust_after = models.DateTimeField(null=True, blank=True)
    email_distrust_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "root store entries"
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["issuer_key", "serial_hex"], name="unique_root_store_issuer_serial")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def trusted_for_server(self) -> bool:
        return self.trust_server == self.Trust.TRUSTED_DELEGATOR

    @property
    def trusted_for_email(self) -> bool:
        return self.trust_email == self.Trust.TRUSTED_DELEGATOR
