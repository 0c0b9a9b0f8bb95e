"""``provgraph computer setup|configure|test|list|show|delete`` against the services profile and the real sshd."""

from __future__ import annotations

import shutil
import uuid

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.exceptions import NotExistent
from provgraph.orm import Computer
from provgraph.tools.computers import check_computer, transport_for

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wide enough that no cell wraps, whatever the terminal."""
    from provgraph.cli import echo

    monkeypatch.setattr(echo.console, "width", 300)


def run(*args: str, input: str | None = None):
    """Invoke ``provgraph -p services ARGS``."""
    return CliRunner().invoke(cli, ["-p", "services", *args], input=input)


def new_label(prefix: str = "comp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def setup_local(label: str, workdir: str, scheduler: str = "core.direct"):
    return run("computer", "setup", "-n", "-L", label, "-H", "localhost", "-T", "core.local", "-S", scheduler,
               "-w", workdir, "--mpirun-command", "mpirun -n {tot_num_mpiprocs}", "--mpiprocs-per-machine", "4",
               "--prepend-text", "module load x", "--append-text", "echo done")


def test_setup_non_interactive_stores_every_field(neo4j_profile, tmp_path):
    label = new_label()
    result = setup_local(label, str(tmp_path / "{username}" / "runs"))
    assert result.exit_code == 0, result.output
    stored = Computer.get(label=label)
    assert (stored.hostname, stored.transport_type, stored.scheduler_type) == ("localhost", "core.local",
                                                                               "core.direct")
    assert stored.workdir == str(tmp_path / "{username}" / "runs")
    assert stored.mpirun_command == ["mpirun", "-n", "{tot_num_mpiprocs}"]
    assert stored.default_mpiprocs_per_machine == 4
    assert (stored.prepend_text, stored.append_text) == ("module load x", "echo done")
    again = setup_local(label, "/tmp/x")
    assert again.exit_code == 1 and "StoringError" in again.output


def test_setup_interactive_prompts_and_defaults(neo4j_profile):
    label = new_label()
    answers = "\n".join([label, "example.org", "", "", "", ""]) + "\n"
    result = run("computer", "setup", input=answers)
    assert result.exit_code == 0, result.output
    stored = Computer.get(label=label)
    assert (stored.hostname, stored.transport_type, stored.scheduler_type) == ("example.org", "core.local",
                                                                               "core.direct")
    assert stored.workdir == "/tmp/{username}/provgraph_run/"
    assert stored.mpirun_command == ["mpirun", "-np", "{tot_num_mpiprocs}"]


@pytest.mark.parametrize(("option", "value", "message"), [
    ("-T", "core.carrier-pigeon", "no transports plugin named 'core.carrier-pigeon'"),
    ("-S", "core.nope", "no schedulers plugin named 'core.nope'"),
    ("-w", "relative/{username}", "absolute path"),
    ("-w", "/tmp/{user}", "unknown placeholder(s) user"),
    ("--mpirun-command", "mpirun -np {nprocs}", "unknown placeholder(s) nprocs"),
    ("--mpirun-command", "mpirun 'unclosed", "No closing quotation"),
])
def test_setup_refuses_bad_values_and_stores_nothing(neo4j_profile, option, value, message):
    label = new_label()
    result = run("computer", "setup", "-n", "-L", label, "-H", "h", option, value)
    assert result.exit_code == 2, result.output
    assert message in result.output
    with pytest.raises(NotExistent):
        Computer.get(label=label)


def test_setup_non_interactive_needs_label_and_hostname(neo4j_profile):
    result = run("computer", "setup", "-n", "-L", new_label())
    assert result.exit_code == 2 and "--hostname is required" in result.output


@pytest.mark.requires_ssh
def test_configure_ssh_stores_transport_keywords(neo4j_profile, ssh_settings):
    label = new_label("ssh")
    assert run("computer", "setup", "-n", "-L", label, "-H", ssh_settings["host"], "-T", "core.ssh").exit_code == 0
    result = run("computer", "configure", "ssh", label, "-n", "--username", ssh_settings["username"],
                 "--port", str(ssh_settings["port"]), "--key-filename", ssh_settings["key_filename"],
                 "--known-hosts", ssh_settings["known_hosts"], "--proxy-jump", "gate@jump:2222",
                 "--timeout", "7", "--safe-interval", "0.5")
    assert result.exit_code == 0, result.output
    assert Computer.get(label=label).get_configuration() == {
        "username": ssh_settings["username"], "port": int(ssh_settings["port"]),
        "key_filename": ssh_settings["key_filename"], "known_hosts": ssh_settings["known_hosts"],
        "proxy_jump": "gate@jump:2222", "connect_timeout": 7.0, "safe_open_interval": 0.5}
    transport = transport_for(Computer.get(label=label))
    assert (transport.host, transport.port, transport.proxy_jump) == (ssh_settings["host"],
                                                                     int(ssh_settings["port"]), "gate@jump:2222")
    shown = run("computer", "configure", "show", label)
    assert shown.exit_code == 0 and '"connect_timeout": 7.0' in shown.output


def test_configure_refuses_wrong_transport_and_bad_values(neo4j_profile, tmp_path):
    label = new_label()
    assert setup_local(label, str(tmp_path)).exit_code == 0
    wrong = run("computer", "configure", "ssh", label, "-n", "--username", "x")
    assert wrong.exit_code == 2 and "uses transport core.local, not core.ssh" in wrong.output
    missing_key = run("computer", "configure", "ssh", label, "-n", "--key-filename", str(tmp_path / "nokey"))
    assert missing_key.exit_code == 2 and "does not exist" in missing_key.output
    bad_env = run("computer", "configure", "local", label, "--env", "NOEQUALS")
    assert bad_env.exit_code == 2 and "is not NAME=VALUE" in bad_env.output
    unknown = run("computer", "configure", "local", "no-such-computer-" + uuid.uuid4().hex)
    assert unknown.exit_code == 2 and "no computer labelled" in unknown.output
    with pytest.raises(NotExistent):
        Computer.get(label=label).get_configuration()


def test_local_direct_computer_test_passes(neo4j_profile, tmp_path):
    label = new_label("loc")
    workdir = tmp_path / "work-{username}"
    assert setup_local(label, str(workdir)).exit_code == 0
    assert run("computer", "configure", "local", label, "--safe-interval", "0", "--env", "PG_X=1").exit_code == 0
    result = run("computer", "test", label)
    assert result.exit_code == 0, result.output
    for check in ("open the transport", "create and list the work directory", "write and read a file",
                  "ask the scheduler for jobs"):
        assert check in result.output
    assert "failed" not in result.output and "all 6 checks passed" in result.output
    created = list(tmp_path.glob("work-*"))
    assert len(created) == 1 and list(created[0].iterdir()) == []  # the probe file was removed


def test_computer_test_reports_failure_with_reason(neo4j_profile, tmp_path):
    label = new_label("bad")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert setup_local(label, str(blocker / "sub")).exit_code == 0
    result = run("computer", "test", label)
    assert result.exit_code == 1, result.output
    assert "failed  create and list the work directory: TransportError" in result.output
    assert "skipped  ask the scheduler for jobs" in result.output
    assert "1 check(s) failed, 2 skipped" in result.output


@pytest.mark.requires_ssh
def test_ssh_computer_test_against_sshd(neo4j_profile, ssh_settings, ssh_connection):
    label = new_label("ssh")
    assert run("computer", "setup", "-n", "-L", label, "-H", ssh_settings["host"], "-T", "core.ssh",
               "-S", "core.direct", "-w", "/tmp/{username}/pg-cli-test/").exit_code == 0
    unconfigured = run("computer", "test", label)
    assert unconfigured.exit_code == 1 and "provgraph computer configure ssh" in unconfigured.output
    assert run("computer", "configure", "ssh", label, "-n", "--username", ssh_settings["username"],
               "--port", str(ssh_settings["port"]), "--key-filename", ssh_settings["key_filename"],
               "--known-hosts", ssh_settings["known_hosts"], "--safe-interval", "0").exit_code == 0
    result = run("computer", "test", label)
    assert result.exit_code == 0, result.output
    assert f"remote user {ssh_settings['username']}" in result.output
    assert f"/tmp/{ssh_settings['username']}/pg-cli-test/" in result.output
    assert ssh_connection.run(f"test -d /tmp/{ssh_settings['username']}/pg-cli-test", warn=True).ok


@pytest.mark.requires_ssh
def test_ssh_computer_test_wrong_port_fails(neo4j_profile, ssh_settings):
    label = new_label("ssh")
    Computer(label, ssh_settings["host"], "core.ssh", "core.direct").store()
    assert run("computer", "configure", "ssh", label, "-n", "--username", "nobody", "--port", "1",
               "--known-hosts", ssh_settings["known_hosts"], "--timeout", "2").exit_code == 0
    result = run("computer", "test", label)
    assert result.exit_code == 1
    assert "failed  open the transport: TransportConnectionError" in result.output


def test_list_show_delete(neo4j_profile, tmp_path):
    label = new_label("lst")
    assert setup_local(label, str(tmp_path)).exit_code == 0
    listed = run("computer", "list")
    assert listed.exit_code == 0 and label in listed.output and "core.local" in listed.output
    shown = run("computer", "show", label)
    assert shown.exit_code == 0, shown.output
    assert "mpirun -n '{tot_num_mpiprocs}'" in shown.output or "mpirun -n {tot_num_mpiprocs}" in shown.output
    assert "not configured for the current user" in shown.output
    assert run("computer", "delete", label, input="n\n").exit_code == 1
    Computer.get(label=label)
    deleted = run("computer", "delete", label, "--force")
    assert deleted.exit_code == 0, deleted.output
    with pytest.raises(NotExistent):
        Computer.get(label=label)
    assert run("computer", "show", label).exit_code == 2


def test_check_computer_skips_after_failure(neo4j_profile):
    computer = Computer(new_label("chk"), "localhost", "core.local", "core.nope-scheduler").store()
    results = check_computer(computer)
    assert results[0].status == "failed" and "core.nope-scheduler" in results[0].detail
    assert [r.status for r in results[1:]] == ["skipped"] * 5


@pytest.mark.requires_slurm
def test_local_slurm_computer_test_queries_the_real_slurm(neo4j_profile, slurm_env, tmp_path):
    label = new_label("slurm")
    assert setup_local(label, str(tmp_path / "{username}"), scheduler="core.slurm").exit_code == 0
    assert run("computer", "configure", "local", label, "--env", f"SLURM_CONF={slurm_env['SLURM_CONF']}",
               "--env", "PATH=/usr/bin:/bin").exit_code == 0
    result = run("computer", "test", label)
    assert result.exit_code == 0, result.output
    assert "ok  ask the scheduler for jobs" in result.output
    broken = new_label("slurm")
    assert setup_local(broken, str(tmp_path / "{username}"), scheduler="core.slurm").exit_code == 0
    bin_dir = tmp_path / "bin"  # whoami but no squeue
    bin_dir.mkdir()
    (bin_dir / "whoami").symlink_to(shutil.which("whoami"))
    assert run("computer", "configure", "local", broken, "--env", f"PATH={bin_dir}").exit_code == 0
    failed = run("computer", "test", broken)
    assert failed.exit_code == 1 and "failed  ask the scheduler for jobs: SchedulerError" in failed.output


def test_delete_refused_while_a_code_uses_the_computer(neo4j_profile):
    from provgraph.orm import InstalledCode

    computer = Computer(new_label("used"), "localhost").store()
    InstalledCode(computer=computer, filepath_executable="/bin/true", label="t").store()
    result = run("computer", "delete", computer.label, "-f")
    assert result.exit_code == 1 and "ModificationNotAllowed" in result.output
    assert Computer.get(label=computer.label).pk == computer.pk
