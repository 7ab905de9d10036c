"""The CA registry: owners, certificates, issuer links and the root store.

Owned by the registry feature (issue 3); other apps point here by foreign key.
Fields other apps rely on (do not rename): CAOwner.name/ccadb_id/country/status;
Certificate.sha256/sha1/spki_sha256/cross_sign_key/subject_key/issuer_key/der/subject_der/
issuer_der/serial_der/serial_hex/label/kind/owner/not_before/not_after; RootStoreEntry.*.

Provenance of an imported NSS certdata.txt (CertdataImport + CertdataBlock) keeps the
header, trailer and the raw text of every object block, so the root store exports
byte-for-byte as NSS wrote it until Rootwatch changes an entry.
"""

import datetime
import hashlib

from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

__all__ = [
    "der_key",
    "CAOwner",
    "CAOwnerContact",
    "CAOwnerURL",
    "Certificate",
    "IssuerLink",
    "RootStoreEntry",
    "CertdataImport",
    "CertdataBlock",
    "CCADBRecord",
    "Release",
    "ReleaseChange",
    "RegistryHistory",
]

ccadb_id_validator = RegexValidator(r"^A\d{6}$", "A CCADB unique ID is 'A' followed by 6 digits, e.g. A000123.")


def der_key(der: bytes) -> str:
    """Certificate.subject_key / issuer_key, RootStoreEntry.issuer_key: SHA-256 of a Name's DER, uppercase hex."""
    return hashlib.sha256(bytes(der)).hexdigest().upper()


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
        return reverse("registry:ca_detail", args=[self.pk])


