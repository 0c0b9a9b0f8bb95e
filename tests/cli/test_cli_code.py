"""``provgraph code create installed|portable``, ``code list`` and ``code show`` on the services profile."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.orm import Computer, InstalledCode, PortableCode, QueryBuilder, load_node

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wide enough that no cell wraps, whatever the terminal."""
    from provgraph.cli import echo

    monkeypatch.setattr(echo.console, "width", 300)


def run(*args: str, input: str | None = None):
    """Invoke ``provgraph -p services ARGS``."""
    return CliRunner().invoke(cli, ["-p", "services", *args], input=input)


@pytest.fixture
def computer(neo4j_profile):
    return Computer(f"codehost-{uuid.uuid4().hex[:10]}", "localhost").store()


def codes_labelled(label: str) -> list:
    return QueryBuilder().append(InstalledCode, filters={"label": label}, project="*").all(flat=True) + \
        QueryBuilder().append(PortableCode, filters={"label": label}, project="*").all(flat=True)


def test_create_installed_stores_every_field(computer):
    label = f"bash-{uuid.uuid4().hex[:8]}"
    result = run("code", "create", "installed", "-n", "-L", label, "-Y", computer.label, "-X", "/bin/bash",
                 "-P", "core.arithmetic.add", "--prepend-text", "export A=1", "--append-text", "echo end",
                 "--with-mpi", "-D", "a shell")
    assert result.exit_code == 0, result.output
    (stored,) = codes_labelled(label)
    assert isinstance(stored, InstalledCode)
    assert (stored.computer, stored.filepath_executable, stored.default_calc_job_plugin) == (
        computer.label, "/bin/bash", "core.arithmetic.add")
    assert (stored.prepend_text, stored.append_text, stored.description) == ("export A=1", "echo end", "a shell")
    assert stored.base.attributes.get("with_mpi") is True
    assert f"Code '{label}@{computer.label}' stored (pk {stored.pk})" in result.output
    again = run("code", "create", "installed", "-n", "-L", label, "-Y", computer.label, "-X", "/bin/sh")
    assert again.exit_code == 2 and "exists already" in again.output
    assert len(codes_labelled(label)) == 1


def test_create_installed_interactive(computer):
    label = f"sh-{uuid.uuid4().hex[:8]}"
    result = run("code", "create", "installed", input=f"{label}\n{computer.label}\n/bin/sh\n")
    assert result.exit_code == 0, result.output
    assert codes_labelled(label)[0].filepath_executable == "/bin/sh"


@pytest.mark.parametrize(("args", "message"), [
    (["-Y", "no-such-computer-x1", "-X", "/bin/sh"], "no computer labelled 'no-such-computer-x1'"),
    (["-X", "bin/sh"], "must be an absolute path"),
    (["-X", "/bin/sh", "-P", "core.nope"], "no calculations plugin named 'core.nope'"),
])
def test_create_installed_refuses_bad_input(computer, args, message):
    label = f"bad-{uuid.uuid4().hex[:8]}"
    if "-Y" not in args:
        args = ["-Y", computer.label, *args]
    result = run("code", "create", "installed", "-n", "-L", label, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert codes_labelled(label) == []


def test_create_portable_and_show(neo4j_profile, tmp_path):
    folder = tmp_path / "code"
    (folder / "lib").mkdir(parents=True)
    (folder / "run.sh").write_text("#!/bin/bash\necho hi\n")
    (folder / "lib" / "helper.txt").write_text("data")
    label = f"port-{uuid.uuid4().hex[:8]}"
    result = run("code", "create", "portable", "-n", "-L", label, "-F", str(folder), "-X", "run.sh")
    assert result.exit_code == 0, result.output
    (stored,) = codes_labelled(label)
    assert isinstance(stored, PortableCode)
    assert sorted(stored.base.repository.walk_files()) == ["lib/helper.txt", "run.sh"]
    assert stored.base.repository.get_object_content("run.sh") == "#!/bin/bash\necho hi\n"
    shown = run("code", "show", label)
    assert shown.exit_code == 0, shown.output
    assert "portable" in shown.output and "lib/helper.txt" in shown.output and "run.sh" in shown.output
    missing = run("code", "create", "portable", "-n", "-L", label + "x", "-F", str(folder), "-X", "nope.sh")
    assert missing.exit_code == 2 and "is not a file inside" in missing.output
    assert codes_labelled(label + "x") == []


def test_list_and_show_by_every_identifier(computer):
    label = f"lst-{uuid.uuid4().hex[:8]}"
    stored = InstalledCode(computer=computer, filepath_executable="/usr/bin/env", label=label,
                           default_calc_job_plugin="core.arithmetic.add").store()
    listed = run("code", "list", "-Y", computer.label)
    assert listed.exit_code == 0, listed.output
    assert f"{label}@{computer.label}" in listed.output and "/usr/bin/env" in listed.output
    other = run("code", "list", "-Y", computer.label, "-P", "core.arithmetic.multiply")
    assert label not in other.output
    for identifier in (str(stored.pk), stored.uuid, stored.uuid[:13], f"{label}@{computer.label}", label):
        shown = run("code", "show", identifier)
        assert shown.exit_code == 0, (identifier, shown.output)
        assert stored.uuid in shown.output and computer.label in shown.output
    assert load_node(stored.pk).full_label == f"{label}@{computer.label}"
    unknown = run("code", "show", "no-such-code-" + uuid.uuid4().hex)
    assert unknown.exit_code == 2 and "no code" in unknown.output


def test_show_refuses_ambiguous_label(neo4j_profile):
    label = f"dup-{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        host = Computer(f"duphost-{uuid.uuid4().hex[:8]}", "localhost").store()
        InstalledCode(computer=host, filepath_executable="/bin/true", label=label).store()
    result = run("code", "show", label)
    assert result.exit_code == 2 and "2 codes are labelled" in result.output


def test_computer_and_code_commands_on_both_backends(backend_profile, tmp_path):
    def invoke(*args: str):
        return CliRunner().invoke(cli, ["-p", backend_profile.name, *args])

    host = f"both-{uuid.uuid4().hex[:8]}"
    assert invoke("computer", "setup", "-n", "-L", host, "-H", "localhost", "-w", str(tmp_path / "{username}"),
                  ).exit_code == 0
    assert invoke("computer", "configure", "local", host, "--safe-interval", "0").exit_code == 0
    tested = invoke("computer", "test", host)
    assert tested.exit_code == 0, tested.output
    created = invoke("code", "create", "installed", "-n", "-L", "sh", "-Y", host, "-X", "/bin/sh")
    assert created.exit_code == 0, created.output
    listed = invoke("code", "list", "-Y", host)
    assert f"sh@{host}" in listed.output
    assert invoke("code", "show", f"sh@{host}").exit_code == 0
