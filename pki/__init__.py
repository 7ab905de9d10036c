"""Pure PKI code: no Django here (tests/architecture/test_layers.py imports it with Django hidden).

der (DER reader), errors, names (X.509 Names and NSS text), x509 (certificate fields and
signatures), certdata (NSS certdata.txt), onecrl (OneCRL records), paths (path search and trust).
"""
