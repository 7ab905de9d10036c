"""OneCRL record encoding and parsing, proven on real OneCRL data (pure, no Django)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pki.onecrl import (
    OneCRLError,
    OneCRLRecord,
    parse_collection,
    parse_record,
    parse_revocations_txt,
    record_for,
    record_for_subject_key,
    record_id,
    serialize_collection,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "onecrl"
REVOKED = FIXTURES / "revoked_intermediates_2019-12"
DUMP = FIXTURES / "onecrl_kinto_dump_2019-11-05.json"
REVOCATIONS_TXT = FIXTURES / "firefox_cert_storage_revocations_2019-08.txt"
REAL_KEY_ORDER = ["schema", "details", "enabled", "issuerName", "serialNumber", "id", "last_modified"]


# --- a minimal DER walk of the TBSCertificate (exact bytes, never re-encoded) ---------

def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at pos."""
    tag, first = data[pos], data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    n = first & 0x7F
    length = int.from_bytes(data[pos + 2:pos + 2 + n], "big")
    return tag, pos + 2 + n, pos + 2 + n + length


def issuer_and_serial(der: bytes) -> tuple[bytes, bytes]:
    """Issuer Name bytes and serial content octets, sliced out of the certificate's own DER."""
    tag, pos, _ = _tlv(der, 0)  # Certificate
    assert tag == 0x30
    tag, pos, _ = _tlv(der, pos)  # TBSCertificate
    assert tag == 0x30
    tag, _, end = _tlv(der, pos)
    if tag == 0xA0:  # explicit [0] version
        pos = end
    tag, start, end = _tlv(der, pos)
    assert tag == 0x02, "serialNumber must be an INTEGER"
    serial_content = der[start:end]
    _, _, pos = _tlv(der, end)  # skip the signature AlgorithmIdentifier
    tag, _, end = _tlv(der, pos)
    assert tag == 0x30, "issuer must be a SEQUENCE"
    return der[pos:end], serial_content


def pem_to_der(pem: bytes) -> bytes:
    # cryptography refuses a few real certificates (invalid PrintableString), so the
    # PEM armour is removed here and the DER walked directly.
    body = pem.split(b"-----BEGIN CERTIFICATE-----")[1].split(b"-----END CERTIFICATE-----")[0]
    return base64.b64decode(b"".join(body.split()), validate=True)


@dataclass(frozen=True)
class Revoked:
    name: str
    der: bytes
    cert: x509.Certificate | None  # None where cryptography refuses the encoding
    kinto: dict


def load_revoked() -> list[Revoked]:
    out = []
    for folder in sorted(p for p in REVOKED.iterdir() if p.is_dir()):
        pem = (folder / "cert.pem").read_bytes()
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError:
            cert = None
        out.append(Revoked(folder.name, pem_to_der(pem), cert, json.loads((folder / "kinto.json").read_text())))
    return out


@pytest.fixture(scope="module")
def revoked() -> list[Revoked]:
    return load_revoked()


@pytest.fixture(scope="module")
def sample(revoked) -> Revoked:
    return next(r for r in revoked if r.cert is not None)


@pytest.fixture(scope="module")
def dump_text() -> str:
    return DUMP.read_text()


def make(issuer_der: bytes, serial: bytes, **kw):
    args = dict(bug="1234567", who="staff@example.test", why="key compromise", name="Example CA",
                created=date(2025, 1, 31))
    args.update(kw)
    return record_for(issuer_der=issuer_der, serial_content=serial, **args)


# --- the key proof: real certificates give their real records -------------------------

def test_all_317_revoked_intermediates_are_named_by_their_sha256(revoked):
    assert len(revoked) == 317
    for r in revoked:
        assert hashlib.sha256(r.der).hexdigest().upper() == r.name
        if r.cert is not None:
            assert r.cert.public_bytes(Encoding.DER) == r.der


def test_generated_record_matches_the_real_record_of_every_revoked_intermediate(revoked):
    mismatches = []
    for r in revoked:
        issuer_der, serial = issuer_and_serial(r.der)
        if r.cert is not None:
            assert int.from_bytes(serial, "big", signed=True) == r.cert.serial_number, r.name
            assert r.cert.tbs_certificate_bytes in r.der
        made = make(issuer_der, serial)
        if (made["issuerName"], made["serialNumber"]) != (r.kinto["issuerName"], r.kinto["serialNumber"]):
            mismatches.append(r.name)
    assert mismatches == []
    # cryptography refuses only a handful (invalid characters in a PrintableString);
    # the DER walk still gives their exact records above.
    assert 0 < sum(r.cert is None for r in revoked) <= 5


def test_issuer_rebuilt_from_its_attribute_values_would_miss_the_real_record(revoked):
    # A Name rebuilt from stored attribute values re-encodes the strings (UTF8String
    # for PrintableString, ...); OneCRL matches on the certificate's own bytes.
    def rebuilt(name: x509.Name) -> bytes:
        return x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(a.oid, a.value) for a in rdn])
                          for rdn in name.rdns]).public_bytes()

    loadable = [r for r in revoked if r.cert is not None]
    differs = [r for r in loadable if rebuilt(r.cert.issuer) != issuer_and_serial(r.der)[0]]
    assert len(differs) > len(loadable) / 2
    for r in differs:
        assert base64.b64encode(rebuilt(r.cert.issuer)).decode() != r.kinto["issuerName"]


