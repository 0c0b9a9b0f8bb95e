"""One contract for every transport: core.local here, core.ssh against the real sshd."""

from __future__ import annotations

import getpass
import os

import pytest

from provgraph.exceptions import TransportError
from provgraph.transports.base import TransportConnectionError, quote

AWKWARD = "it's a \"dir\" with $HOME & spaces"


def test_put_and_get_a_file_byte_for_byte(transport, remote_dir, tmp_path):
    payload = bytes(range(256)) * 100
    (tmp_path / "in.bin").write_bytes(payload)
    transport.put(str(tmp_path / "in.bin"), f"{remote_dir}/file.bin")
    assert transport.isfile(f"{remote_dir}/file.bin")
    transport.get(f"{remote_dir}/file.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == payload


def test_put_overwrites(transport, remote_dir, tmp_path):
    for text in ("first version, longer\n", "second\n"):
        (tmp_path / "f.txt").write_text(text)
        transport.put(str(tmp_path / "f.txt"), f"{remote_dir}/f.txt")
    assert transport.exec_command_wait(f"cat {quote(remote_dir + '/f.txt')}")[1] == "second\n"


def test_put_and_get_trees(transport, remote_dir, tmp_path):
    source = tmp_path / "source"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "top.txt").write_text("top")
    (source / "sub" / "deeper" / AWKWARD).write_text("awkward")
    (source / "link").symlink_to("top.txt")
    transport.puttree(str(source), f"{remote_dir}/tree")
    assert transport.listdir(f"{remote_dir}/tree") == ["link", "sub", "top.txt"]
    assert transport.listdir(f"{remote_dir}/tree/sub/deeper") == [AWKWARD]
    assert transport.exec_command_wait(f"readlink {quote(remote_dir + '/tree/link')}")[1].strip() == "top.txt"
    transport.gettree(f"{remote_dir}/tree", str(tmp_path / "back"))
    assert (tmp_path / "back" / "sub" / "deeper" / AWKWARD).read_text() == "awkward"
    assert os.readlink(tmp_path / "back" / "link") == "top.txt"


