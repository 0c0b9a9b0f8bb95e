"""BaseRestartWorkChain with a CalcJob that fails in a scripted way, run for real through core.local."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from restart_support import OPTIONS, AddRestartWorkChain, flaky_code, local_computer  # noqa: E402

from provgraph.engine import play, run  # noqa: E402
from provgraph.exceptions import ValidationError  # noqa: E402
from provgraph.orm import InstalledCode, Int, load_node  # noqa: E402
from provgraph.orm.querybuilder import QueryBuilder  # noqa: E402


@pytest.fixture
def computer(backend_profile, tmp_path):
    """A core.local computer, on each backend."""
    return local_computer(tmp_path / "work")


@pytest.fixture
def embedded_computer(embedded_profile, tmp_path):
    """A core.local computer on the embedded backend (the rest of the matrix runs there only)."""
    return local_computer(tmp_path / "work")


def _add(code, x=2, y=3):
    return {"code": code, "x": Int(x), "y": Int(y), "metadata": {"options": dict(OPTIONS)}}


def _reports(node):
    from provgraph.orm.backend import get_backend

    return [log.message for log in get_backend().logs.for_node(node.pk)]


def test_a_job_failing_twice_is_restarted_until_it_succeeds(computer, tmp_path):
    code, counter = flaky_code(computer, tmp_path, failures=2)
    outputs, node = run.get_node(AddRestartWorkChain, add=_add(code))
    assert node.is_finished_ok, node.exit_message
    assert outputs["sum"].value == 5
    assert counter.read_text().strip() == "3"
    children = sorted(node.called, key=lambda child: child.pk)
    assert [child.exit_status for child in children] == [320, 320, 0]
    labels = {t.link_label for t in node.base.links.get_outgoing()}
    assert {"iteration_01", "iteration_02", "iteration_03", "sum"} <= labels
    considered = node.base.extras.get("considered_handlers")
    assert len(considered) == 3
    assert ["handle_garbage", {"do_break": False, "exit_status": 0}] in considered[0]
    assert ["handle_negative", None] in considered[0]  # considered, but its exit code did not match
    assert all(name != "reject_everything" for name, _ in considered[0])  # disabled: not considered at all
    reports = "\n".join(_reports(node))
    assert "failed but a handler dealt with the problem, restarting" in reports
    assert "work chain completed after 3 iterations" in reports
    assert node.outputs["sum"].uuid == children[-1].outputs["sum"].uuid


def test_max_iterations_ends_with_401(embedded_computer, tmp_path):
    code, counter = flaky_code(embedded_computer, tmp_path, failures=5)
    _, node = run.get_node(AddRestartWorkChain, add=_add(code), max_iterations=Int(2))
    assert node.exit_status == 401
    assert len(node.called) == 2 and counter.read_text().strip() == "2"


def test_a_handler_fixes_the_inputs_and_priority_and_do_break_decide_which_handlers_run(embedded_computer, tmp_path):
    code, _ = flaky_code(embedded_computer, tmp_path, failures=0)
    outputs, node = run.get_node(AddRestartWorkChain, add=_add(code, x=1, y=-4))
    assert node.is_finished_ok, node.exit_message
    assert outputs["sum"].value == 5
    first = node.base.extras.get("considered_handlers")[0]
    assert [name for name, _ in first] == ["handle_negative"]  # priority 500 broke the loop
    swapped = {"handle_negative": {"priority": 1}}
    _, node = run.get_node(AddRestartWorkChain, add=_add(code, x=1, y=-4), handler_overrides=swapped)
    assert node.exit_status == 450 and len(node.called) == 1


def test_handler_overrides_enable_a_disabled_handler(embedded_computer, tmp_path):
    code, _ = flaky_code(embedded_computer, tmp_path, failures=0)
    _, node = run.get_node(AddRestartWorkChain, add=_add(code),
                           handler_overrides={"reject_everything": {"enabled": True}})
    assert node.exit_status == 499 and len(node.called) == 1
    assert "finished successfully but a handler detected an unrecoverable problem" in "\n".join(_reports(node))


@pytest.mark.parametrize(("policy", "failures", "status", "runs"), [
    (None, 1, 402, 1), ("abort", 1, 402, 1), ("restart_once", 1, 0, 2), ("restart_once", 2, 402, 2),
])
def test_unhandled_failure_policies(embedded_computer, tmp_path, policy, failures, status, runs):
    code, _ = flaky_code(embedded_computer, tmp_path, failures=failures)
    inputs = {"add": _add(code), "handler_overrides": {"handle_garbage": {"enabled": False}}}
    if policy:
        inputs["on_unhandled_failure"] = policy
    _, node = run.get_node(AddRestartWorkChain, **inputs)
    assert node.exit_status == status, node.exit_message
    assert len(node.called) == runs


def _run_in_thread(inputs):
    result = {}

    def target():
        result["outputs"], result["node"] = run.get_node(AddRestartWorkChain, **inputs)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def _wait_paused(code, deadline=120.0):
    """The work chain that runs ``code`` once it paused."""
    from provgraph.orm.nodes.process.process import WorkChainNode

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        builder = QueryBuilder().append(InstalledCode, filters={"uuid": code.uuid}, tag="code")
        builder.append(WorkChainNode, with_incoming="code", project="pk",
                       filters={"attributes.paused": True, "attributes.process_label": "AddRestartWorkChain"})
        found = builder.all(flat=True)
        if found:
            return load_node(found[0])
        time.sleep(0.2)
    raise AssertionError("the work chain did not pause")


@pytest.mark.parametrize(("policy", "runs_before_pause"), [("pause", 1), ("restart_and_pause", 2)])
def test_pausing_policies_pause_and_play_resumes(embedded_computer, tmp_path, policy, runs_before_pause):
    code, _ = flaky_code(embedded_computer, tmp_path, failures=runs_before_pause)
    thread, result = _run_in_thread({"add": _add(code), "on_unhandled_failure": policy,
                                     "handler_overrides": {"handle_garbage": False}})
    paused = _wait_paused(code)
    try:
        assert len(paused.called) == runs_before_pause
        assert "pausing for inspection" in "\n".join(_reports(paused))
    finally:
        play(paused.pk)
        thread.join(60)
    node = result["node"]
    assert node.is_finished_ok and result["outputs"]["sum"].value == 5
    assert len(node.called) == runs_before_pause + 1


def test_clean_workdir_removes_the_working_directories(embedded_computer, tmp_path):
    code, _ = flaky_code(embedded_computer, tmp_path, failures=1)
    _, node = run.get_node(AddRestartWorkChain, add=_add(code), clean_workdir=True)
    assert node.is_finished_ok
    folders = [child.outputs["remote_folder"] for child in node.called]
    assert len(folders) == 2
    for folder in folders:
        assert not Path(folder.get_remote_path()).exists()
        assert folder.base.extras.get("cleaned") is True
    _, kept = run.get_node(AddRestartWorkChain, add=_add(code))
    assert Path(kept.called[0].outputs["remote_folder"].get_remote_path()).is_dir()


@pytest.mark.parametrize(("inputs", "message"), [
    ({"handler_overrides": {"nope": {"enabled": True}}}, "not a process handler"),
    ({"handler_overrides": {"handle_garbage": {"colour": 1}}}, "unsupported keys"),
    ({"handler_overrides": {"handle_garbage": {"priority": "high"}}}, "must be an int"),
    ({"on_unhandled_failure": "retry_forever"}, "must be one of"),
])
def test_bad_inputs_are_refused_before_anything_is_stored(embedded_computer, tmp_path, inputs, message):
    code, _ = flaky_code(embedded_computer, tmp_path, failures=0)
    before = QueryBuilder().append(AddRestartWorkChain._node_class).count()
    with pytest.raises(ValidationError, match=message):
        run(AddRestartWorkChain, add=_add(code), **inputs)
    assert QueryBuilder().append(AddRestartWorkChain._node_class).count() == before


def test_aiida_module_paths_give_the_same_objects():
    import provgraph.engine as engine
    from provgraph.engine.processes.workchains.restart import BaseRestartWorkChain
    from provgraph.engine.processes.workchains.utils import ProcessHandlerReport, process_handler

    assert engine.BaseRestartWorkChain is BaseRestartWorkChain
    assert engine.ProcessHandlerReport is ProcessHandlerReport and engine.process_handler is process_handler
    assert ProcessHandlerReport() == (False, engine.ExitCode(0))
    assert AddRestartWorkChain.exit_codes.ERROR_UNHANDLED_FAILURE.status == 402
    assert AddRestartWorkChain.exit_codes.ERROR_MAXIMUM_ITERATIONS_EXCEEDED.status == 401
    assert {code.label for code in AddRestartWorkChain.exit_codes if code.status in (301, 302)} == {
        "ERROR_SUB_PROCESS_EXCEPTED", "ERROR_SUB_PROCESS_KILLED"}
    assert [h.__name__ for h in AddRestartWorkChain.get_process_handlers()] == [
        "give_up_on_negative", "handle_garbage", "handle_negative", "reject_everything"]


def test_process_handler_refuses_bad_declarations():
    from provgraph.engine import process_handler

    with pytest.raises(TypeError, match=r"\(self, node\)"):
        process_handler(lambda self: None)
    with pytest.raises(TypeError, match="priority"):
        @process_handler(priority="high")
        def by_priority(self, node):
            return None
    with pytest.raises(TypeError, match="exit_codes"):
        @process_handler(exit_codes=[300])
        def by_codes(self, node):
            return None
    with pytest.raises(TypeError, match="enabled"):
        @process_handler(enabled="yes")
        def by_enabled(self, node):
            return None


def test_a_restart_work_chain_without_a_process_class_is_refused(backend_profile):
    from provgraph.engine import BaseRestartWorkChain, while_
    from provgraph.engine.exceptions import EngineError

    class NoClass(BaseRestartWorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.outline(cls.setup, while_(cls.should_run_process)(cls.run_process, cls.inspect_process))

    with pytest.raises(EngineError, match="no valid Process class"):
        run(NoClass)
