"""NSS certdata.txt: parsing, byte-for-byte round trip, rendering new blocks in NSS's style."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from pki import certdata
from pki.certdata import CertdataError
from pki.x509 import load_der
from tests.registry.registry_data import V2_86

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NSS = FIXTURES / "nss"
V2_80 = NSS / "certdata_v2.80_2025-06-08.txt"
V2_54 = NSS / "certdata_v2.54_2022-03-23.txt"
V2_18 = NSS / "certdata_v2.18_2017-11-16.txt"
ALL_RELEASES = [V2_18, V2_54, V2_80, V2_86]
TESTLIB = NSS / "testlib" / "certdata-testlib.txt"
DISTRUSTED_V2_18 = FIXTURES / "certs_distrusted_v2_18"

# Real roots with serial 0 make cryptography warn; the warning says nothing about certdata.
pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")


_cache: dict[Path, certdata.CertdataFile] = {}


def parsed(path: Path) -> certdata.CertdataFile:
    if path not in _cache:
        _cache[path] = certdata.parse(path.read_bytes(), source=path.name)
    return _cache[path]


def by_label(file: certdata.CertdataFile, label: str, cls: str) -> certdata.CertdataObject:
    matches = [obj for obj in file.objects if obj.label == label and obj.cls == cls]
    assert len(matches) == 1, (label, cls, len(matches))
    return matches[0]


def small_file() -> str:
    """A real two-object file: v2.86's header, its root-list object and GlobalSign Root CA."""
    file = parsed(V2_86)
    return file.header + file.objects[0].raw + file.objects[1].raw


# --------------------------------------------------------------------------
# Round trip and structure


@pytest.mark.parametrize("path", ALL_RELEASES, ids=lambda p: p.name)
def test_header_objects_and_trailer_reassemble_the_file_byte_for_byte(path: Path) -> None:
    data = path.read_bytes()
    file = certdata.parse(data, source=path.name)
    rebuilt = file.header + "".join(obj.raw for obj in file.objects) + file.trailer
    assert rebuilt.encode("utf-8") == data
    assert file.text() == data.decode("utf-8")


