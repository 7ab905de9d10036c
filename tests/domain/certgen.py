"""Tiny generator of test certificates (pure, no files, no network).

Import it as ``from tests.domain import certgen`` (tests/ is a package).

    root1 = certgen.root("Root One")
    root2 = certgen.root("Root Two")
    inter = certgen.intermediate("Issuing CA", root1)
    inter_x = certgen.cross_sign(inter, root2)      # same subject + key, other issuer
    leaf = certgen.leaf("www.example.test", inter)
    parsed = leaf.parsed()                           # pki.x509.ParsedCertificate

Every function returns an :class:`Issued` (certificate, private key, DER,
PEM).  Keys are EC P-256 by default (fast); pass ``key=certgen.new_key("rsa")``
(or ``"rsa-pss"``-signed, ``"ed25519"``, ``"ed448"``, ``"dsa"``, ``"p384"``)
when a test needs another algorithm.  Dates default to a fixed window
(2024-01-01 .. 2034-01-01 UTC) so tests are reproducible; serials are
random unless given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from pki.x509 import ParsedCertificate, load_der

NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2034, 1, 1, tzinfo=UTC)

__all__ = [
    "Issued", "new_key", "name", "make_cert", "root", "intermediate", "cross_sign", "leaf",
    "NOT_BEFORE", "NOT_AFTER",
]


@dataclass(frozen=True)
class Issued:
    """A generated certificate with its private key."""

    cert: x509.Certificate
    key: object  # the certificate's own private key

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def subject(self) -> x509.Name:
        return self.cert.subject

    def parsed(self, source: str | None = None) -> ParsedCertificate:
        """The certificate as :class:`pki.x509.ParsedCertificate`."""
        return load_der(self.der, source=source or self.cert.subject.rfc4514_string())


def new_key(kind: str = "ec"):
    """A fresh private key: ``"ec"`` (P-256, default), ``"p384"``, ``"rsa"``
    (2048), ``"ed25519"``, ``"ed448"``, ``"dsa"`` (2048)."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    if kind == "dsa":
        return dsa.generate_private_key(key_size=2048)
    raise ValueError(f"unknown key kind {kind!r}")


def name(cn: str, *, o: str | None = "Rootwatch Test", c: str | None = "US") -> x509.Name:
    """``C=.., O=.., CN=..`` (C and O omitted when None)."""
    attrs = []
    if c:
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, c))
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _sign_args(signing_key, pss: bool):
    if isinstance(signing_key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return {"algorithm": None}
    if pss:
        return {
            "algorithm": hashes.SHA256(),
            "rsa_padding": padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        }
    return {"algorithm": hashes.SHA256()}


def make_cert(
    subject: x509.Name | str,
    *,
    issuer: Issued | None = None,
    key=None,
    ca: bool | None = True,
    path_length: int | None = None,
    not_before: datetime = NOT_BEFORE,
    not_after: datetime = NOT_AFTER,
    serial: int | None = None,
    signing_key=None,
    issuer_name: x509.Name | None = None,
    pss: bool = False,
    key_ids: bool = True,
) -> Issued:
    """The general form; the helpers below cover the usual cases.

    * ``issuer=None`` makes a self-signed certificate.
    * ``ca``: True/False sets basicConstraints (critical); None leaves the
      extension out.
    * ``signing_key`` signs with another key than the issuer's (to forge a
      bad signature); ``issuer_name`` writes another issuer name than the
      issuer's subject (e.g. a re-encoded name).
    * ``pss=True`` signs RSA with RSASSA-PSS (SHA-256, salt 32).
    * ``key_ids`` adds subjectKeyIdentifier / authorityKeyIdentifier.
    """
    if isinstance(subject, str):
        subject = name(subject)
    key = key or new_key()
    signer = signing_key or (issuer.key if issuer else key)
    iss_name = issuer_name or (issuer.cert.subject if issuer else subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(iss_name)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True
        )
    if key_ids:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        issuer_public = (issuer.key if issuer else key).public_key()
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
        )
    cert = builder.sign(private_key=signer, **_sign_args(signer, pss))
    return Issued(cert=cert, key=key)


def root(cn: str, *, key=None, **kw) -> Issued:
    """A self-signed CA."""
    return make_cert(cn, key=key, ca=True, **kw)


def intermediate(cn: str, issuer: Issued, *, key=None, path_length: int | None = None,
                 **kw) -> Issued:
    """A CA issued by ``issuer``."""
    return make_cert(cn, issuer=issuer, key=key, ca=True, path_length=path_length, **kw)


def cross_sign(ca: Issued, by: Issued, **kw) -> Issued:
    """Another certificate for ``ca``'s subject and key, issued by ``by``."""
    return make_cert(ca.cert.subject, issuer=by, key=ca.key, ca=True, **kw)


def leaf(cn: str, issuer: Issued, *, key=None, **kw) -> Issued:
    """An end-entity certificate (basicConstraints cA=FALSE)."""
    return make_cert(cn, issuer=issuer, key=key, ca=False, **kw)
