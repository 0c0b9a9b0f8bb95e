"""verdi's names for ``computer configure core.local|core.ssh`` and ``code create core.code.installed|portable``,
with verdi's options (-u/--user, -P/--port, -n/-I, --use-double-quotes/--no-use-double-quotes)."""

from __future__ import annotations

import pytest
from compat_cli_support import error_line, invoke, sqlite_cli, unique  # noqa: F401 - sqlite_cli is a fixture

from provgraph.orm import AbstractCode, Computer, InstalledCode, PortableCode, QueryBuilder

pytestmark = pytest.mark.usefixtures("sqlite_cli")


def computer(transport: str = "core.local") -> Computer:
    return Computer(unique("host"), "localhost", transport, "core.direct").store()


def codes(label: str) -> list:
    return QueryBuilder().append(AbstractCode, filters={"label": label}, project="*").all(flat=True)


def test_configure_core_local_non_interactive():
    target = computer()
    result = invoke("computer", "configure", "core.local", target.label, "-n", "--safe-interval", "0.5")
    assert result.exit_code == 0, result.output
    assert target.get_configuration() == {"safe_open_interval": 0.5}


def test_configure_core_local_for_another_user():
    target = computer()
    result = invoke("computer", "configure", "core.local", target.label, "-u", "dana@example.org", "-n",
                    "--safe-interval", "2")
    assert result.exit_code == 0 and "configured for dana@example.org" in result.output
    assert target.get_configuration("dana@example.org") == {"safe_open_interval": 2.0}


def test_configure_core_local_bad_user_and_interval():
    target = computer()
    bad_user = invoke("computer", "configure", "core.local", target.label, "-u", "nobody", "-n")
    assert bad_user.exit_code == 2 and "not an email address" in error_line(bad_user)
    bad_interval = invoke("computer", "configure", "core.local", target.label, "--safe-interval", "-1")
    assert bad_interval.exit_code == 2 and "Invalid value for '--safe-interval'" in bad_interval.output


def test_configure_core_ssh_non_interactive_with_verdi_options():
    target = computer("core.ssh")
    result = invoke("computer", "configure", "core.ssh", target.label, "-n", "--username", "alice", "-P", "2222",
                    "--timeout", "7", "--safe-interval", "1", "--proxy-jump", "jump@gateway:22")
    assert result.exit_code == 0, result.output
    assert target.get_configuration() == {"username": "alice", "port": 2222, "connect_timeout": 7.0,
                                          "safe_open_interval": 1.0, "proxy_jump": "jump@gateway:22"}


def test_configure_core_ssh_interactive_prompts():
    target = computer("core.ssh")
    result = invoke("computer", "configure", "core.ssh", target.label, "-I", input="bob\n2200\n")
    assert result.exit_code == 0, result.output
    assert target.get_configuration() == {"username": "bob", "port": 2200}


def test_configure_core_ssh_on_a_local_computer_is_refused():
    target = computer("core.local")
    result = invoke("computer", "configure", "core.ssh", target.label, "-n")
    assert result.exit_code == 2 and "uses transport core.local, not core.ssh" in error_line(result)


def test_configure_unknown_computer_and_bad_port():
    missing = invoke("computer", "configure", "core.local", unique("ghost"), "-n")
    assert missing.exit_code == 2 and "no computer labelled" in error_line(missing)
    target = computer("core.ssh")
    port = invoke("computer", "configure", "core.ssh", target.label, "-n", "-P", "99999")
    assert port.exit_code == 2 and "Invalid value for '-P'" in port.output


def test_configure_short_names_still_work():
    target = computer()
    result = invoke("computer", "configure", "local", target.label, "--safe-interval", "3")
    assert result.exit_code == 0 and target.get_configuration() == {"safe_open_interval": 3.0}


def test_code_create_core_code_installed():
    target = computer()
    label = unique("bash")
    result = invoke("code", "create", "core.code.installed", "-n", "-L", label, "-Y", target.label, "-X", "/bin/bash",
                    "--use-double-quotes", "--with-mpi")
    assert result.exit_code == 0, result.output
    (stored,) = codes(label)
    assert isinstance(stored, InstalledCode) and stored.filepath_executable == "/bin/bash"
    assert stored.base.attributes.get("use_double_quotes") is True and stored.base.attributes.get("with_mpi") is True


