"""core.direct on recorded output: submit script, the nohup submit line, ps (every state), kill."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler_testing import RecordingTransport, assert_golden, data_text, full_template, minimal_template

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.schedulers.datastructures import JobResource, JobState
from provgraph.schedulers.direct import PS_STATES, DirectScheduler

DIRECT = DirectScheduler()


def _direct_template(resources, **overrides):
    values = dict(queue_name=None, account=None, qos=None, max_memory_kb=None, max_wallclock_seconds=None)
    values.update(overrides)
    return full_template(resources, **values)


def test_full_submit_script_matches_golden(node_resources):
    script = DIRECT.get_submit_script(_direct_template(node_resources, scheduler_stdout="sched out.txt"))
    assert_golden("direct", "submit_full.sh", script)


def test_minimal_submit_script_matches_golden():
    script = DIRECT.get_submit_script(minimal_template(JobResource(num_machines=1, num_mpiprocs_per_machine=1)))
    assert_golden("direct", "submit_minimal.sh", script)


@pytest.mark.parametrize("option", ["queue_name", "account", "qos", "max_memory_kb", "max_wallclock_seconds"])
def test_queue_options_are_refused(node_resources, option):
    values = {"queue_name": "q", "account": "a", "qos": "q", "max_memory_kb": 1, "max_wallclock_seconds": 1}
    with pytest.raises(ValidationError, match=option):
        DIRECT.get_submit_script(_direct_template(node_resources, **{option: values[option]}))


def test_submit_command_detaches_and_echoes_the_pid():
    command = DIRECT.submit_command("my script.sh")
    assert "nohup bash 'my script.sh' > _scheduler-stdout.txt 2> _scheduler-stderr.txt < /dev/null &" in command
    assert command.endswith("echo $!")
    assert DIRECT.parse_submit_output(0, "4242\n", "") == "4242"
    with pytest.raises(SchedulerError, match="no process id"):
        DIRECT.parse_submit_output(0, "\n", "")
    with pytest.raises(SchedulerError, match="No such file"):
        DIRECT.parse_submit_output(1, "", "bash: line 1: cd: /nope: No such file or directory\n")


def test_joblist_command_is_batched():
    assert DIRECT.joblist_command(["1", "22", "333"]) == "ps -o pid= -o stat= -o etime= -o args= -p 1,22,333"
    assert DIRECT.joblist_command(None, "alice").endswith("-U alice")


EXPECTED = {"21001": JobState.RUNNING, "21002": JobState.RUNNING, "21003": JobState.RUNNING,
            "21004": JobState.SUSPENDED, "21005": JobState.DONE, "21006": JobState.RUNNING,
            "21007": JobState.SUSPENDED, "21008": JobState.DONE, "21009": JobState.UNDETERMINED}


def test_parse_ps_covers_every_state():
    jobs = DIRECT.parse_joblist_output(0, data_text("direct", "ps_all_states.txt"), "")
    assert {job_id: info.job_state for job_id, info in jobs.items()} == EXPECTED
    assert jobs["21002"].wallclock_time_seconds == 93784
    assert jobs["21003"].wallclock_time_seconds == 5
    assert jobs["21002"].title == "/opt/codes/pw.x -in aiida.in"


def test_no_matching_process_is_an_empty_answer():
    assert DIRECT.parse_joblist_output(1, "", "") == {}
    with pytest.raises(SchedulerError, match="unsupported option"):
        DIRECT.parse_joblist_output(1, "", "error: unsupported option (BSD syntax)\n")
    with pytest.raises(SchedulerError, match="unexpected ps line"):
        DIRECT.parse_joblist_output(0, "PID STAT\n", "")


def test_kill():
    command = DIRECT.kill_command("123")
    assert command.startswith("ps -o stat= -p 123 | grep -q '^[^ZX]' || ")
    assert command.endswith("; kill -s TERM -- -123 2> /dev/null || kill -s TERM 123")
    assert DIRECT.parse_kill_output(0, "", "") is True
    assert DIRECT.parse_kill_output(1, "", "bash: line 1: kill: (123) - No such process\n") is False
    with pytest.raises(SchedulerError, match="Operation not permitted"):
        DIRECT.parse_kill_output(1, "", "bash: line 1: kill: (1) - Operation not permitted\n")


def test_no_detailed_info():
    transport = RecordingTransport()
    assert DIRECT.get_detailed_job_info(transport, "1") is None
    assert transport.commands == []


@given(st.integers(1, 4 * 10**6), st.sampled_from(sorted(PS_STATES) + ["Q"]), st.sampled_from(["", "s", "l+", "<N"]),
       st.integers(0, 10**7),
       st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)
       .filter(lambda s: s == s.strip()))
def test_ps_line_round_trip(pid, letter, flags, seconds, args):
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    etime = (f"{days}-" if days else "") + (f"{hours:02d}:" if days or hours else "") + \
        f"{rest // 60:02d}:{rest % 60:02d}"
    info = DIRECT.parse_ps_line(f"{pid:>7} {letter}{flags:<5} {etime:>11} {args}")
    assert (info.job_id, info.wallclock_time_seconds) == (str(pid), seconds)
    assert info.job_state is PS_STATES.get(letter, JobState.UNDETERMINED)
    assert (info.title or "") == args
