"""Backoff, pause after repeated failures and play, in this interpreter; idempotent submission; CalcInfo."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from calcjob_support import bash_code, local_computer, ssh_computer
from hypothesis import given
from hypothesis import strategies as st

from provgraph.engine import play
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.launch import Runner, create_stored
from provgraph.engine.processes.calcjobs import CalcInfo, CalcJob, CodeInfo
from provgraph.engine.processes.calcjobs.calcjob import backoff_delay
from provgraph.engine.processes.calcjobs.lifecycle import SUBMIT_MARKER, SubmissionUnknown, submit
from provgraph.engine.step import StepAction, advance
from provgraph.exceptions import ValidationError
from provgraph.orm import Int, load_node
from provgraph.orm.backend import get_backend
from provgraph.orm.nodes.node import default_user
from provgraph.plugins import SchedulerFactory
from provgraph.transports.local import LocalTransport


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.requires_ssh
def test_failed_uploads_back_off_then_pause_with_a_report_and_play_resumes(ssh_settings, monkeypatch):
    monkeypatch.setenv("PROVGRAPH_CALCJOB_BACKOFF", "0.05")
    computer = ssh_computer(ssh_settings, "core.direct")
    computer.configure(default_user(), **{**computer.get_configuration(), "port": _closed_port()})
    node = create_stored(ArithmeticAddCalculation, {"code": bash_code(computer), "x": Int(2), "y": Int(3)})
    actions = [advance(node.pk, classes={}).action for _ in range(6)]
    assert actions == [StepAction.STEPPED] * 5 + [StepAction.PAUSED]  # the fifth failure pauses it
    paused = load_node(node.pk)
    assert paused.base.attributes.get("paused") is True and paused.process_state.value == "waiting"
    reports = [log.message for log in get_backend().logs.for_node(node.pk)]
    assert len(reports) == 5 and all("upload failed" in message for message in reports)
    assert "retrying in" in reports[0] and "paused" in reports[-1] and "provgraph process play" in reports[-1]

    computer.configure(default_user(), **{**computer.get_configuration(), "port": int(ssh_settings["port"])})
    assert play(node.pk)
    Runner().drive(node.pk)
    done = load_node(node.pk)
    assert done.is_finished_ok, done.exit_message
    assert done.outputs["sum"].value == 5


def test_backoff_grows_exponentially(monkeypatch):
    monkeypatch.setenv("PROVGRAPH_CALCJOB_BACKOFF", "2")
    assert [backoff_delay(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
    assert backoff_delay(30) == 600


def test_submission_happens_once_whatever_the_retries(tmp_path):
    transport = LocalTransport()
    transport.open()
    script = tmp_path / "job.sh"
    script.write_text(f"echo run >> {tmp_path}/runs.txt\n")
    direct = SchedulerFactory("core.direct")()
    job_ids = {submit(transport, direct, str(tmp_path), "job.sh") for _ in range(3)}
    assert len(job_ids) == 1
    (tmp_path / SUBMIT_MARKER / "retval").unlink()  # as if the first submission had not finished yet
    with pytest.raises(SubmissionUnknown, match="no outcome"):
        submit(transport, direct, str(tmp_path), "job.sh")
    assert (tmp_path / "runs.txt").read_text() == "run\n"


def test_a_refused_submission_raises_the_schedulers_error(tmp_path):
    transport = LocalTransport()
    transport.open()
    with pytest.raises(Exception, match="sbatch|not found|exit"):
        submit(transport, SchedulerFactory("core.slurm")(), str(tmp_path), "missing.sh")


_names = st.text(alphabet="abcdefgh_.", min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))


@given(params=st.lists(st.text(max_size=10), max_size=4), retrieve=st.lists(_names, max_size=4),
       copies=st.lists(st.tuples(st.uuids().map(str), _names, _names), max_size=3))
def test_calcinfo_round_trips_through_json(params, retrieve, copies):
    info = CalcInfo(codes_info=[CodeInfo(cmdline_params=params, stdin_name="in", withmpi=True)],
                    local_copy_list=copies, retrieve_list=retrieve).validate()
    assert CalcInfo.from_dict(info.to_dict()) == info


@pytest.mark.parametrize("bad", [
    {"retrieve_list": ["/etc/passwd"]}, {"retrieve_list": ["../up"]}, {"codes_info": []},
    {"remote_copy_list": [("c", "relative", "x")]}, {"local_copy_list": [("uuid", "a")]},
])
def test_calcinfo_refuses_paths_outside_the_working_directory(bad):
    values = {"codes_info": [CodeInfo()], **bad}
    with pytest.raises(ValidationError):
        CalcInfo(**values).validate()


def test_a_local_copy_and_retrieve_glob(tmp_path):
    """prepare_for_submission's lists reach the job: files of a node are copied in, globs retrieved."""
    from provgraph.engine import run
    from provgraph.orm.nodes.data.files import FolderData

    computer = local_computer(str(tmp_path / "work"))
    data = FolderData()
    data.base.repository.put_object_from_bytes(b"payload\n", "sub/data.txt")
    data.store()
    _, node = run.get_node(CopyingCalculation, code=bash_code(computer), data=data)
    assert node.is_finished_ok, node.exit_message
    retrieved = node.outputs["retrieved"]
    assert retrieved.get_object_content("copied/data.txt") == "payload\n"
    assert sorted(name for name in retrieved.list_object_names() if name.startswith("out")) == ["out1.txt",
                                                                                                  "out2.txt"]
    assert "copied/data.txt" not in node.base.repository.walk_files()  # copies are not duplicated


class CopyingCalculation(CalcJob):
    """Copies a FolderData's folder into the job and writes two outputs matched by a glob."""

    default_parser = None

    @classmethod
    def define(cls, spec):
        """Input ``data`` (FolderData)."""
        from provgraph.orm.nodes.data.files import FolderData

        super().define(spec)
        spec.input("data", valid_type=FolderData)

    def prepare_for_submission(self, folder: Path) -> CalcInfo:
        """Run a shell script writing out1/out2; copy the data's ``sub`` folder to ``copied``."""
        (folder / "script.sh").write_text("echo 1 > out1.txt\necho 2 > out2.txt\n")
        return CalcInfo(codes_info=[CodeInfo(cmdline_params=["script.sh"])],
                        local_copy_list=[(self.inputs.data.uuid, "sub", "copied")],
                        retrieve_list=["out*.txt", "copied"])


def test_connections_respect_the_safe_interval_across_the_fleet(tmp_path):
    """A lease taken by another worker's open delays ours until the safe interval has passed."""
    from provgraph.engine.processes.calcjobs.connections import claim, discard_transport, open_transport

    computer = local_computer(str(tmp_path / "work"))
    computer.configure(default_user(), safe_open_interval=1.5)
    assert claim(f"computer:{computer.label}:{default_user()}:open", 1.5, "another-worker")
    began = time.monotonic()
    transport = open_transport(computer, default_user())
    waited = time.monotonic() - began
    assert transport.is_open and waited >= 1.0, waited
    assert open_transport(computer, default_user()) is transport  # reused, not opened again
    discard_transport(computer, default_user())
