"""Real, signed X.509 certificates for the data generator (cryptography, deterministic).

Keys are derived from the run's random generator and ECDSA signatures are deterministic
(RFC 6979), so one seed gives the same DER, hence the same fingerprints, on every run.
Each certificate is parsed back with pki.x509, and its registry columns are derived exactly
as registry.actions derives them on import (the test compares the two).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.x509 import ParsedCertificate, cross_sign_key, kind, load_der
from registry.actions import name_match_key
from registry.models import der_key

__all__ = ["CertFactory", "Issued", "certificate_columns"]


class Issued:
    """A generated certificate: its key (to sign children), its cryptography name and its parsed form."""

    __slots__ = ("key", "name", "parsed", "ski")

    def __init__(self, key, name: x509.Name, parsed: ParsedCertificate, ski: x509.SubjectKeyIdentifier):
        self.key = key
        self.name = name
        self.parsed = parsed
        self.ski = ski


def certificate_columns(p: ParsedCertificate, *, source: str) -> dict:
    """The registry.Certificate columns of one parsed certificate (as registry.actions computes them)."""
    return dict(
        sha256=p.sha256, sha1=p.sha1, md5=p.md5, spki_sha256=p.spki_sha256, cross_sign_key=cross_sign_key(p),
        subject_key=der_key(p.subject_der), issuer_key=der_key(p.issuer_der),
        subject_name_key=name_match_key(p.subject_der), issuer_name_key=name_match_key(p.issuer_der),
        der=p.der, subject_der=p.subject_der, issuer_der=p.issuer_der, serial_hex=p.serial_hex,
        serial_der=p.serial_der, spki_der=p.spki_der, subject_text=p.subject_text, issuer_text=p.issuer_text,
        label=(p.label or "")[:255], not_before=p.not_before, not_after=p.not_after, key_type=p.key_type[:64],
        key_size=p.key_size or None, is_ca=p.is_ca,
        path_length=p.path_length if p.path_length is not None and p.path_length >= 0 else None,
        ski=p.ski or "", aki=p.aki or "", kind=kind(p), source=source[:500],
    )


class CertFactory:
    """Roots, intermediates (some cross-signed) and leaves, signed with ECDSA P-256 / P-384."""

    def __init__(self, rng: random.Random, *, leaf_keys: int = 256) -> None:
        self.rng = rng
        self._leaf_keys = [self._key(ec.SECP256R1()) for _ in range(leaf_keys)]

    def _key(self, curve):
        order_bits = 250 if isinstance(curve, ec.SECP256R1) else 380
        return ec.derive_private_key(self.rng.getrandbits(order_bits) | 1, curve)

    def _serial(self, size: int = 16) -> int:
        return self.rng.getrandbits(size * 8 - 1) | (1 << (size * 8 - 9))

    def _sign(self, builder: x509.CertificateBuilder, issuer_key) -> ParsedCertificate:
        algorithm = hashes.SHA384() if isinstance(issuer_key.curve, ec.SECP384R1) else hashes.SHA256()
        cert = builder.sign(issuer_key, algorithm, ecdsa_deterministic=True)
        return load_der(cert.public_bytes(serialization.Encoding.DER), source="generate_data")

    @staticmethod
    def _ca_name(common_name: str, organization: str, country: str) -> x509.Name:
        attrs = []
        if country and len(country) == 2:
            attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
        attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
                  x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]
        return x509.Name(attrs)

    def root(self, *, common_name: str, organization: str, country: str, not_before: datetime) -> Issued:
        key = self._key(ec.SECP384R1() if self.rng.random() < 0.5 else ec.SECP256R1())
        name = self._ca_name(common_name, organization, country)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(self._serial()).not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=365 * 25))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(ski, critical=False)
        )
        return Issued(key, name, self._sign(builder, key), ski)

    def intermediate(self, *, common_name: str, organization: str, country: str, parent: Issued,
                     not_before: datetime, same_as: Issued | None = None) -> Issued:
        """An issuing CA under `parent`; with `same_as`, a cross-sign of that CA (same name and key)."""
        key = same_as.key if same_as is not None else self._key(ec.SECP256R1())
        name = same_as.name if same_as is not None else self._ca_name(common_name, organization, country)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = (
            x509.CertificateBuilder().subject_name(name).issuer_name(parent.name).public_key(key.public_key())
            .serial_number(self._serial()).not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=365 * 10))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(parent.ski), critical=False)
        )
        return Issued(key, name, self._sign(builder, parent.key), ski)

    def leaf(self, *, dns_name: str, parent: Issued, not_before: datetime, days: int) -> ParsedCertificate:
        key = self._leaf_keys[self.rng.randrange(len(self._leaf_keys))]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
            .issuer_name(parent.name).public_key(key.public_key())
            .serial_number(self._serial()).not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(parent.ski), critical=False)
        )
        return self._sign(builder, parent.key)