def test_puttree_merges_into_an_existing_folder(transport, remote_dir, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one").write_text("1")
    transport.makedirs(f"{remote_dir}/dest/sub")
    transport.puttree(str(tmp_path / "a"), f"{remote_dir}/dest")
    assert transport.listdir(f"{remote_dir}/dest") == ["one", "sub"]


def test_file_and_tree_errors(transport, remote_dir, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(TransportError):
        transport.get(f"{remote_dir}/missing", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    with pytest.raises(TransportError):
        transport.put(str(tmp_path / "missing"), f"{remote_dir}/x")
    with pytest.raises(TransportError):
        transport.put(str(tmp_path), f"{remote_dir}/x")  # a folder is not a file
    with pytest.raises(TransportError):
        transport.puttree(str(tmp_path / "f"), f"{remote_dir}/x")
    with pytest.raises(TransportError):
        transport.gettree(f"{remote_dir}/missing", str(tmp_path / "t"))
    with pytest.raises(TransportError):
        transport.put(str(tmp_path / "f"), f"{remote_dir}/no/such/folder/f")
    with pytest.raises(TransportError):
        transport.listdir(f"{remote_dir}/missing")


def test_exec_returns_exit_code_stdout_and_stderr(transport):
    assert transport.exec_command_wait("echo out; echo err >&2; exit 3") == (3, "out\n", "err\n")
    assert transport.exec_command_wait("true") == (0, "", "")


def test_exec_in_a_workdir_with_an_awkward_name_and_stdin(transport, remote_dir):
    workdir = f"{remote_dir}/{AWKWARD}"
    transport.makedirs(workdir)
    code, stdout, _ = transport.exec_command_wait("pwd; cat", workdir=workdir, stdin="from stdin\n")
    assert code == 0 and stdout == f"{workdir}\nfrom stdin\n"
    with pytest.raises(TransportError):
        transport.exec_command_wait("pwd", workdir=f"{remote_dir}/missing")


def test_exec_without_stdin_does_not_hang(transport):
    assert transport.exec_command_wait("cat") == (0, "", "")


def test_makedirs(transport, remote_dir):
    transport.makedirs(f"{remote_dir}/a/b/c")
    assert transport.isdir(f"{remote_dir}/a/b/c")
    with pytest.raises(TransportError, match="exists"):
        transport.makedirs(f"{remote_dir}/a/b")
    transport.makedirs(f"{remote_dir}/a/b", ignore_existing=True)
    transport.exec_command_wait(f"touch {quote(remote_dir + '/file')}")
    with pytest.raises(TransportError):
        transport.makedirs(f"{remote_dir}/file", ignore_existing=True)  # a file is not a folder


def test_rmtree(transport, remote_dir):
    transport.makedirs(f"{remote_dir}/gone/sub")
    transport.exec_command_wait(f"touch {quote(remote_dir + '/gone/sub/f')}")
    transport.rmtree(f"{remote_dir}/gone")
    assert not transport.path_exists(f"{remote_dir}/gone")
    with pytest.raises(TransportError):
        transport.rmtree(f"{remote_dir}/gone")


def test_rmtree_of_a_link_keeps_its_target(transport, remote_dir):
    transport.makedirs(f"{remote_dir}/target")
    transport.symlink(f"{remote_dir}/target", f"{remote_dir}/link")
    transport.rmtree(f"{remote_dir}/link")
    assert transport.isdir(f"{remote_dir}/target") and not transport.path_exists(f"{remote_dir}/link")


def test_symlink_and_path_checks(transport, remote_dir):
    transport.makedirs(f"{remote_dir}/real dir")
    transport.exec_command_wait(f"echo hi > {quote(remote_dir + '/real dir/f')}")
    transport.symlink(f"{remote_dir}/real dir", f"{remote_dir}/{AWKWARD}")
    linked = f"{remote_dir}/{AWKWARD}"
    assert transport.isdir(linked) and not transport.isfile(linked) and transport.path_exists(linked)
    assert transport.isfile(f"{linked}/f") and not transport.isdir(f"{linked}/f")
    assert not transport.path_exists(f"{remote_dir}/nothing")
    assert not transport.isdir(f"{remote_dir}/nothing") and not transport.isfile(f"{remote_dir}/nothing")
    with pytest.raises(TransportError, match="exists"):
        transport.symlink(f"{remote_dir}/real dir", linked)


def test_chmod(transport, remote_dir):
    path = f"{remote_dir}/script.sh"
    transport.exec_command_wait(f"printf 'echo ran' > {quote(path)}")
    transport.chmod(path, 0o750)
    assert transport.exec_command_wait(f"stat -c %a {quote(path)}")[1].strip() == "750"
    assert transport.exec_command_wait(quote(path))[1] == "ran\n"
    with pytest.raises(TransportError):
        transport.chmod(f"{remote_dir}/missing", 0o700)


def test_remote_side_copy(transport, remote_dir):
    transport.makedirs(f"{remote_dir}/src/sub")
    transport.exec_command_wait(f"echo data > {quote(remote_dir + '/src/sub/' + AWKWARD)}")
    transport.copy(f"{remote_dir}/src", f"{remote_dir}/copy")
    transport.copy(f"{remote_dir}/src/sub/{AWKWARD}", f"{remote_dir}/single")
    assert transport.listdir(f"{remote_dir}/copy/sub") == [AWKWARD]
    assert transport.exec_command_wait(f"cat {quote(remote_dir + '/single')}")[1] == "data\n"
    with pytest.raises(TransportError, match="No such file"):
        transport.copy(f"{remote_dir}/missing", f"{remote_dir}/x")


def test_whoami(transport, transport_name, request):
    expected = request.getfixturevalue("ssh_settings")["username"] if transport_name == "core.ssh" \
        else getpass.getuser()
    assert transport.whoami() == expected


def test_retryable_errors_are_transport_errors(transport):
    assert TransportConnectionError in type(transport).retryable_errors
    assert all(issubclass(error, TransportError) for error in type(transport).retryable_errors)


def test_a_closed_transport_refuses_work_and_the_context_manager_opens_it(closed_transport):
    assert not closed_transport.is_open
    with pytest.raises(TransportError, match="not open"):
        closed_transport.listdir("/")
    with closed_transport as opened:
        assert opened is closed_transport and opened.is_open and "tmp" in opened.listdir("/")
    assert not closed_transport.is_open
    closed_transport.close()  # closing twice is harmless