def test_serial_with_high_bit_set_keeps_its_leading_zero_byte(revoked):
    padded = [r.kinto for r in revoked if issuer_and_serial(r.der)[1][0] == 0]
    assert padded and all(base64.b64decode(k["serialNumber"])[0] == 0 for k in padded)
    assert all(base64.b64decode(k["serialNumber"])[1] >= 0x80 for k in padded)


def test_generated_record_has_the_real_key_order_and_types(sample):
    real = sample.kinto
    issuer_der, serial = issuer_and_serial(sample.der)
    made = make(issuer_der, serial, id=real["id"], schema=real["schema"], last_modified=1572997851898)
    assert list(made) == REAL_KEY_ORDER
    assert list(made["details"]) == list(real["details"])
    assert made["details"] == {"bug": "https://bugzilla.mozilla.org/show_bug.cgi?id=1234567",
                               "who": "staff@example.test", "why": "key compromise", "name": "Example CA",
                               "created": "2025-01-31T00:00:00Z"}
    assert {k: type(v) for k, v in made.items()} == {
        "schema": int, "details": dict, "enabled": bool, "issuerName": str, "serialNumber": str, "id": str,
        "last_modified": int}


def test_unpublished_record_gets_a_stable_id_and_no_server_fields(sample):
    issuer_der, serial = issuer_and_serial(sample.der)
    first, again = make(issuer_der, serial), make(issuer_der, serial, why="other words")
    assert list(first) == ["details", "enabled", "issuerName", "serialNumber", "id"]
    assert first["id"] == again["id"] == record_id((issuer_der, serial))
    assert make(issuer_der, serial + b"\x01")["id"] != first["id"]


def test_created_accepts_aware_datetimes_and_refuses_naive_ones(sample):
    issuer_der, serial = issuer_and_serial(sample.der)
    paris = timezone(timedelta(hours=2))
    made = make(issuer_der, serial, created=datetime(2019, 8, 17, 21, 57, 48, tzinfo=paris))
    assert made["details"]["created"] == "2019-08-17T19:57:48Z"
    with pytest.raises(OneCRLError, match="naive datetime"):
        make(issuer_der, serial, created=datetime(2019, 8, 17, 21, 57, 48))


def test_record_for_rejects_bad_issuer_and_empty_serial(sample):
    issuer_der, serial = issuer_and_serial(sample.der)
    with pytest.raises(OneCRLError, match="issuer_der is not a DER Name"):
        make(issuer_der[:-1], serial)
    with pytest.raises(OneCRLError, match="issuer_der is not a DER Name"):
        make(b"\x02\x01\x05", serial)
    with pytest.raises(OneCRLError, match="serial_content is empty"):
        make(issuer_der, b"")


def test_subject_key_record_hashes_the_spki(sample):
    cert = sample.cert
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    subject = cert.subject.public_bytes()
    made = record_for_subject_key(subject_der=subject, spki_der=spki, bug="https://bugzilla.mozilla.org/1",
                                  who="w", why="y", name="n", created="")
    assert list(made) == ["details", "enabled", "subject", "pubKeyHash", "id"]
    assert base64.b64decode(made["pubKeyHash"]) == hashlib.sha256(spki).digest()
    [parsed] = parse_collection(json.dumps({"data": [made]}), source="made")
    assert parsed.key() == (subject, hashlib.sha256(spki).digest())


# --- parsing and serializing the collection ----------------------------------------------

def test_kinto_dump_parses_to_1092_records_with_decoded_keys(dump_text):
    records = parse_collection(dump_text, source=DUMP.name)
    assert len(records) == 1092
    assert sum(r.enabled for r in records) == 1074
    raw = json.loads(dump_text)["data"]
    for r, obj in zip(records, raw, strict=True):
        assert r.key() == (base64.b64decode(obj["issuerName"]), base64.b64decode(obj["serialNumber"]))
        assert r.id == obj["id"] and r.source == DUMP.name
    # Real quirk: a few certificates are listed more than once under different record ids.
    distinct = {(o["issuerName"], o["serialNumber"]) for o in raw}
    assert len({r.key() for r in records}) == len(distinct) < len(records)


def test_kinto_dump_round_trips_byte_for_byte(dump_text):
    records = parse_collection(dump_text, source=DUMP.name)
    out = serialize_collection(reversed(records))
    assert out == dump_text
    original = {(o["issuerName"], o["serialNumber"]) for o in json.loads(dump_text)["data"]}
    assert {(o["issuerName"], o["serialNumber"]) for o in json.loads(out)["data"]} == original