class CAOwnerContact(models.Model):
    """A person or mailbox CCADB lists for a CA owner (issue 14). Staff keep them; staff and the
    owner's representatives read them (accounts.permissions.can_view_owner_contacts)."""

    owner = models.ForeignKey(CAOwner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=255)
    email = models.EmailField("e-mail address")
    role = models.CharField(max_length=100, blank=True, help_text="e.g. Primary POC, Incident contact.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["owner", "position", "pk"]
        verbose_name = "CA owner contact"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" + (f" ({self.role})" if self.role else "")


class CAOwnerURL(models.Model):
    """A policy document or test website of a CA owner, of the kinds CCADB keeps (issue 14)."""

    class Kind(models.TextChoices):
        CP = "cp", "Certificate Policy (CP)"
        CPS = "cps", "Certification Practice Statement (CPS)"
        CP_CPS = "cp_cps", "Combined CP/CPS"
        TEST_VALID = "test_valid", "Test website: valid"
        TEST_REVOKED = "test_revoked", "Test website: revoked"
        TEST_EXPIRED = "test_expired", "Test website: expired"

    owner = models.ForeignKey(CAOwner, on_delete=models.CASCADE, related_name="urls")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.URLField("URL", max_length=1000)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["owner", "position", "pk"]
        verbose_name = "CA owner URL"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.url}"


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
    serial_hex = models.CharField(max_length=128)
    # The whole DER INTEGER (tag, length, content), as NSS's CKA_SERIAL_NUMBER and OneCRL need it.
    serial_der = models.BinaryField(default=b"")
    spki_der = models.BinaryField(default=b"")
    md5 = models.CharField("MD5", max_length=32, blank=True)
    # SHA-256 of the RFC 5280 7.1-normalised Name (x509.name_key): issuer -> subject candidate
    # lookups when linking, which must also match names re-encoded with another string type.
    subject_name_key = models.CharField(max_length=64, db_index=True, default="")
    issuer_name_key = models.CharField(max_length=64, db_index=True, default="")
    subject_text = models.TextField()
    issuer_text = models.TextField()
    label = models.CharField(max_length=255, blank=True)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    key_type = models.CharField(max_length=64)  # RSA, EC, Ed25519, ... or the dotted OID
    key_size = models.PositiveIntegerField(null=True)
    is_ca = models.BooleanField(null=True)
    path_length = models.PositiveIntegerField(null=True, blank=True)
    ski = models.CharField(max_length=128, blank=True)
    aki = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    owner = models.ForeignKey(CAOwner, null=True, blank=True, on_delete=models.SET_NULL, related_name="certificates")
    source = models.CharField(max_length=500, blank=True, help_text="Where the certificate was first imported from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "sha256"]
        indexes = [
            # Search by serial number (certificate_search: serial_hex = ...).
            models.Index(fields=["serial_hex"], name="cert_serial_idx"),
            # Distrust entries and OneCRL records name a certificate by issuer + serial.
            models.Index(fields=["issuer_key", "serial_hex"], name="cert_issuer_serial_idx"),
            # The owner page lists its certificates by kind.
            models.Index(fields=["owner", "kind"], name="cert_owner_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.label or self.sha256

    def get_absolute_url(self) -> str:
        return reverse("registry:certificate_detail", args=[self.sha256])

    def parsed(self):
        """The certificate as pki.x509.ParsedCertificate (parsed again from the stored DER)."""
        from pki.x509 import load_der

        return load_der(bytes(self.der), source=f"certificate {self.sha256}")

    @property
    def pem(self) -> str:
        import base64
        import textwrap

        body = "\n".join(textwrap.wrap(base64.b64encode(bytes(self.der)).decode("ascii"), 64))
        return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


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
    trust_step_up = models.BooleanField(default=False)
    # The effective dates: from the certificate object (NSS's usual place) or the trust object.
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

    def state(self) -> dict:
        """What certdata.txt says about this entry; export re-renders its blocks when it changes."""

        def utc(dt):
            return dt.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None

        return {
            "label": self.label,
            "server": self.trust_server,
            "email": self.trust_email,
            "code": self.trust_code,
            "step_up": self.trust_step_up,
            "server_distrust_after": utc(self.server_distrust_after),
            "email_distrust_after": utc(self.email_distrust_after),
        }


class CertdataImport(models.Model):
    """The certdata.txt the root store was last imported from: its text outside the object blocks."""

    source = models.CharField(max_length=500)
    text_sha256 = models.CharField(max_length=64)
    header = models.TextField()
    trailer = models.TextField(blank=True)
    imported_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.source


class CertdataBlock(models.Model):
    """One object block of an imported certdata.txt, exactly as written (comments before it included).

    `state` is the entry's RootStoreEntry.state() at import: while it is unchanged the block
    exports verbatim; a block whose entry was deleted is left out.
    """

    certdata_import = models.ForeignKey(CertdataImport, on_delete=models.CASCADE, related_name="blocks")
    position = models.PositiveIntegerField()
    cls = models.CharField(max_length=40)
    raw = models.TextField()
    certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="certdata_blocks"
    )
    entry = models.ForeignKey(
        RootStoreEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="certdata_blocks"
    )
    state = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["certdata_import", "position"]
        constraints = [
            models.UniqueConstraint(fields=["certdata_import", "position"], name="unique_certdata_block_position")
        ]

    def __str__(self) -> str:
        return f"{self.cls} #{self.position}"


class CCADBRecord(models.Model):
    """One row of CCADB's "AllCertificateRecordsCSVFormat", kept whole for the audits feature.

    The certificate itself may not be in the registry (that report has no PEM); owners are
    applied to certificates as they arrive.
    """

    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    parent_sha256 = models.CharField("parent SHA-256", max_length=64, blank=True)
    owner = models.ForeignKey(CAOwner, null=True, blank=True, on_delete=models.SET_NULL, related_name="ccadb_records")
    salesforce_id = models.CharField(max_length=40, blank=True)
    certificate_name = models.CharField(max_length=500, blank=True)
    record_type = models.CharField(max_length=60, blank=True)
    revocation_status = models.CharField(max_length=60, blank=True)
    auditor = models.CharField(max_length=255, blank=True)
    # Every "<kind> Audit URL/Type/Statement Date/Period Start Date/Period End Date" column, by kind.
    audits = models.JSONField(default=dict, blank=True)
    row = models.JSONField(default=dict, blank=True)  # the whole CSV row, column -> value
    source = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CCADB record"
        ordering = ["sha256"]

    def __str__(self) -> str:
        return self.certificate_name or self.sha256


class Release(models.Model):
    """A root store release (NSS and/or roots module version) and the certdata.txt it shipped.

    Published releases keep their whole certdata.txt (`certdata_text`), so each exports byte for byte
    and any two compare. At most one draft ("the next release") collects the changes staff make to the
    root store until they publish it; a distrust's Release step ships into the release it names.
    """

    class Kind(models.TextChoices):
        REGULAR = "regular", "Regular scheduled release"
        CHEMSPILL = "chemspill", "Off-schedule (chemspill) release"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (next release, not shipped)"
        PUBLISHED = "published", "Published"

    nss_version = models.CharField("NSS version", max_length=40, blank=True)
    roots_module_version = models.CharField("roots module version", max_length=40, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REGULAR)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PUBLISHED)
    released_on = models.DateField("release date", null=True, blank=True)
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=500, blank=True, help_text="The certdata.txt it was imported from, if any.")
    certdata_text = models.TextField(blank=True)
    certdata_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="draft"), name="one_draft_release"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if self.status == self.Status.DRAFT and not (self.nss_version or self.roots_module_version):
            return "Next release (draft)"
        parts = []
        if self.nss_version:
            parts.append(f"NSS {self.nss_version}")
        if self.roots_module_version:
            parts.append(f"roots module {self.roots_module_version}")
        return " / ".join(parts) or f"Release {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("registry:release_detail", args=[self.pk])


