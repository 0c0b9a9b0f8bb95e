"""Bad archives are refused with a clear ArchiveError, and the profile is left unchanged."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import uuid as uuid_module
import zipfile

import pytest
from archive_support import _node, node_count, small_archive, small_database, zip_archive

from provgraph.archive import Limits, import_archive, inspect_archive, validate_archive
from provgraph.archive.format import check_member_name
from provgraph.archive.zipio import iter_member
from provgraph.exceptions import ArchiveError
from provgraph.orm.backend import get_backend

CONTENT = b"file content of the small archive\n"
KEY = hashlib.sha256(CONTENT).hexdigest()


def _refused(path, match, **kwargs):
    before = node_count()
    with pytest.raises(ArchiveError, match=match):
        import_archive(path, **kwargs)
    assert node_count() == before
    assert get_backend().groups.list() == []


def _db(tmp_path, name="db.sqlite3"):
    path = tmp_path / name
    path.unlink(missing_ok=True)
    small_database(path, {KEY: CONTENT})
    return path


def _edit(db_path, *statements):
    connection = sqlite3.connect(db_path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return db_path


def test_valid_small_archive_imports_then_adds_nothing(sqlite_target, tmp_path):
    path = small_archive(tmp_path)
    assert validate_archive(path).format_version == 1
    report = import_archive(path)
    assert (report.nodes_new, report.links_new, report.groups_new, report.comments_new, report.logs_new) == \
        (4, 2, 1, 1, 1)
    again = import_archive(path)
    assert (again.nodes_new, again.links_new, again.group_members_new, again.comments_new, again.logs_new) == \
        (0, 0, 0, 0, 0)
    assert node_count() == 4


def test_truncated_archive(sqlite_target, tmp_path):
    data = small_archive(tmp_path).read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        (tmp_path / "cut.zip").write_bytes(data[:cut])
        _refused(tmp_path / "cut.zip", "corrupt or truncated|not a provgraph archive")


def test_not_a_zip_and_missing_file(sqlite_target, tmp_path):
    (tmp_path / "text.zip").write_text("just some text, not a zip at all\n" * 20)
    _refused(tmp_path / "text.zip", "corrupt or truncated")
    _refused(tmp_path / "absent.zip", "no archive file")


@pytest.mark.parametrize(("version", "match"), [
    (2, "newer than this provgraph reads.*upgrade"), (99, "newer"), (0, "unknown archive format version"),
    ("1", "unknown archive format version"), (None, "unknown archive format version"),
])
def test_unknown_or_newer_format_version(sqlite_target, tmp_path, version, match):
    meta = {"format_version": version, "created": "x", "provgraph_version": "9"}
    _refused(zip_archive(tmp_path / "v.zip", _db(tmp_path), {KEY: CONTENT}, metadata=meta), match)


def test_metadata_that_is_not_json(sqlite_target, tmp_path):
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(_db(tmp_path), "db.sqlite3")
        archive.writestr("repo/" + KEY, CONTENT)
        archive.writestr("metadata.json", b"{not json")
    _refused(path, "not valid JSON")


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "repo/../../x", "repo\\..\\x", "C:/x", "a//b"])
def test_member_path_escaping_the_target(sqlite_target, tmp_path, name):
    path = zip_archive(tmp_path / "escape.zip", _db(tmp_path), {KEY: CONTENT}, extra_members={name: b"x"})
    _refused(path, "unsafe member path|unexpected member")


def test_member_names_checked_directly():
    for name in ("../a", "/a", "a\\b", "repo/" + "0" * 64 + "/../x", "x\x00y"):
        with pytest.raises(ArchiveError, match="unsafe"):
            check_member_name(name)
    with pytest.raises(ArchiveError, match="unexpected member"):
        check_member_name("notes.txt")
    check_member_name("repo/" + KEY)


def test_unknown_member_and_duplicate_member(sqlite_target, tmp_path):
    _refused(zip_archive(tmp_path / "u.zip", _db(tmp_path), {KEY: CONTENT}, extra_members={"other.bin": b"1"}),
             "unexpected member")
    path = zip_archive(tmp_path / "d.zip", _db(tmp_path), {KEY: CONTENT})
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("repo/" + KEY, CONTENT)
    _refused(path, "appears twice")


def test_zip_bomb_by_ratio(sqlite_target, tmp_path):
    zeros = b"\0" * (20 * 1024 * 1024)
    key = hashlib.sha256(zeros).hexdigest()
    path = zip_archive(tmp_path / "bomb.zip", _db(tmp_path), {KEY: CONTENT, key: zeros})
    _refused(path, "zip bomb")


def test_absurd_member_size_and_count(sqlite_target, tmp_path):
    path = small_archive(tmp_path)
    _refused(path, "too large", limits=Limits(max_member_size=1000))
    _refused(path, "more than the limit", limits=Limits(max_members=2))
    _refused(path, "add up to more than", limits=Limits(max_total_size=1000))


def test_member_holding_more_than_it_declares():
    with pytest.raises(ArchiveError, match="more bytes than it declares"):
        list(iter_member(io.BytesIO(b"x" * 100), 10, "repo/x"))


def test_dangling_link(sqlite_target, tmp_path):
    db = _edit(_db(tmp_path), "INSERT INTO links (source, target, type, label) VALUES (3, 99, 'INPUT_CALC', 'y')")
    _refused(zip_archive(tmp_path / "dangling.zip", db, {KEY: CONTENT}), "dangling")


@pytest.mark.parametrize(("statement", "match"), [
    ("DELETE FROM nodes WHERE pk = 2", "dangling"),
    ("INSERT INTO group_nodes (group_pk, node_pk) VALUES (7, 55)", "dangling"),
    ("UPDATE comments SET node_pk = 42", "dangling"),
    ("INSERT INTO links (source, target, type, label) VALUES (1, 3, 'CREATE', 'bad')", "breaking a rule"),
    ("INSERT INTO links (source, target, type, label) VALUES (1, 2, 'TELEPORT', 'y')", "unknown type"),
    ("INSERT INTO links (source, target, type, label) VALUES (1, 2, 'INPUT_CALC', 'x')", "duplicate link labels"),
    ("UPDATE settings SET value = '999' WHERE key = 'schema_version'", "schema version 999"),
    ("UPDATE nodes SET extras = '{broken' WHERE pk = 1", "not a JSON object"),
    ("UPDATE nodes SET extras = '{\"a\": NaN}' WHERE pk = 1", "not a JSON object|not valid JSON"),
    ("UPDATE nodes SET extras = '{\"a\": 1, \"a\": 2}' WHERE pk = 1", None),
    ("UPDATE nodes SET extras = '[1]' WHERE pk = 1", "not a JSON object"),
    ("UPDATE groups SET time = 'soon'", "not an ISO time"),
    ("UPDATE nodes SET uuid = 'not-a-uuid' WHERE pk = 1", "not a uuid"),
    ("UPDATE nodes SET labels = '|Data|Int|' WHERE pk = 1", "malformed labels|breaking a rule"),
    ("UPDATE nodes SET ctime = 'yesterday' WHERE pk = 1", "not an ISO time"),
    ("UPDATE nodes SET user = 'nobody' WHERE pk = 1", "not an email"),
    ("DROP TABLE logs", "broken"),
])
def test_bad_database(sqlite_target, tmp_path, statement, match):
    db = _edit(_db(tmp_path), statement)
    path = zip_archive(tmp_path / "bad.zip", db, {KEY: CONTENT})
    if match is None:  # harmless oddity: a clean import
        assert import_archive(path).nodes_new == 4
        return
    _refused(path, match)


def test_database_that_is_not_sqlite(sqlite_target, tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 2\0" + b"\x13" * 5000)
    _refused(zip_archive(tmp_path / "g.zip", garbage, {}), "broken")


def test_missing_or_altered_object(sqlite_target, tmp_path):
    _refused(zip_archive(tmp_path / "missing.zip", _db(tmp_path), {}), "not in the archive")
    _refused(zip_archive(tmp_path / "altered.zip", _db(tmp_path), {KEY: b"other bytes"}), "sha256 mismatch")


def test_inspect_refuses_bad_archives_too(tmp_path):
    (tmp_path / "text.zip").write_text("nope")
    with pytest.raises(ArchiveError):
        inspect_archive(tmp_path / "text.zip")


def test_conflict_with_the_profile_undoes_the_whole_import(sqlite_target, tmp_path):
    """A new calculation claiming to have created a node the profile already has a creator for."""
    import_archive(small_archive(tmp_path))
    before = (node_count(), len(get_backend().groups.list()))
    db = tmp_path / "conflict.db"
    small_database(db, {KEY: CONTENT})
    calc = _node(5, "|Node|ProcessNode|CalculationNode|CalcFunctionNode|", "process.calculation.calcfunction")
    fresh = _node(6, "|Node|Data|Int|", "data.core.int")
    connection = sqlite3.connect(db)
    connection.execute("DELETE FROM links WHERE type = 'CREATE'")
    for row in (calc, fresh):
        connection.execute(f"INSERT INTO nodes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                           list(row.values()))
    connection.execute("INSERT INTO links (source, target, type, label) VALUES (6, 5, 'INPUT_CALC', 'a'), "
                       "(5, 3, 'CREATE', 'again')")
    connection.execute("INSERT INTO groups (pk, uuid, label, type_string, description, user, time, extras) "
                       f"VALUES (8, '{uuid_module.uuid4()}', 'g2', 'core', '', '', '2026-01-01T00:00:00+00:00', "
                       "'{}')")
    connection.execute("INSERT INTO group_nodes VALUES (8, 6)")
    connection.commit()
    connection.close()
    path = zip_archive(tmp_path / "conflict.zip", db, {KEY: CONTENT})
    validate_archive(path)
    with pytest.raises(ArchiveError, match="nothing was imported.*LinkRuleError"):
        import_archive(path)
    assert (node_count(), len(get_backend().groups.list())) == before


def test_unknown_extras_policy(tmp_path):
    with pytest.raises(ArchiveError, match="unknown extras policy"):
        import_archive(tmp_path / "x.zip", extras_policy="whatever")