def test_code_create_core_code_installed_interactive():
    target = computer()
    label = unique("sh")
    result = invoke("code", "create", "core.code.installed", "-I", input=f"{label}\n{target.label}\n/bin/sh\n")
    assert result.exit_code == 0, result.output
    assert codes(label)[0].base.attributes.get("use_double_quotes") is False


def test_code_create_installed_relative_path_and_missing_computer():
    target = computer()
    relative = invoke("code", "create", "core.code.installed", "-n", "-L", unique("c"), "-Y", target.label,
                      "-X", "bin/bash")
    assert relative.exit_code == 2 and "absolute path" in error_line(relative)
    missing = invoke("code", "create", "core.code.installed", "-n", "-L", unique("c"), "-Y", unique("ghost"),
                     "-X", "/bin/bash")
    assert missing.exit_code == 2 and "no computer labelled" in error_line(missing)


def test_code_create_non_interactive_needs_the_label():
    result = invoke("code", "create", "core.code.installed", "-n", "-X", "/bin/bash")
    assert result.exit_code == 2 and "--label is required with --non-interactive" in error_line(result)


def test_code_create_core_code_portable(tmp_path):
    (tmp_path / "run.sh").write_text("#!/bin/bash\necho hi\n")
    (tmp_path / "data.txt").write_text("x")
    label = unique("portable")
    result = invoke("code", "create", "core.code.portable", "-n", "-L", label, "-F", str(tmp_path), "-X", "run.sh",
                    "--no-use-double-quotes")
    assert result.exit_code == 0, result.output
    (stored,) = codes(label)
    assert isinstance(stored, PortableCode) and sorted(stored.base.repository.walk_files()) == ["data.txt", "run.sh"]


def test_code_create_portable_missing_executable(tmp_path):
    result = invoke("code", "create", "core.code.portable", "-n", "-L", unique("p"), "-F", str(tmp_path),
                    "-X", "missing.sh")
    assert result.exit_code == 2 and "is not a file inside" in error_line(result)


def test_code_create_help_lists_verdi_names():
    result = invoke("code", "create", "--help")
    assert "core.code.installed" in result.output and "core.code.portable" in result.output


def test_computer_setup_from_a_config_file(tmp_path):
    label = unique("fromyaml")
    config = tmp_path / "computer.yml"
    config.write_text(f"label: {label}\nhostname: localhost\ntransport: core.local\nscheduler: core.direct\n"
                      "work_dir: /tmp/{username}/pg\nmpiprocs_per_machine: 2\nnon_interactive: true\n")
    result = invoke("computer", "setup", "--config", str(config))
    assert result.exit_code == 0, result.output
    stored = Computer.get(label=label)
    assert (stored.workdir, stored.default_mpiprocs_per_machine) == ("/tmp/{username}/pg", 2)


def test_code_create_from_a_config_file_command_line_wins(tmp_path):
    target = computer()
    label = unique("yamlcode")
    config = tmp_path / "code.yml"
    config.write_text(f"label: {label}\ncomputer: {target.label}\nfilepath_executable: /bin/sh\n"
                      "description: from yaml\n")
    result = invoke("code", "create", "core.code.installed", "--config", str(config), "-n", "-X", "/bin/bash")
    assert result.exit_code == 0, result.output
    (stored,) = codes(label)
    assert stored.filepath_executable == "/bin/bash" and stored.description == "from yaml"


def test_config_file_unknown_key_and_not_a_mapping(tmp_path):
    unknown = tmp_path / "bad.yml"
    unknown.write_text("label: x\ncolour: blue\n")
    result = invoke("code", "create", "core.code.installed", "--config", str(unknown), "-n")
    assert result.exit_code == 2 and "'colour' is not an option of this command" in error_line(result)
    listing = tmp_path / "list.yml"
    listing.write_text("- a\n- b\n")
    result = invoke("computer", "setup", "--config", str(listing))
    assert result.exit_code == 2 and "must hold a YAML mapping" in error_line(result)


def test_configure_core_ssh_from_a_config_file(tmp_path):
    target = computer("core.ssh")
    config = tmp_path / "ssh.yml"
    config.write_text("username: carol\nport: 2022\nsafe_interval: 0\n")
    result = invoke("computer", "configure", "core.ssh", target.label, "--config", str(config), "-n")
    assert result.exit_code == 0, result.output
    assert target.get_configuration() == {"username": "carol", "port": 2022, "safe_open_interval": 0.0}