def test_every_revoked_intermediate_record_is_in_the_dump(revoked, dump_text):
    by_id = {r.id: r for r in parse_collection(dump_text, source=DUMP.name)}
    for r in revoked:
        single = parse_record(r.kinto, source=r.name)  # these files spell it "lastModified"
        assert single.last_modified == 0
        assert by_id[single.id].key() == single.key()


def test_serialize_puts_unpublished_records_first_and_rejects_duplicate_ids(sample, dump_text):
    published = parse_collection(dump_text, source=DUMP.name)[:3]
    new = make(*issuer_and_serial(sample.der))
    out = json.loads(serialize_collection([*published, new]))["data"]
    assert out[0] == new and [o["id"] for o in out[1:]] == [r.id for r in published]
    with pytest.raises(OneCRLError, match=f"record id {published[0].id!r} appears more than once"):
        serialize_collection([published[0], published[0]])


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda r: r.update(issuerName="not base64!"), "issuerName 'not base64!' is not valid base64"),
    (lambda r: r.update(serialNumber="QUJD="), "serialNumber 'QUJD=' is not valid base64"),
    (lambda r: r.pop("serialNumber"), "lacks 'serialNumber'"),
    (lambda r: r.pop("enabled"), "missing 'enabled'"),
    (lambda r: r["details"].pop("why"), "details lacks string field"),
    (lambda r: r.update(enabled="yes"), "enabled must be true or false"),
    (lambda r: r.update(last_modified="1"), "last_modified must be an integer"),
    (lambda r: (r.pop("issuerName"), r.pop("serialNumber")), "neither issuerName/serialNumber"),
    (lambda r: r.update(issuerName=base64.b64encode(b"\x30\x05\x01").decode()), "issuerName is not a DER Name"),
])
def test_bad_record_raises_naming_source_and_record_id(dump_text, mutate, message):
    doc = json.loads(dump_text)
    doc["data"] = doc["data"][:3]
    victim = doc["data"][1]
    mutate(victim)
    with pytest.raises(OneCRLError) as err:
        parse_collection(json.dumps(doc), source="dump.json")
    assert f"dump.json: record {victim['id']!r}" in str(err.value) and message in str(err.value)


def test_record_without_id_and_non_collection_are_rejected():
    with pytest.raises(OneCRLError, match=r"x.json: record #0: missing or empty 'id'"):
        parse_collection('{"data": [{"enabled": true}]}', source="x.json")
    with pytest.raises(OneCRLError, match="x.json: not JSON"):
        parse_collection("{", source="x.json")
    with pytest.raises(OneCRLError, match="'data' list"):
        parse_collection('{"records": []}', source="x.json")


# --- revocations.txt ----------------------------------------------------------------

def test_revocations_txt_parses_every_serial_under_its_issuer():
    text = REVOCATIONS_TXT.read_text()
    records = parse_revocations_txt(text, source=REVOCATIONS_TXT.name)
    serial_lines = [line for line in text.splitlines() if line.startswith(" ")]
    assert len(records) == len(serial_lines) == 985
    assert all(r.by_issuer_serial and r.id is None for r in records)
    assert len({r.issuer_der for r in records}) == 214
    first = records[0]
    assert b"SecureSign RootCA11" in first.issuer_der and first.serial_content == b"\x03"


def test_revocations_txt_and_the_later_kinto_dump_mostly_agree(dump_text):
    txt = {r.key() for r in parse_revocations_txt(REVOCATIONS_TXT.read_text(), source="revocations.txt")}
    dump = {r.key() for r in parse_collection(dump_text, source=DUMP.name)}
    # Three months apart: the dump may only have grown, and by less than a tenth.
    assert txt <= dump and len(dump - txt) < len(dump) / 10


def test_revocations_txt_reads_subject_and_key_hash_entries(sample):
    cert = sample.cert
    subject = base64.b64encode(cert.subject.public_bytes()).decode()
    key_hash = base64.b64encode(hashlib.sha256(b"spki").digest()).decode()
    [r] = parse_revocations_txt(f"# comment\n{subject}\n\t{key_hash}\n", source="t")
    assert not r.by_issuer_serial and r.key() == (cert.subject.public_bytes(), hashlib.sha256(b"spki").digest())


@pytest.mark.parametrize(("text", "message"), [
    (" Aw==\n", "t: line 1: indented entry before any issuer"),
    ("MAA=\n Aw==\n\tAAAA\n", "t: line 3: mixes serial and key-hash entries under the name on line 1"),
    ("MAA=\n not-base64\n", "t: line 2: serial 'not-base64' is not valid base64"),
    ("QUJD\n Aw==\n", "t: line 1: issuer/subject is not a DER Name"),
    ("MAA=\n\tAw==\n", "t: line 2: pubKeyHash is 1 bytes"),
])
def test_bad_revocations_txt_raises_naming_the_line(text, message):
    with pytest.raises(OneCRLError, match=message):
        parse_revocations_txt(text, source="t")


def test_revocation_entries_without_ids_cannot_be_published():
    [r] = parse_revocations_txt("MAA=\n Aw==\n", source="t")
    assert isinstance(r, OneCRLRecord)
    with pytest.raises(OneCRLError, match="has no id"):
        serialize_collection([r])
