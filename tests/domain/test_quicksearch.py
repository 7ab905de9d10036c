"""Bugzilla quicksearch text read into parts (compliance.domain.quicksearch, pure)."""

from __future__ import annotations

from compliance.domain.quicksearch import FieldTerm, Term, fts5_text, parse, websearch_text

STATUSES = ["UNCONFIRMED", "NEW", "ASSIGNED", "REOPENED", "RESOLVED"]


def p(text):
    return parse(text, statuses=STATUSES)


def test_bug_numbers_alone_name_those_bugs():
    assert p("123").bug_numbers == (123,)
    assert p(" #123 ").bug_numbers == (123,)
    assert p("12, #34,12").bug_numbers == (12, 34)
    assert p("123 revocation").bug_numbers == ()  # a number among words is a word
    assert p("99999999999").bug_numbers == ()  # past any bug number: text


def test_words_phrases_and_exclusions():
    q = p('DigiCert "delayed revocation" -ocsp -"key compromise"')
    assert q.terms == (Term("DigiCert"), Term("delayed revocation", phrase=True), Term("ocsp", negated=True),
                       Term("key compromise", phrase=True, negated=True))
    assert q.positive_terms == (Term("DigiCert"), Term("delayed revocation", phrase=True))
    assert p('"unclosed phrase').terms == (Term("unclosed phrase", phrase=True),)
    assert p("- && ,").terms == ()  # nothing to search for


def test_status_prefixes():
    assert p("ALL ocsp").status_prefix == "ALL"
    assert p("OPEN ocsp").status_prefix == "OPEN"
    q = p("NEW,ASSIGNED ocsp")
    assert (q.status_prefix, q.statuses, q.terms) == ("LIST", ("NEW", "ASSIGNED"), (Term("ocsp"),))
    assert p("all ocsp").status_prefix is None  # Bugzilla's prefixes are upper case
    assert p("OCSP failure").status_prefix is None
    assert p("ocsp ALL").terms == (Term("ocsp"), Term("ALL"))


def test_field_prefixes_bugzilla_users_type():
    q = p('product:CA component:security whiteboard:crl,ocsp status:NEW assignee:alice reporter:bob -sw:meta '
          'assigned_to:"carol x" summary:late')
    assert q.fields == (
        FieldTerm("product", ("CA",)), FieldTerm("component", ("security",)), FieldTerm("whiteboard", ("crl", "ocsp")),
        FieldTerm("status", ("NEW",)), FieldTerm("assignee", ("alice",)), FieldTerm("reporter", ("bob",)),
        FieldTerm("whiteboard", ("meta",), negated=True), FieldTerm("assignee", ("carol x",)),
        FieldTerm("summary", ("late",)),
    )
    assert q.terms == ()
    # An unknown prefix is text (a URL, a note): nothing is dropped.
    assert p("https://crt.sh/?id=1").terms == (Term("https://crt.sh/?id=1"),)


def test_engine_query_texts_quote_every_term():
    terms = [Term("or"), Term('say "hi"'), Term("a-b")]
    assert websearch_text(terms) == '"or" "say  hi " "a-b"'
    assert websearch_text(terms, join="or") == '"or" or "say  hi " or "a-b"'
    assert fts5_text(terms, ["title", "body"]) == '{title body} : ("or" AND "say ""hi""" AND "a-b")'
    assert fts5_text(terms[:1], ["title"], join="or") == '{title} : ("or")'
