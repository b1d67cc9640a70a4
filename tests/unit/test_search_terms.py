"""What a search query means (projections/search.py), whatever the engine: words, phrases, the last
word as a prefix, highlights in code points; and what an upload is, from its bytes."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidInput
from domain.uploads import Upload, UploadNotFound, normalize_filename
from infrastructure.file_types import sniff
from infrastructure.search_postgres import tsquery
from infrastructure.search_sqlite import SPAN, TIE_BITS, key, match_expression, token
from projections.search import Term, highlights, parse


def test_words_phrases_and_the_last_word_as_a_prefix() -> None:
    assert parse("Café MÜLLER").terms == (Term(("cafe",), False), Term(("muller",), True))
    assert parse('"new york" pizza').terms == (Term(("new", "york"), False), Term(("pizza",), True))
    assert parse('pizza "new york"').terms == (Term(("pizza",), False), Term(("new", "york"), False))
    assert parse('a AND b* -c NEAR(d) "e').terms[-1] == Term(("e",), True)  # operators are only separators


def test_queries_without_a_word_or_too_long_are_refused() -> None:
    for query in ("", "  ", '""', "* - ( ) : ^", "x" * 201):
        with pytest.raises(InvalidInput):
            parse(query)
    assert parse("é" * 200)


def test_engine_queries_hold_only_words() -> None:
    terms = parse('x" OR 1=1 -- "NEAR(a b)*')
    assert match_expression(terms) == '"x" AND "or 1 1" AND "near" AND "a" AND "b"*'
    sql, params = tsquery(parse("it's:* & !x"))
    assert params == ["it", "s", "x"] and "?" in sql and "!" not in sql


def test_highlights_are_code_point_spans_of_matched_words() -> None:
    body = "😀 Café au lait, CAFETERIA café-au-lait"
    assert highlights(body, parse('"cafe"')) == [(2, 6), (26, 30)]
    assert highlights(body, parse("cafe")) == [(2, 6), (16, 25), (26, 30)]
    assert highlights(body, parse('"au lait"')) == [(7, 9), (10, 14), (31, 33), (34, 38)]
    assert highlights(body, parse('"lait au"')) == []


def test_content_types_come_from_the_bytes() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff(b"GIF89a...") == "image/gif"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"%PDF-1.7") == "application/pdf"
    assert sniff("<svg><script>alert(1)</script></svg> é".encode()) == "text/plain; charset=utf-8"
    assert sniff(b"\x00\x01\x02binary") == "application/octet-stream"
    assert sniff(b"\xc3\x28 broken utf-8" * 3) == "application/octet-stream"


def test_an_upload_is_attachable_once_by_its_uploader_within_a_day() -> None:
    uploader = uuid4()
    upload = Upload(uploader, "a.txt", "text/plain", 1, "0" * 64, None, None, None)
    now = datetime.now(UTC)
    with pytest.raises(UploadNotFound):
        upload.check_attachable(uuid4(), now)
    with pytest.raises(UploadNotFound):
        upload.check_attachable(uploader, now + timedelta(hours=24))
    upload.check_attachable(uploader, now + timedelta(hours=23))
    upload.attach(uuid4(), uuid4(), 0)
    with pytest.raises(UploadNotFound):
        upload.check_attachable(uploader, now)


def test_filenames_lose_their_path_and_control_characters() -> None:
    assert normalize_filename("../../etc/passwd") == "passwd"
    assert normalize_filename("C:\\Users\\me\\cv.pdf") == "cv.pdf"
    assert normalize_filename(" a\x00b\x1b.txt ") == "ab.txt"
    assert normalize_filename("/") == "file"
    assert len(normalize_filename("x" * 300 + ".png")) == 255


def test_the_search_keys_from_id_strings_equal_those_of_parsed_uuids() -> None:
    """key() and token() read canonical id strings directly (no UUID per message): the same values."""
    for _ in range(2000):
        message, conversation = uuid4(), uuid4()
        at = "2026-12-05T17:40:00.123456+00:00"
        expected = (key(at, str(uuid4())) >> TIE_BITS << TIE_BITS) | (message.int & (SPAN - 1))
        assert key(at, str(message)) == expected
        assert token(str(conversation)) == conversation.hex