@pytest.mark.parametrize(
    ("path", "certificates", "trust"),
    [(V2_86, 167, 167), (V2_80, 181, 181), (V2_54, 152, 156), (V2_18, 173, 182)],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_object_counts_match_the_release(path: Path, certificates: int, trust: int) -> None:
    counts = Counter(obj.cls for obj in parsed(path).objects)
    assert counts == {"CKO_CERTIFICATE": certificates, "CKO_NSS_TRUST": trust, "CKO_NSS_BUILTIN_ROOT_LIST": 1}


def test_str_and_bytes_input_parse_alike() -> None:
    text = V2_86.read_text(encoding="utf-8")
    from_text = certdata.parse(text, source="v2.86")
    assert [obj.raw for obj in from_text.objects] == [obj.raw for obj in parsed(V2_86).objects]


def test_header_runs_through_begindata_and_objects_carry_their_leading_comments() -> None:
    file = parsed(V2_86)
    assert file.header.endswith("BEGINDATA\n")
    assert "This Source Code Form" in file.header
    assert file.objects[0].cls == "CKO_NSS_BUILTIN_ROOT_LIST"
    assert file.objects[0].label == "Mozilla Builtin Roots"
    assert file.objects[0].raw.startswith("CKA_CLASS CK_OBJECT_CLASS CKO_NSS_BUILTIN_ROOT_LIST\n")
    globalsign = file.objects[1]
    assert globalsign.raw.startswith('\n#\n# Certificate "GlobalSign Root CA"\n#\n# Issuer: CN=GlobalSign Root CA,')
    assert globalsign.raw.endswith("CKA_NSS_EMAIL_DISTRUST_AFTER CK_BBOOL CK_FALSE\n")
    assert file.objects[2].raw.startswith('\n# Trust for "GlobalSign Root CA"\n')
    assert file.trailer == ""


def test_object_line_numbers_point_at_their_cka_class_line() -> None:
    lines = V2_86.read_text(encoding="utf-8").splitlines()
    for obj in parsed(V2_86).objects:
        assert lines[obj.line - 1] == f"CKA_CLASS CK_OBJECT_CLASS {obj.cls}"


def test_comment_inside_an_object_stays_in_that_objects_raw() -> None:
    file = parsed(V2_86)
    distrusted = [obj for obj in file.certificates if obj.server_distrust_after is not None]
    assert distrusted
    for obj in distrusted:
        assert "# For Server Distrust After: " in obj.raw
        assert obj.raw.index("# For Server Distrust After") > obj.raw.index("CKA_CLASS")


# --------------------------------------------------------------------------
# Typed accessors


def test_certificate_accessors_decode_octal_and_agree_with_the_der() -> None:
    file = parsed(V2_86)
    for obj in file.certificates:
        cert = cx509.load_der_x509_certificate(obj.value)
        assert obj.subject == cert.subject.public_bytes()
        assert obj.issuer == cert.issuer.public_bytes()
        assert obj.serial[0] == 0x02
        assert int.from_bytes(obj.serial[2:], "big", signed=True) == cert.serial_number
        assert obj.mozilla_ca_policy is True
        assert obj.attributes["CKA_CERTIFICATE_TYPE"] == ("CK_CERTIFICATE_TYPE", "CKC_X_509")
        assert obj.attributes["CKA_TOKEN"] == ("CK_BBOOL", True)
        assert obj.attributes["CKA_PRIVATE"] == ("CK_BBOOL", False)


def test_every_v2_86_certificate_has_a_trust_object_whose_hashes_match_its_der() -> None:
    file = parsed(V2_86)
    for obj in file.certificates:
        trust = file.trust_for(obj)
        assert trust is not None, obj.label
        cert = cx509.load_der_x509_certificate(obj.value)
        assert trust.sha1 == cert.fingerprint(hashes.SHA1())
        assert trust.md5 == cert.fingerprint(hashes.MD5())
        assert trust.label == obj.label
        assert trust.trust_server_auth in certdata.TRUST_VALUES
        assert trust.step_up is False


def test_trust_values_are_read_per_purpose() -> None:
    file = parsed(V2_86)
    oiste = by_label(file, "OISTE Server Root RSA G1", "CKO_NSS_TRUST")
    assert oiste.trust_server_auth == "CKT_NSS_TRUSTED_DELEGATOR"
    assert oiste.trust_email_protection == "CKT_NSS_MUST_VERIFY_TRUST"
    assert oiste.trust_code_signing == "CKT_NSS_MUST_VERIFY_TRUST"
    assert not oiste.is_distrust
    # The 1998 GlobalSign root kept only its e-mail trust in v2.86.
    globalsign = by_label(file, "GlobalSign Root CA", "CKO_NSS_TRUST")
    assert (globalsign.trust_server_auth, globalsign.trust_email_protection) == (
        "CKT_NSS_MUST_VERIFY_TRUST",
        "CKT_NSS_TRUSTED_DELEGATOR",
    )
    counts = Counter(obj.trust_server_auth for obj in file.trust_objects)
    assert counts == {"CKT_NSS_TRUSTED_DELEGATOR": 167 - 46, "CKT_NSS_MUST_VERIFY_TRUST": 46}


def test_utf8_labels_are_decoded_both_written_raw_and_as_c_hex_escapes() -> None:
    assert by_label(parsed(V2_86), "NetLock Arany (Class Gold) Főtanúsítvány", "CKO_CERTIFICATE")
    escaped = [obj for obj in parsed(V2_18).objects if "\\xC3\\xAD" in obj.raw]
    assert escaped
    assert {obj.label for obj in escaped} == {"AC Raíz Certicámara S.A."}


def test_entrust_server_distrust_after_is_a_timezone_aware_datetime() -> None:
    file = parsed(V2_86)
    entrust = [obj for obj in file.certificates if obj.server_distrust_after is not None and "Entrust" in obj.label]
    assert len(entrust) == 4
    for obj in entrust:
        assert obj.server_distrust_after == datetime(2024, 11, 30, 23, 59, 59, tzinfo=UTC)
        assert obj.email_distrust_after is None


def test_v2_86_has_six_server_distrust_after_one_on_the_izenpe_trust_object_only() -> None:
    file = parsed(V2_86)
    with_date = [obj for obj in file.objects if obj.server_distrust_after is not None]
    assert len(with_date) == 6
    izenpe = [obj for obj in with_date if obj.label == "Izenpe.com"]
    assert [obj.cls for obj in izenpe] == ["CKO_NSS_TRUST"]
    assert izenpe[0].server_distrust_after == datetime(2026, 4, 15, 23, 59, 59, tzinfo=UTC)
    assert by_label(file, "Izenpe.com", "CKO_CERTIFICATE").server_distrust_after is None


def test_v2_80_carries_ten_server_and_one_email_distrust_after() -> None:
    file = parsed(V2_80)
    assert sum(obj.server_distrust_after is not None for obj in file.objects) == 10
    assert sum(obj.email_distrust_after is not None for obj in file.objects) == 1


def test_v2_18_has_28_not_trusted_entries_nine_of_them_trust_only() -> None:
    file = parsed(V2_18)
    distrust = [obj for obj in file.trust_objects if obj.is_distrust]
    assert len(distrust) == 28
    trust_only = [obj for obj in distrust if not file.find(issuer=obj.issuer, serial=obj.serial, cls="CKO_CERTIFICATE")]
    assert len(trust_only) == 9
    assert all(obj.sha1 is None and obj.md5 is None for obj in trust_only if "Egypt" in obj.label)


def test_v2_54_has_six_not_trusted_entries_four_without_a_certificate() -> None:
    file = parsed(V2_54)
    distrust = [obj for obj in file.trust_objects if obj.is_distrust]
    assert len(distrust) == 6
    without_cert = [obj for obj in distrust if not file.find(issuer=obj.issuer, serial=obj.serial, cls="CKO_CERTIFICATE")]
    assert len(without_cert) == 4


# --------------------------------------------------------------------------
# NSS's testlib


def test_testlib_fails_to_parse_naming_the_file_the_err_distrust_object_and_the_line() -> None:
    with pytest.raises(CertdataError) as caught:
        certdata.parse(TESTLIB.read_bytes(), source="certdata-testlib.txt")
    message = str(caught.value)
    assert "certdata-testlib.txt" in message
    assert "Distrust Fields Test - err_distrust" in message
    assert "CKA_NSS_SERVER_DISTRUST_AFTER, line 437" in message
    assert "CK_TRUE where a date belongs" in message


def test_testlib_read_without_validation_exposes_each_distrust_case() -> None:
    file = certdata.parse(TESTLIB.read_bytes(), source="certdata-testlib.txt", validate=False)
    assert file.text().encode() == TESTLIB.read_bytes()
    no = by_label(file, "Distrust Fields Test - no_distrust", "CKO_CERTIFICATE")
    ok = by_label(file, "Distrust Fields Test - ok_distrust", "CKO_CERTIFICATE")
    err = by_label(file, "Distrust Fields Test - err_distrust", "CKO_CERTIFICATE")
    assert no.server_distrust_after is None and no.email_distrust_after is None
    no.validate()
    ok.validate()
    assert ok.server_distrust_after == datetime(2020, 6, 17, 0, 0, 0, tzinfo=UTC)
    assert ok.email_distrust_after == datetime(2007, 10, 14, 8, 53, 20, tzinfo=UTC)
    with pytest.raises(CertdataError, match=r"err_distrust.*CKA_NSS_SERVER_DISTRUST_AFTER.*CK_TRUE"):
        _ = err.server_distrust_after
    with pytest.raises(CertdataError, match=r"err_distrust.*CKA_NSS_EMAIL_DISTRUST_AFTER, line 439.*got 12.*'Z' is missing"):
        _ = err.email_distrust_after
    for obj in file.trust_objects:
        obj.validate()


@pytest.mark.parametrize("name", ["no_distrust", "ok_distrust", "err_distrust"])
def test_testlib_pem_certificates_are_the_ones_its_certdata_carries(name: str) -> None:
    pem = (NSS / "testlib" / f"testcert_{name}.txt").read_bytes()
    cert = cx509.load_pem_x509_certificate(pem)
    file = certdata.parse(TESTLIB.read_bytes(), source="certdata-testlib.txt", validate=False)
    obj = by_label(file, f"Distrust Fields Test - {name}", "CKO_CERTIFICATE")
    assert obj.value == cert.public_bytes(Encoding.DER)
    assert file.trust_for(obj).sha1 == cert.fingerprint(hashes.SHA1())


# --------------------------------------------------------------------------
# Malformed input


def assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, (part, message)


def test_unterminated_multiline_octal_at_end_of_file_is_an_error() -> None:
    text = small_file()
    cut = text.rindex("END\nCKA_NSS_MOZILLA_CA_POLICY")
    with pytest.raises(CertdataError) as caught:
        certdata.parse(text[:cut], source="cut.txt")
    assert_names(str(caught.value), "cut.txt", "GlobalSign Root CA", "CKA_VALUE", "not terminated by END (end of file)")


def test_multiline_octal_running_into_the_next_attribute_is_an_error() -> None:
    text = small_file()
    serial_end = text.index("\\002\\013\\004\\000\\000\\000\\000\\001\\025\\113\\132\\303\\224\nEND\n")
    broken = text[:serial_end] + "\\002\\013\n" + text[text.index("CKA_VALUE", serial_end) :]
    with pytest.raises(CertdataError) as caught:
        certdata.parse(broken, source="noend.txt")
    assert_names(str(caught.value), "noend.txt", "GlobalSign Root CA", "CKA_SERIAL_NUMBER", "not terminated by END before line")


@pytest.mark.parametrize("escape", ["\\08", "\\400", "\\9", "x\\060", "\\060 "])
def test_bad_octal_escape_is_an_error_naming_the_line(escape: str) -> None:
    text = small_file().replace("\\002\\013\\004\\000", f"\\002{escape}\\004\\000", 1)
    lines = text.splitlines()
    bad_line = next(i for i, line in enumerate(lines, start=1) if escape in line)
    with pytest.raises(CertdataError) as caught:
        certdata.parse(text, source="octal.txt")
    assert_names(str(caught.value), "octal.txt", "GlobalSign Root CA", f"line {bad_line}", "bad octal escape")


def test_unknown_attribute_type_is_an_error() -> None:
    text = small_file().replace('CKA_ID UTF8 "0"', 'CKA_ID ASCII7 "0"', 1)
    with pytest.raises(CertdataError) as caught:
        certdata.parse(text, source="type.txt")
    assert_names(str(caught.value), "type.txt", "GlobalSign Root CA", "CKA_ID", "unknown type 'ASCII7'")


def test_file_without_objects_is_an_error() -> None:
    header = parsed(V2_86).header
    with pytest.raises(CertdataError, match=r"empty\.txt: no objects"):
        certdata.parse(header + "\n# nothing here\n", source="empty.txt")


def test_file_without_begindata_is_an_error() -> None:
    with pytest.raises(CertdataError, match=r"nobegin\.txt: no BEGINDATA"):
        certdata.parse(small_file().replace("BEGINDATA\n", ""), source="nobegin.txt")


def test_attribute_before_any_cka_class_is_an_error() -> None:
    with pytest.raises(CertdataError, match=r"orphan\.txt: line \d+: attribute CKA_TOKEN before any CKA_CLASS"):
        certdata.parse("BEGINDATA\nCKA_TOKEN CK_BBOOL CK_TRUE\n", source="orphan.txt")


def test_bad_boolean_and_repeated_attribute_and_stray_text_are_errors() -> None:
    cases = {
        "CKA_PRIVATE CK_BBOOL CK_FALSE": ("CKA_PRIVATE CK_BBOOL MAYBE", "must be CK_TRUE or CK_FALSE"),
        'CKA_ID UTF8 "0"': ('CKA_ID UTF8 "0"\nCKA_ID UTF8 "1"', "CKA_ID repeated"),
        "CKA_MODIFIABLE CK_BBOOL CK_FALSE\nCKA_LABEL UTF8 \"GlobalSign Root CA\"": (
            "CKA_MODIFIABLE CK_BBOOL CK_FALSE\nstray text\nCKA_LABEL UTF8 \"GlobalSign Root CA\"",
            "expected an attribute line",
        ),
    }
    for old, (new, expected) in cases.items():
        head, sep, tail = small_file().rpartition(old)
        with pytest.raises(CertdataError) as caught:
            certdata.parse(head + new + tail, source="bad.txt")
        assert_names(str(caught.value), "bad.txt", "GlobalSign Root CA", expected)


def test_truncated_serial_is_reported_as_not_a_der_integer() -> None:
    text = small_file().replace("\\002\\013\\004\\000\\000\\000\\000\\001\\025\\113\\132\\303\\224\nEND", "\\002\\013\\004\\000\nEND", 1)
    with pytest.raises(CertdataError) as caught:
        certdata.parse(text, source="serial.txt")
    assert_names(str(caught.value), "serial.txt", "GlobalSign Root CA", "CKA_SERIAL_NUMBER", "does not match")


def test_invalid_utf8_bytes_are_an_error_with_the_line() -> None:
    data = small_file().encode().replace(b'"GlobalSign Root CA"', b'"Global\xffSign"', 1)
    with pytest.raises(CertdataError, match=r"utf\.txt: line \d+: not UTF-8"):
        certdata.parse(data, source="utf.txt")


def test_certificate_without_value_fails_validation() -> None:
    text = small_file()
    start = text.index("CKA_VALUE MULTILINE_OCTAL")
    text = text[:start] + text[text.index("END\n", start) + 4 :]
    with pytest.raises(CertdataError) as caught:
        certdata.parse(text, source="novalue.txt")
    assert_names(str(caught.value), "novalue.txt", "GlobalSign Root CA", "lacks CKA_VALUE")


# --------------------------------------------------------------------------
# Encoding values


def test_encode_octal_wraps_sixteen_bytes_a_line_as_nss_does() -> None:
    file = parsed(V2_86)
    for obj in file.objects[1:20]:
        for name, (kind, value) in obj.attributes.items():
            if kind == "MULTILINE_OCTAL":
                expected = f"{name} MULTILINE_OCTAL\n{certdata.encode_octal(value)}END\n"
                assert expected in obj.raw
    assert certdata.encode_octal(bytes(range(17))).splitlines()[1] == "\\020"
    assert certdata.decode_octal(certdata.encode_octal(bytes(range(256)))) == bytes(range(256))


def test_distrust_after_encodes_exactly_as_the_real_entrust_entry() -> None:
    entrust = next(
        obj for obj in parsed(V2_86).certificates if "Entrust" in obj.label and obj.server_distrust_after is not None
    )
    body = certdata.encode_utctime_octal(datetime(2024, 11, 30, 23, 59, 59, tzinfo=UTC))
    assert body == "\\062\\064\\061\\061\\063\\060\\062\\063\\065\\071\\065\\071\\132\n"
    assert (
        "# For Server Distrust After: Sat Nov 30 23:59:59 2024\n"
        f"CKA_NSS_SERVER_DISTRUST_AFTER MULTILINE_OCTAL\n{body}END\n"
        "CKA_NSS_EMAIL_DISTRUST_AFTER CK_BBOOL CK_FALSE\n"
    ) in entrust.raw


def test_distrust_after_is_converted_to_utc_and_naive_dates_are_refused() -> None:
    paris = timezone(timedelta(hours=1))
    assert certdata.encode_utctime_octal(datetime(2024, 12, 1, 0, 59, 59, tzinfo=paris)) == certdata.encode_utctime_octal(
        datetime(2024, 11, 30, 23, 59, 59, tzinfo=UTC)
    )
    with pytest.raises(CertdataError, match="naive"):
        certdata.encode_utctime_octal(datetime(2024, 11, 30, 23, 59, 59))
    with pytest.raises(CertdataError, match="1950-2049"):
        certdata.encode_utctime_octal(datetime(2050, 1, 1, tzinfo=UTC))


def test_utctime_years_before_50_are_this_century() -> None:
    assert certdata.decode_utctime(b"491231235959Z").year == 2049
    assert certdata.decode_utctime(b"500101000000Z").year == 1950
    with pytest.raises(CertdataError, match="not a valid date"):
        certdata.decode_utctime(b"241331000000Z")


# --------------------------------------------------------------------------
# Timing


@pytest.mark.parametrize("path", ALL_RELEASES, ids=lambda p: p.name)
def test_parse_time_of_a_real_release_is_well_under_a_second(path: Path) -> None:
    data = path.read_bytes()
    started = time.perf_counter()
    certdata.parse(data, source=path.name)
    elapsed = time.perf_counter() - started
    print(f"parse {path.name}: {len(data)} bytes in {elapsed * 1000:.1f} ms")
    assert elapsed < 1.0


# --------------------------------------------------------------------------
# Rendering new blocks in NSS's current style


def _render_pair(file: certdata.CertdataFile, obj: certdata.CertdataObject, *, label: str | None):
    cert = load_der(obj.value, source=obj.label)
    trust = file.trust_for(obj)
    cert_block = certdata.render_certificate_object(
        cert,
        label=label,
        server_distrust_after=obj.server_distrust_after,
        email_distrust_after=obj.email_distrust_after,
    )
    trust_block = certdata.render_trust_for_certificate(
        cert,
        label=label,
        server=trust.trust_server_auth,
        email=trust.trust_email_protection,
        code=trust.trust_code_signing,
        step_up=trust.step_up,
        # Izenpe's date sits on its trust object only, so it is passed only where NSS put it.
        server_distrust_after=trust.server_distrust_after,
    )
    return cert, trust, cert_block, trust_block


def test_rendered_blocks_reproduce_nss_v2_86_byte_for_byte() -> None:
    file = parsed(V2_86)
    cert_mismatch, trust_mismatch = [], []
    for obj in file.certificates:
        _, trust, cert_block, trust_block = _render_pair(file, obj, label=obj.label)
        if cert_block != obj.raw:
            cert_mismatch.append(obj.label)
        if trust_block != trust.raw:
            trust_mismatch.append(trust.label)
    print(f"v2.86 with NSS labels: {167 - len(cert_mismatch)}/167 certificate blocks, {167 - len(trust_mismatch)}/167 trust blocks identical")
    # Entrust G4 is the one certificate NSS wrote without the two DISTRUST_AFTER lines.
    assert cert_mismatch == ["Entrust Root Certification Authority - G4"]
    assert trust_mismatch == []
    entrust_g4 = by_label(file, "Entrust Root Certification Authority - G4", "CKO_CERTIFICATE")
    assert "CKA_NSS_SERVER_DISTRUST_AFTER" not in entrust_g4.attributes


def test_labels_derived_from_the_certificate_match_nss_except_hand_picked_ones() -> None:
    file = parsed(V2_86)
    identical = 0
    renamed = {}
    for obj in file.certificates:
        cert, trust, cert_block, trust_block = _render_pair(file, obj, label=None)
        if cert.label != obj.label:
            renamed[obj.label] = cert.label
            assert cert_block != obj.raw
        elif cert_block == obj.raw and trust_block == trust.raw:
            identical += 1
    print(f"v2.86 with labels from the certificate: {identical}/167 certificate+trust pairs identical; {len(renamed)} labels hand-picked by NSS")
    assert renamed["Comodo AAA Services root"] == "AAA Certificate Services"
    assert renamed["GlobalSign Root CA - R3"] == "GlobalSign"
    assert identical == 167 - len(renamed) - 1  # minus Entrust G4 (see above)


def test_entrust_distrust_after_renders_as_in_v2_86() -> None:
    file = parsed(V2_86)
    entrust = next(obj for obj in file.certificates if obj.label == "Entrust Root Certification Authority")
    cert = load_der(entrust.value, source="entrust")
    when = datetime(2024, 11, 30, 23, 59, 59, tzinfo=UTC)
    block = certdata.render_certificate_object(cert, label=entrust.label, server_distrust_after=when)
    assert block == entrust.raw
    assert block.count("CKA_NSS_SERVER_DISTRUST_AFTER MULTILINE_OCTAL\n") == 1


def test_rendered_blocks_parse_back_to_the_same_values() -> None:
    obj = by_label(parsed(V2_86), "NetLock Arany (Class Gold) Főtanúsítvány", "CKO_CERTIFICATE")
    cert = load_der(obj.value, source="netlock")
    when = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = certdata.render_certificate_object(cert, label='Odd "quoted" \\ label', email_distrust_after=when)
    text += certdata.render_trust_for_certificate(
        cert, label='Odd "quoted" \\ label', server="CKT_NSS_NOT_TRUSTED", email="CKT_NSS_TRUSTED_DELEGATOR", code="CKT_NSS_MUST_VERIFY_TRUST"
    )
    back, trust = certdata.parse_objects(text, source="rendered")
    assert back.label == trust.label == 'Odd "quoted" \\ label'
    assert (back.value, back.issuer, back.serial, back.subject) == (cert.der, cert.issuer_der, cert.serial_der, cert.subject_der)
    assert back.email_distrust_after == when and back.server_distrust_after is None
    assert trust.sha1.hex().upper() == cert.sha1 and trust.md5.hex().upper() == cert.md5
    assert (trust.trust_server_auth, trust.trust_email_protection) == ("CKT_NSS_NOT_TRUSTED", "CKT_NSS_TRUSTED_DELEGATOR")


def distrusted_v2_18() -> list[Path]:
    paths = sorted(DISTRUSTED_V2_18.glob("*.der"))
    assert len(paths) == 19
    return paths


@pytest.mark.parametrize("path", distrusted_v2_18(), ids=lambda p: p.stem)
def test_distrust_entry_matches_certdata_v2_18_issuer_serial_and_trust_lines(path: Path) -> None:
    cert = load_der(path.read_bytes(), source=path.name)
    (generated,) = certdata.parse_objects(certdata.render_distrust_for_certificate(cert), source=path.name)
    (nss,) = parsed(V2_18).find(issuer=cert.issuer_der, serial=cert.serial_der, cls="CKO_NSS_TRUST")
    assert nss.is_distrust and generated.is_distrust
    for name in (
        "CKA_ISSUER",
        "CKA_SERIAL_NUMBER",
        "CKA_TRUST_SERVER_AUTH",
        "CKA_TRUST_EMAIL_PROTECTION",
        "CKA_TRUST_CODE_SIGNING",
        "CKA_TRUST_STEP_UP_APPROVED",
        "CKA_CERT_SHA1_HASH",
        "CKA_CERT_MD5_HASH",
    ):
        assert generated.attribute_text(name) == nss.attribute_text(name), name
        assert generated.attribute_text(name) is not None


def test_trust_only_distrust_entry_has_no_hashes_and_nss_title() -> None:
    cert = load_der((DISTRUSTED_V2_18 / "Explicitly_Distrusted_MCSHOLDING_CA.der").read_bytes(), source="mcs")
    block = certdata.render_distrust_trust_object(
        label="Explicitly Distrusted MCSHOLDING CA",
        issuer_der=cert.issuer_der,
        serial_der=cert.serial_der,
        bug=1143932,
    )
    assert block.startswith('\n# Explicitly Distrust "Explicitly Distrusted MCSHOLDING CA", Bug 1143932\nCKA_CLASS CK_OBJECT_CLASS CKO_NSS_TRUST\n')
    (obj,) = certdata.parse_objects(block, source="trust-only")
    assert obj.sha1 is None and obj.md5 is None and obj.is_distrust
    assert obj.issuer_serial == (cert.issuer_der, cert.serial_der)


def test_render_trust_object_refuses_bad_values() -> None:
    base = dict(label="x", issuer_der=b"\x30\x00", serial_der=b"\x02\x01\x01", sha1=None, md5=None,
                server="CKT_NSS_NOT_TRUSTED", email="CKT_NSS_NOT_TRUSTED", code="CKT_NSS_NOT_TRUSTED")
    certdata.render_trust_object(**base)
    for change, message in (
        ({"server": "CKT_NSS_MAYBE"}, "server='CKT_NSS_MAYBE'"),
        ({"serial_der": b"\x02\x05\x01"}, "serial_der"),
        ({"serial_der": b"\x04\x01\x01"}, "not a DER INTEGER"),
        ({"sha1": b"\x00" * 19}, "sha1 is 19 bytes"),
        ({"md5": b"\x00" * 20}, "md5 is 20 bytes"),
        ({"label": "two\nlines"}, "line break"),
    ):
        with pytest.raises(CertdataError, match=message):
            certdata.render_trust_object(**{**base, **change})


# --------------------------------------------------------------------------
# Editing a file and producing the diff for the NSS bug


def test_replacing_a_trust_object_changes_only_its_lines() -> None:
    file = parsed(V2_86)
    cert_obj = by_label(file, "OISTE Server Root RSA G1", "CKO_CERTIFICATE")
    cert = load_der(cert_obj.value, source="oiste")
    block = certdata.render_trust_for_certificate(
        cert, label=cert_obj.label, server="CKT_NSS_NOT_TRUSTED", email="CKT_NSS_NOT_TRUSTED", code="CKT_NSS_NOT_TRUSTED"
    )
    new_text = certdata.replace_or_append(file, block)
    new_file = certdata.parse(new_text, source="new")
    assert len(new_file.objects) == len(file.objects)
    assert new_file.trust_for(by_label(new_file, "OISTE Server Root RSA G1", "CKO_CERTIFICATE")).is_distrust
    diff = certdata.unified_diff(file.text(), new_text)
    assert diff.startswith("--- a/lib/ckfw/builtins/certdata.txt\n+++ b/lib/ckfw/builtins/certdata.txt\n@@ ")
    changed = [line for line in diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed == [
        "-CKA_TRUST_SERVER_AUTH CK_TRUST CKT_NSS_TRUSTED_DELEGATOR",
        "-CKA_TRUST_EMAIL_PROTECTION CK_TRUST CKT_NSS_MUST_VERIFY_TRUST",
        "-CKA_TRUST_CODE_SIGNING CK_TRUST CKT_NSS_MUST_VERIFY_TRUST",
        "+CKA_TRUST_SERVER_AUTH CK_TRUST CKT_NSS_NOT_TRUSTED",
        "+CKA_TRUST_EMAIL_PROTECTION CK_TRUST CKT_NSS_NOT_TRUSTED",
        "+CKA_TRUST_CODE_SIGNING CK_TRUST CKT_NSS_NOT_TRUSTED",
    ]


def test_new_blocks_are_appended_before_the_trailer_and_old_bytes_stay() -> None:
    file = parsed(V2_86)
    cert = load_der((DISTRUSTED_V2_18 / "Explicitly_Distrust_DigiNotar_Root_CA.der").read_bytes(), source="diginotar")
    cert_block = certdata.render_certificate_object(cert, label="Explicitly Distrust DigiNotar Root CA")
    trust_block = certdata.render_distrust_for_certificate(cert, label="Explicitly Distrust DigiNotar Root CA")
    new_text = certdata.replace_or_append(file, cert_block, trust_block)
    assert new_text == file.text() + cert_block + trust_block
    new_file = certdata.parse(new_text, source="new")
    assert len(new_file.certificates) == 168 and new_file.trust_objects[-1].is_distrust
    diff = certdata.unified_diff(file.text(), new_text)
    added = [line[1:] for line in diff.splitlines()[2:] if line.startswith("+")]
    assert "\n".join(added) + "\n" == cert_block + trust_block


def test_appending_a_second_copy_of_an_included_certificate_is_refused() -> None:
    file = parsed(V2_86)
    obj = by_label(file, "OISTE Server Root RSA G1", "CKO_CERTIFICATE")
    block = certdata.render_certificate_object(load_der(obj.value, source="oiste"))
    with pytest.raises(CertdataError, match="duplicates an existing certificate"):
        certdata.replace_or_append(file, block)


def test_a_malformed_new_block_is_refused_naming_it() -> None:
    file = parsed(V2_86)
    with pytest.raises(CertdataError, match="new block 1: no objects"):
        certdata.replace_or_append(file, "\n# only a comment\n")
    good = certdata.render_distrust_trust_object(label="x", issuer_der=b"\x30\x00", serial_der=b"\x02\x01\x01")
    with pytest.raises(CertdataError, match=r"new block 2: object 'x' at line 1: CKO_NSS_TRUST lacks CKA_ISSUER"):
        certdata.replace_or_append(file, good, 'CKA_CLASS CK_OBJECT_CLASS CKO_NSS_TRUST\nCKA_LABEL UTF8 "x"\n')