class ReleaseChange(models.Model):
    """One thing a release shipped: an entry's trust, distrust-after date, presence, or a OneCRL record."""

    class Kind(models.TextChoices):
        ROOT_ADDED = "root_added", "Root added"
        ROOT_REMOVED = "root_removed", "Root removed"
        TRUST_ADDED = "trust_added", "Trust added"
        TRUST_REMOVED = "trust_removed", "Trust removed"
        DISTRUST_AFTER_SET = "distrust_after_set", "Distrust-after set"
        DISTRUST_AFTER_CLEARED = "distrust_after_cleared", "Distrust-after cleared"
        DISTRUST_ADDED = "distrust_added", "Explicit distrust added"
        DISTRUST_REMOVED = "distrust_removed", "Explicit distrust removed"
        ONECRL_PUBLISHED = "onecrl_published", "OneCRL record published"

    class Purpose(models.TextChoices):
        ALL = "", "—"
        SERVER = "server", "Websites"
        EMAIL = "email", "E-mail"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, blank=True)
    entry = models.ForeignKey(RootStoreEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="release_changes")
    certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="release_changes"
    )
    label = models.CharField(max_length=255)
    issuer_key = models.CharField(max_length=64, blank=True)
    serial_hex = models.CharField(max_length=80, blank=True)
    before = models.CharField(max_length=300, blank=True)
    after = models.CharField(max_length=300, blank=True)
    origin = models.CharField(max_length=300, blank=True, help_text="What made the change: an import, a staff edit, a distrust action.")
    origin_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["release", "pk"]
        indexes = [models.Index(fields=["issuer_key", "serial_hex"], name="release_change_key_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


class RegistryHistory(models.TextChoices):
    """The keys registry writes record into the shared history (history.Event.action)."""

    CERTIFICATES_IMPORTED = "certificates_imported", "Certificates imported"
    CERTDATA_IMPORTED = "certdata_imported", "certdata.txt imported"
    CCADB_RECORDS_IMPORTED = "ccadb_records_imported", "CCADB records imported"
    ROOT_STORE_ENTRY_CHANGED = "root_store_entry_changed", "Root store entry changed"
    OWNER_CHANGED = "owner_changed", "CA owner changed"
    RELEASE_RECORDED = "release_recorded", "Root store release recorded"
    RELEASE_PUBLISHED = "release_published", "Root store release published"
    OWNER_CREATED = "owner_created", "CA owner created"
    REPRESENTATIVE_GRANTED = "representative_granted", "CA representation granted"
    REPRESENTATIVE_REVOKED = "representative_revoked", "CA representation revoked"
    OWNERS_ATTACHED_BY_CHAINING = "owners_attached_by_chaining", "Owners attached by chaining"
    CERTIFICATE_OWNER_SET = "certificate_owner_set", "Certificate owner set"
