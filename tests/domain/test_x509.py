"""pki.x509: parsing, NSS comment text, signatures, bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pki.x509 import (
    CertificateError,
    ParsedCertificate,
    cross_sign_key,
    fingerprint_normalize,
    is_self_signed,
    iter_ccadb_pem_csv,
    kind,
    load_any,
    load_der,
    load_pem,
    name_key,
    names_match,
    nss_name_text,
    nss_serial_text,
    nss_time_text,
    sha1_fingerprint_normalize,
    verify_issued_by,
)
from tests.domain import certgen
from tests.registry.registry_data import V2_86

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CERTS = FIXTURES / "certs"
CHAINS = CERTS / "chains"
CCADB = CERTS / "ccadb"
NSS = FIXTURES / "nss"
PAYPAL = CHAINS / "paypal_ev_nss"

# Real roots with serial 0 or lax encodings make cryptography warn; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")


def paypal() -> tuple[ParsedCertificate, ParsedCertificate, ParsedCertificate]:
    return tuple(  # type: ignore[return-value]
        load_der((PAYPAL / f"PayPal{n}.cert").read_bytes(), source=f"PayPal{n}.cert")
        for n in ("EE", "ICA", "RootCA")
    )


# ---------------------------------------------------------------------------
# A minimal certdata.txt reader (independent of pki.certdata)
# ---------------------------------------------------------------------------

def certdata_certificates(path: Path) -> list[dict]:
    """Each CKO_CERTIFICATE object with its comment lines and octal attributes."""
    objects: list[dict] = []
    comments: list[str] = []
    current: dict | None = None
    octal_attr: str | None = None
    octal: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if octal_attr:
            if line == "END":
                assert current is not None
                current[octal_attr] = bytes(int(o, 8) for o in "".join(octal).split("\\")[1:])
                octal_attr, octal = None, []
            else:
                octal.append(line)
            continue
        if line.startswith("#") or not line.strip():
            if current is not None:
                objects.append(current)
                current = None
            if line.startswith("#"):
                comments.append(line)
            continue
        if line.startswith("CKA_CLASS "):
            current = {"class": line.split()[-1], "comments": comments}
            comments = []
            continue
        m = re.match(r"(CKA_\w+) MULTILINE_OCTAL$", line)
        if m and current is not None:
            octal_attr = m.group(1)
    if current is not None:
        objects.append(current)
    return [o for o in objects if o["class"] == "CKO_CERTIFICATE"]


def comment(obj: dict, prefix: str) -> str:
    (line,) = [c for c in obj["comments"] if c.startswith(prefix)]
    return line


RELEASES = sorted([*NSS.glob("certdata_v*.txt"), V2_86])


def test_nss_fixture_releases_are_present() -> None:
    names = {p.name for p in RELEASES}
    assert {"certdata_v2.86_2026-04-09.txt", "certdata_v2.18_2017-11-16.txt"} <= names


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.name)
def test_every_nss_certificate_comment_is_reproduced_exactly(path: Path) -> None:
    objs = certdata_certificates(path)
    assert len(objs) > 100
    for obj in objs:
        cert = load_der(obj["CKA_VALUE"], source=f"{path.name}")
        assert comment(obj, "# Issuer:") == f"# Issuer: {nss_name_text(cert.issuer_der)}"
        assert comment(obj, "# Subject:") == f"# Subject: {nss_name_text(cert.subject_der)}"
        assert comment(obj, "# Issuer:") == f"# Issuer: {cert.issuer_text}"
        assert comment(obj, "# Subject:") == f"# Subject: {cert.subject_text}"
        assert comment(obj, "# Serial Number") == nss_serial_text(cert)
        assert comment(obj, "# Not Valid Before:") == f"# Not Valid Before: {nss_time_text(cert.not_before)}"
        assert comment(obj, "# Not Valid After :") == f"# Not Valid After : {nss_time_text(cert.not_after)}"
        # exact bytes, as NSS stores them
        assert cert.serial_der == obj["CKA_SERIAL_NUMBER"]
        assert cert.issuer_der == obj["CKA_ISSUER"]
        assert cert.subject_der == obj["CKA_SUBJECT"]
        assert nss_serial_text(cert.serial_der) == nss_serial_text(cert)
        fp = [c for c in obj["comments"] if c.startswith("# Fingerprint (SHA-256): ")]
        if fp:
            assert fingerprint_normalize(fp[0].split(": ", 1)[1]) == cert.sha256
        fp1 = [c for c in obj["comments"] if c.startswith("# Fingerprint (SHA1): ")]
        if fp1:
            assert sha1_fingerprint_normalize(fp1[0].split(": ", 1)[1]) == cert.sha1
        md5 = [c for c in obj["comments"] if c.startswith("# Fingerprint (MD5): ")]
        if md5:
            assert md5[0].split(": ", 1)[1].replace(":", "") == cert.md5


def test_nss_names_cover_the_tricky_cases() -> None:
    """The real files exercise quoting, OID.x forms, serialNumber and non-ASCII dots."""
    lines = {c for p in RELEASES for o in certdata_certificates(p) for c in o["comments"]}
    assert any('O="Entrust, Inc."' in c for c in lines)
    assert any("OID.2.5.4.97=" in c for c in lines)
    assert any(",serialNumber=" in c for c in lines)
    assert any("..z" in c or ".." in c.split("=", 1)[-1] for c in lines if c.startswith("# Issuer"))
    assert any(c.startswith("# Serial Number: ") for c in lines)   # decimal form
    assert any(c.startswith("# Serial Number:0") for c in lines)   # hex form, leading 00 kept


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.name)
def test_fields_agree_with_cryptography_on_nss_roots(path: Path) -> None:
    bad_self_signatures: list[str] = []
    for obj in certdata_certificates(path):
        cert = load_der(obj["CKA_VALUE"], source=path.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = cx509.load_der_x509_certificate(cert.der)
        assert cert.serial == ref.serial_number
        assert cert.not_before == ref.not_valid_before_utc
        assert cert.not_after == ref.not_valid_after_utc
        assert cert.version == ref.version.value + 1
        assert cert.sha256 == hashlib.sha256(cert.der).hexdigest().upper()
        spki = ref.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert cert.spki_der == spki
        assert cert.spki_sha256 == hashlib.sha256(spki).hexdigest().upper()
        key = ref.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            assert (cert.key_type, cert.key_size, cert.curve) == ("RSA", key.key_size, None)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            assert (cert.key_type, cert.key_size, cert.curve) == ("EC", key.key_size, key.curve.name)
        try:
            exts = ref.extensions
        except ValueError:  # cryptography refuses some real extensions (e.g. a UTF-8 VisibleString)
            exts = None
        if exts is not None:
            try:
                bc = exts.get_extension_for_class(cx509.BasicConstraints).value
                assert (cert.is_ca, cert.path_length) == (bc.ca, bc.path_length)
            except cx509.ExtensionNotFound:
                assert cert.is_ca is None and cert.path_length is None
            try:
                ski = exts.get_extension_for_class(cx509.SubjectKeyIdentifier).value
                assert cert.ski == ski.digest.hex().upper()
            except cx509.ExtensionNotFound:
                assert cert.ski is None
            try:
                aki = exts.get_extension_for_class(cx509.AuthorityKeyIdentifier).value
                assert cert.aki == (aki.key_identifier.hex().upper() if aki.key_identifier else None)
            except cx509.ExtensionNotFound:
                assert cert.aki is None
        assert cert.self_issued == (ref.subject.public_bytes() == ref.issuer.public_bytes())
        assert cert.x509().serial_number == ref.serial_number
        if cert.self_issued and cert.signature_hash not in ("md2", "md5"):
            # The only self-issued certificates whose signature does not verify
            # are NSS's stand-ins for the DigiNotar CAs it explicitly distrusts
            # (serials 0FFFFFFF...; openssl agrees: "bad signature").
            if not verify_issued_by(cert, cert):
                bad_self_signatures.append(cert)
    for cert in bad_self_signatures:
        assert "DigiNotar" in cert.subject_text and cert.serial_hex.startswith("0FFFFFFF")


# ---------------------------------------------------------------------------
# nss_name_text rules on hand-made names
# ---------------------------------------------------------------------------

def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _tlv(0x06, bytes(out))


CN, O, OU, C = "2.5.4.3", "2.5.4.10", "2.5.4.11", "2.5.4.6"  # noqa: E741 (the attribute names)
UTF8, PRINTABLE, T61, IA5, VISIBLE, BMP = 0x0C, 0x13, 0x14, 0x16, 0x1A, 0x1E


def dn(*rdns) -> bytes:
    """dn([(oid, tag, value_bytes), ...], ...) in DER order (most general first)."""
    body = b""
    for rdn in rdns:
        avas = b"".join(_tlv(0x30, _oid(o) + _tlv(t, v)) for o, t, v in rdn)
        body += _tlv(0x31, avas)
    return _tlv(0x30, body)


@pytest.mark.parametrize(
    ("name_der", "expected"),
    [
        (dn([(C, PRINTABLE, b"US")], [(O, PRINTABLE, b"Acme")], [(CN, UTF8, b"Root")]),
         "CN=Root,O=Acme,C=US"),
        (dn([(O, UTF8, b"Acme, Inc.")]), 'O="Acme, Inc."'),
        (dn([(CN, UTF8, b'say "hi" \\ok')]), 'CN=say \\"hi\\" \\\\ok'),
        (dn([(CN, UTF8, b"two  spaces")]), 'CN="two  spaces"'),
        (dn([(CN, UTF8, b" lead")]), 'CN=" lead"'),
        (dn([(CN, UTF8, b"line\nbreak")]), "CN=line\\0abreak"),
        (dn([(CN, UTF8, b"end\n")]), 'CN="end\\0a"'),
        (dn([(CN, UTF8, b"x"), (OU, UTF8, b"y")]), "CN=x+OU=y"),
        (dn([("1.2.3.4", PRINTABLE, b"v")]), "OID.1.2.3.4=v"),
        (dn([("2.5.4.97", UTF8, b"VATES-Q2826004J")]), "OID.2.5.4.97=VATES-Q2826004J"),
        (dn([("1.2.840.113549.1.9.1", IA5, b"ca@example.test")]), "E=ca@example.test"),
        (dn([("2.5.4.5", PRINTABLE, b"G63287510")]), "serialNumber=G63287510"),
        (dn([(CN, VISIBLE, b"abc")]), "CN=#1A03616263"),
        (dn([(CN, UTF8, "Raíz".encode())]), "CN=Ra..z"),
        (dn([(CN, BMP, "Ré".encode("utf-16-be"))]), "CN=R.."),
        (dn([(CN, T61, "Ré".encode("latin-1"))]), "CN=R.."),
        (dn([(O, UTF8, b"a" * 130)]), "O=" + "a" * 128 + "..."),
        (dn([(O, UTF8, b"a," + b"b" * 200)]), 'O="a,' + "b" * 125 + '..."'),
        (dn([(C, PRINTABLE, b"USA")]), "C=US..."),
        (dn(), "(empty)"),
    ],
)
def test_nss_name_text_rules(name_der: bytes, expected: str) -> None:
    assert nss_name_text(name_der) == expected


def test_nss_name_text_unicode_form_for_display() -> None:
    assert nss_name_text(dn([(CN, UTF8, "Raíz".encode())]), ascii_only=False) == "CN=Raíz"


def test_nss_name_text_rejects_non_names() -> None:
    with pytest.raises(CertificateError, match="not a DER Name"):
        nss_name_text(b"\x04\x02ab")


# ---------------------------------------------------------------------------
# Serial and time text
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("serial_der", "expected"),
    [
        (b"\x02\x01\x00", "# Serial Number: 0 (0x0)"),
        (b"\x02\x01\x01", "# Serial Number: 1 (0x1)"),
        (b"\x02\x04\x00\x98\x96\x8c", "# Serial Number: 10000012 (0x98968c)"),
        (b"\x02\x04\x38\x63\xde\xf8", "# Serial Number: 946069240 (0x3863def8)"),
        (b"\x02\x01\xff", "# Serial Number: -1 (0xffffffff)"),
        (b"\x02\x04\x80\x00\x00\x00", "# Serial Number: -2147483648 (0x80000000)"),
        (b"\x02\x05\x00\x80\x00\x00\x00", "# Serial Number:00:80:00:00:00"),
        (b"\x02\x0b\x04\x00\x00\x00\x00\x01\x15\x4b\x5a\xc3\x94",
         "# Serial Number:04:00:00:00:00:01:15:4b:5a:c3:94"),
        (b"\x02\x05\xfb\xce\x99\x6c\x13", "# Serial Number:fb:ce:99:6c:13"),
        (b"\x02\x06ABCDEF", "# Serial Number:ABCDEF"),  # SECU_PrintAsHex prints text-like bytes as text
    ],
)
def test_nss_serial_text(serial_der: bytes, expected: str) -> None:
    assert nss_serial_text(serial_der) == expected


def test_nss_serial_text_rejects_non_integers() -> None:
    with pytest.raises(CertificateError, match="not a DER INTEGER"):
        nss_serial_text(b"\x04\x01\x01")


def test_nss_time_text() -> None:
    assert nss_time_text(datetime(1998, 9, 1, 12, tzinfo=UTC)) == "Tue Sep 01 12:00:00 1998"
    assert nss_time_text(datetime(2028, 1, 28, 12)) == "Fri Jan 28 12:00:00 2028"  # naive = UTC
    cet = timezone(timedelta(hours=1))
    assert nss_time_text(datetime(2000, 1, 1, 0, 30, tzinfo=cet)) == "Fri Dec 31 23:30:00 1999"


# ---------------------------------------------------------------------------
# Fields of real certificates
# ---------------------------------------------------------------------------

def test_paypal_chain_fields() -> None:
    ee, ica, root = paypal()
    assert ee.sha256 == hashlib.sha256((PAYPAL / "PayPalEE.cert").read_bytes()).hexdigest().upper()
    assert ee.sha1 == hashlib.sha1(ee.der).hexdigest().upper()
    assert ee.md5 == hashlib.md5(ee.der).hexdigest().upper()
    assert ica.serial_hex == "0C79A944B08C11952092615FE26B1D83"
    assert ica.serial_der == bytes.fromhex("0210") + bytes.fromhex(ica.serial_hex)
    assert ica.serial_content == bytes.fromhex(ica.serial_hex)
    assert ica.subject_cn == ica.label == "DigiCert SHA2 Extended Validation Server CA"
    assert ica.subject_text == "CN=DigiCert SHA2 Extended Validation Server CA,OU=www.digicert.com,O=DigiCert Inc,C=US"
    assert ee.issuer_der == ica.subject_der and ica.issuer_der == root.subject_der
    assert ee.aki == ica.ski and ica.aki == root.ski
    assert root.self_issued and not ica.self_issued and not ee.self_issued
    assert (kind(root), kind(ica), kind(ee)) == ("root", "intermediate", "leaf")
    assert (ica.is_ca, ica.path_length, ee.is_ca) == (True, 0, False)
    assert (root.key_type, root.key_size, root.curve) == ("RSA", 2048, None)
    assert ica.signature_hash == "sha256" and root.signature_hash == "sha1"
    assert ee.not_before.tzinfo is not None and ee.not_before.utcoffset() == timedelta(0)
    assert ee.not_after.year == 2022
    assert "jurisdiction" not in ee.subject_text  # EV OIDs have NSS names
    assert "incorporationCountry=US" in ee.subject_text and "businessCategory=" in ee.subject_text


def test_negative_serial_keeps_exact_bytes() -> None:
    (cert,) = load_pem((CHAINS / "negative_serial.pem").read_text(), source="negative_serial.pem")
    assert cert.serial == -0x04316693ED
    assert cert.serial_hex == "FBCE996C13"
    assert cert.serial_der == bytes.fromhex("0205FBCE996C13")
    assert cert.serial_der in cert.der
    assert nss_serial_text(cert) == "# Serial Number:fb:ce:99:6c:13"


def test_serial_with_leading_zero_is_kept() -> None:
    gen = certgen.root("High Bit Serial", serial=0x80_00_00_00_00_00_00_01)
    cert = gen.parsed()
    assert cert.serial_content[0] == 0 and cert.serial_hex.startswith("00")
    assert len(cert.serial_hex) % 2 == 0
    assert cert.serial == 0x80_00_00_00_00_00_00_01
    assert cert.serial_der == b"\x02\x09" + cert.serial_content


def test_certificates_cryptography_refuses_still_parse() -> None:
    certs = load_pem((CCADB / "non_strict_der.pem").read_text(), source="non_strict_der.pem")
    assert [c.sha256[:8] for c in certs] == ["B3C962D3", "1BC40080", "0A552A65", "3B8812E6"]
    first = certs[0]
    assert first.version == 1 and first.is_ca is None and kind(first) == "root"
    assert certs[1].not_before == datetime(2010, 1, 1, 1, 0, tzinfo=UTC)  # no seconds
    for cert in certs:
        with pytest.raises(CertificateError, match="cryptography cannot load it"):
            cert.x509()


def test_label_falls_back_to_ou_then_o() -> None:
    ou_only = cx509.Name([cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org"),
                          cx509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit")])
    o_only = cx509.Name([cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org")])
    assert certgen.make_cert(ou_only).parsed().label == "Unit"
    cert = certgen.make_cert(o_only).parsed()
    assert cert.label == "Org" and cert.subject_cn is None


def test_kind_without_basic_constraints() -> None:
    v3_root = certgen.make_cert("No BC Root", ca=None).parsed()
    assert v3_root.is_ca is None and kind(v3_root) == "root"
    issuer = certgen.root("Issuer")
    no_bc_issued = certgen.make_cert("No BC", issuer=issuer, ca=None).parsed()
    assert kind(no_bc_issued) == "leaf"
    v1 = [load_der(o["CKA_VALUE"], source="v2.18")
          for o in certdata_certificates(NSS / "certdata_v2.18_2017-11-16.txt")]
    v1 = [c for c in v1 if c.version == 1]
    assert v1 and all(kind(c) == "root" and c.is_ca is None for c in v1)


def test_self_issued_is_not_always_self_signed() -> None:
    ca = certgen.root("Rollover CA")
    assert is_self_signed(ca.parsed())
    # "new with old": same name, new key, signed by the previous key
    new_with_old = certgen.make_cert(ca.cert.subject, issuer=ca, key=certgen.new_key()).parsed()
    assert new_with_old.self_issued and not is_self_signed(new_with_old)
    assert kind(new_with_old) == "root"  # kind() is name-based, as documented
    assert verify_issued_by(new_with_old, ca.parsed())


def test_parsed_certificates_pickle_after_use() -> None:
    import pickle

    ee, ica, _ = paypal()
    assert verify_issued_by(ee, ica) and ee.x509() is not None  # fills the caches
    back = pickle.loads(pickle.dumps(ica))
    assert back == ica and verify_issued_by(ee, back)


def test_equality_and_hash_follow_the_der() -> None:
    ee, _, _ = paypal()
    again = load_der(ee.der, source="another name")
    assert again == ee and hash(again) == hash(ee) and len({ee, again}) == 1


# ---------------------------------------------------------------------------
# Loading: PEM variants
# ---------------------------------------------------------------------------

def test_pem_bundle_crlf_blank_lines_and_text_around() -> None:
    text = (CHAINS / "cryptography.io.pem").read_text()
    certs = load_pem(text, source="cryptography.io.pem")
    assert [kind(c) for c in certs] == ["leaf", "intermediate", "root"]
    crlf = "subject=whatever\r\n'" + text.replace("\n", "\r\n") + "\r\ntrailing words\r\n"
    assert load_pem(crlf, source="crlf") == certs
    blank = text.replace("-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\n\n")
    blank = blank.replace("\n-----END", "\n\n-----END")
    assert load_pem(blank, source="blank lines") == certs
    assert load_any(text.encode(), source="any") == certs


def test_ccadb_stray_quote_pem_field() -> None:
    certs = list(iter_ccadb_pem_csv(CCADB / "PublicIntermediateCertsRevokedWithPEMCSV_2020-07.head.csv"))
    assert len(certs) == 2
    assert certs[1].sha256 == "8948D65A91A81B8D8D79D7603B42FBA68A690567F0456488339BF4D0937BDAF4"
    assert certs[0].source.endswith("head.csv:row 1")


def test_ccadb_all_certificate_pems_csv() -> None:
    certs = [c for y in (1994, 1995, 1997)
             for c in iter_ccadb_pem_csv(CCADB / f"AllCertificatePEMsCSVFormat_NotBeforeYear_{y}.csv")]
    assert len(certs) == 7
    assert [c.not_before.year for c in certs] == [1994, 1995] + [1997] * 5


def test_load_any_sniffs_der_pem_and_bare_base64() -> None:
    ee, _, _ = paypal()
    assert load_any(ee.der, source="der") == [ee]
    import base64

    bare = base64.encodebytes(ee.der)
    assert load_any(bare, source="bare") == [ee]


def test_trusted_certificate_armor_is_accepted() -> None:
    ee, _, _ = paypal()
    import base64

    body = base64.encodebytes(ee.der + b"\x30\x03\x06\x01\x00").decode()
    text = f"-----BEGIN TRUSTED CERTIFICATE-----\n{body}-----END TRUSTED CERTIFICATE-----\n"
    assert load_pem(text, source="trusted") == [ee]


# ---------------------------------------------------------------------------
# Bad input: each error names the input
# ---------------------------------------------------------------------------

def _error(fn, *args, **kw) -> CertificateError:
    with pytest.raises(CertificateError) as info:
        fn(*args, **kw)
    return info.value


def test_not_a_certificate() -> None:
    err = _error(load_der, b"hello world", source="notes.txt")
    assert str(err).startswith("notes.txt: not a certificate") and err.source == "notes.txt"
    key_der = certgen.new_key().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    err = _error(load_der, key_der, source="key.der")
    assert str(err).startswith("key.der: not a certificate")
    err = _error(load_any, b"just some words", source="upload.bin")
    assert str(err) == "upload.bin: not a certificate (neither DER nor PEM)"
    err = _error(load_pem, "no armor here", source="paste")
    assert "paste: not a certificate" in str(err)


def test_truncated_der() -> None:
    ee, _, _ = paypal()
    for cut in (len(ee.der) - 10, 100, 3, 1):
        err = _error(load_der, ee.der[:cut], source="PayPalEE.cert")
        assert str(err).startswith("PayPalEE.cert: truncated DER"), str(err)
    err = _error(load_der, ee.der + b"\x00\x00", source="padded.der")
    assert "padded.der: 2 trailing bytes after the certificate" == str(err)


def test_wrong_pem_armor() -> None:
    key_pem = certgen.new_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    err = _error(load_pem, key_pem, source="key.pem")
    assert str(err) == "key.pem: PEM armor is 'BEGIN PRIVATE KEY', expected CERTIFICATE"
    # NSS's own test file: a certificate followed by its private key
    mixed = (NSS / "testlib" / "testcert_no_distrust.txt").read_text()
    err = _error(load_pem, mixed, source="testcert_no_distrust.txt")
    assert str(err) == ("testcert_no_distrust.txt (PEM block 2): "
                        "PEM armor is 'BEGIN PRIVATE KEY', expected CERTIFICATE")


def test_empty_and_broken_pem() -> None:
    assert str(_error(load_pem, "  \n", source="empty.pem")) == "empty.pem: empty file"
    assert str(_error(load_any, b"", source="empty.der")) == "empty.der: empty file"
    text = (CHAINS / "cryptography.io.pem").read_text()
    first = text[: text.index("-----END")]
    assert "without END line" in str(_error(load_pem, first, source="cut.pem"))
    missing_end = first + text[text.index("-----END CERTIFICATE-----") + 26:]
    err = _error(load_pem, missing_end, source="two.pem")
    assert str(err) == "two.pem (PEM block 1): truncated PEM: 'BEGIN CERTIFICATE' without END line"
    garbled = text.replace("MIIF", "M!IF", 1)
    err = _error(load_pem, garbled, source="garbled.pem")
    assert str(err).startswith("garbled.pem (PEM block 1): ")
    truncated_body = text.replace(text[200:400], "", 1)
    err = _error(load_pem, truncated_body, source="short.pem")
    assert str(err).startswith("short.pem (PEM block 1): ")


def _csv_with(tmp_path: Path, mutate) -> Path:
    src = (CCADB / "AllCertificatePEMsCSVFormat_NotBeforeYear_1997.csv").read_text()
    path = tmp_path / "bad.csv"
    path.write_text(mutate(src))
    return path


def test_garbage_in_a_csv_row(tmp_path: Path) -> None:
    rows = list(iter_ccadb_pem_csv(CCADB / "AllCertificatePEMsCSVFormat_NotBeforeYear_1997.csv"))
    assert len(rows) == 5
    second_sha = rows[1].sha256

    def garble_second_pem(s: str) -> str:
        head, tail = s.split(second_sha, 1)
        return head + second_sha + tail.replace("MII", "@@@", 1)

    path = _csv_with(tmp_path, garble_second_pem)
    with pytest.raises(CertificateError) as info:
        list(iter_ccadb_pem_csv(path))
    assert str(info.value).startswith(f"{path}:row 2")

    path = _csv_with(tmp_path, lambda s: s.replace(second_sha, "AB" * 32))
    with pytest.raises(CertificateError, match=r"row 2: SHA-256 column says ABAB.* but the PEM hashes to"):
        list(iter_ccadb_pem_csv(path))

    path = _csv_with(tmp_path, lambda s: s.replace(second_sha, "not-a-hash"))
    with pytest.raises(CertificateError, match="row 2: bad SHA-256 column value 'not-a-hash'"):
        list(iter_ccadb_pem_csv(path))

    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(CertificateError, match="other.csv: not a CCADB PEM CSV"):
        list(iter_ccadb_pem_csv(other))


# ---------------------------------------------------------------------------
# Signatures and name chaining
# ---------------------------------------------------------------------------

def test_verify_issued_by_real_chain() -> None:
    ee, ica, root = paypal()
    assert verify_issued_by(ee, ica) and verify_issued_by(ica, root) and verify_issued_by(root, root)
    assert not verify_issued_by(ica, ee)
    assert not verify_issued_by(ee, root)  # name mismatch
    assert not verify_issued_by(root, ica)


@pytest.mark.parametrize("key_kind", ["ec", "p384", "rsa", "ed25519", "ed448", "dsa"])
def test_verify_issued_by_each_algorithm(key_kind: str) -> None:
    ca = certgen.root(f"CA {key_kind}", key=certgen.new_key(key_kind))
    child = certgen.leaf("child.example.test", ca).parsed()
    parsed_ca = ca.parsed()
    assert verify_issued_by(child, parsed_ca)
    impostor = certgen.root(f"CA {key_kind}", key=certgen.new_key(key_kind)).parsed()
    assert impostor.subject_der == parsed_ca.subject_der
    assert not verify_issued_by(child, impostor)


def test_verify_rsa_pss() -> None:
    ca = certgen.root("PSS CA", key=certgen.new_key("rsa"))
    child = certgen.make_cert("pss child", issuer=ca, ca=False, pss=True).parsed()
    assert child.signature_scheme == "RSA-PSS" and child.signature_hash == "sha256"
    assert verify_issued_by(child, ca.parsed())


def test_key_types_are_reported() -> None:
    expect = {"ec": ("EC", 256, "secp256r1"), "p384": ("EC", 384, "secp384r1"),
              "rsa": ("RSA", 2048, None), "ed25519": ("Ed25519", 256, None),
              "ed448": ("Ed448", 456, None), "dsa": ("DSA", 2048, None)}
    for key_kind, triple in expect.items():
        cert = certgen.root("k", key=certgen.new_key(key_kind)).parsed()
        assert (cert.key_type, cert.key_size, cert.curve) == triple


def test_mismatch_never_raises() -> None:
    ca = certgen.root("CA")
    child = certgen.leaf("c", ca).parsed()
    parent = ca.parsed()
    odd = dataclasses.replace(child, signature_scheme="unknown")
    assert not verify_issued_by(odd, parent)
    broken_sig = dataclasses.replace(child, signature=b"\x00" * 10)
    assert not verify_issued_by(broken_sig, parent)
    broken_key = dataclasses.replace(parent, spki_der=b"\x30\x00")
    assert not verify_issued_by(child, broken_key)
    md2 = dataclasses.replace(child, signature_scheme="RSA-PKCS1v15", signature_hash="md2")
    assert not verify_issued_by(md2, parent)


def test_name_chaining_tolerates_re_encoded_names() -> None:
    ca = certgen.root("Chain CA")
    printable = cx509.Name([
        cx509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rootwatch  Test", _type=cx509.name._ASN1Type.PrintableString),
        cx509.NameAttribute(NameOID.COMMON_NAME, "CHAIN CA", _type=cx509.name._ASN1Type.PrintableString),
    ])
    child = certgen.make_cert("re-encoded", issuer=ca, ca=False, issuer_name=printable).parsed()
    parent = ca.parsed()
    assert child.issuer_der != parent.subject_der
    assert names_match(child.issuer_der, parent.subject_der)
    assert name_key(child.issuer_der) == name_key(parent.subject_der)
    assert verify_issued_by(child, parent)
    other = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "Chain CA 2")])
    unrelated = certgen.make_cert("x", issuer=ca, ca=False, issuer_name=other).parsed()
    assert not verify_issued_by(unrelated, parent)


def test_cross_sign_key_groups_same_subject_and_key() -> None:
    r1, r2 = certgen.root("R1"), certgen.root("R2")
    inter = certgen.intermediate("I", r1)
    inter_x = certgen.cross_sign(inter, r2)
    a, b = inter.parsed(), inter_x.parsed()
    assert a.sha256 != b.sha256
    assert cross_sign_key(a) == cross_sign_key(b)
    assert cross_sign_key(a) == hashlib.sha256(a.subject_der + a.spki_der).hexdigest().upper()
    rekeyed = certgen.intermediate("I", r1).parsed()
    assert cross_sign_key(rekeyed) != cross_sign_key(a)


# ---------------------------------------------------------------------------
# Fingerprints
# ---------------------------------------------------------------------------

def test_fingerprint_normalize() -> None:
    want = "EBD41040E4BB3EC742C9E381D31EF2A41A48B6685C96E7CEF3C1DF6CD4331C99"
    assert fingerprint_normalize(want.lower()) == want
    colons = ":".join(want[i:i + 2] for i in range(0, 64, 2))
    assert fingerprint_normalize(colons) == want
    assert fingerprint_normalize(" ".join(want[i:i + 8] for i in range(0, 64, 8))) == want
    for bad in (want[:-1], want + "0", want[:-1] + "G", ""):
        with pytest.raises(CertificateError, match="not 64 hex digits"):
            fingerprint_normalize(bad)
    assert sha1_fingerprint_normalize("b1:bc:96:8b:d4:f4:9d:62:2a:a8:9a:81:f2:15:01:52:a4:1d:82:9c") == (
        "B1BC968BD4F49D622AA89A81F2150152A41D829C"
    )
    with pytest.raises(CertificateError, match="not 40 hex digits"):
        sha1_fingerprint_normalize(want)
