"""CalcJob monitors on real jobs over core.local + core.direct: one that stops a job, one that never fires."""

from __future__ import annotations

from pathlib import Path

import pytest
from calcjob_support import bash_code, local_computer

from provgraph.engine import run
from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo, CodeInfo
from provgraph.engine.processes.calcjobs.calcjob import CalcJob
from provgraph.engine.processes.calcjobs.monitors import CalcJobMonitorResult
from provgraph.exceptions import ValidationError
from provgraph.orm import Dict, Str
from provgraph.orm.nodes.process.process import CalcJobNode
from provgraph.orm.querybuilder import QueryBuilder

#: prints the marker at once, then would run for a long while
SLOW = "echo start\necho STOP-HERE\nsleep 30\necho finished\n"
QUICK = "echo start\nsleep 1\necho finished\n"


class ScriptCalculation(CalcJob):
    """Runs ``script`` with bash, its output going to ``out.txt`` (retrieved, no parser)."""

    @classmethod
    def define(cls, spec):
        """Input script (Str)."""
        super().define(spec)
        spec.input("script", valid_type=Str)

    def prepare_for_submission(self, folder: Path) -> CalcInfo:
        """Write run.sh."""
        (folder / "run.sh").write_text(self.inputs.script.value)
        code = CodeInfo(stdin_name="run.sh", stdout_name="out.txt", code_uuid=self.inputs.code.uuid)
        return CalcInfo(codes_info=[code], retrieve_list=["out.txt"])


@pytest.fixture
def computer(tmp_path):
    """A core.local + core.direct computer working below ``tmp_path``."""
    return local_computer(str(tmp_path / "work"))


def _marker(**kwargs) -> Dict:
    return Dict({"entry_point": "core.file_contains", "kwargs": {"filename": "out.txt", "marker": "STOP-HERE",
                                                                  **kwargs}, "minimum_poll_interval": 0})


def test_a_monitor_stops_a_job_whose_output_holds_the_marker(computer):
    outputs, node = run.get_node(ScriptCalculation, code=bash_code(computer), script=Str(SLOW),
                                 monitors={"marker": _marker()})
    assert node.exit_status == 150, node.exit_message
    assert "out.txt contains 'STOP-HERE'" in node.exit_message
    result = node.base.attributes.get("monitor_result")
    assert result["key"] == "marker" and result["action"] == "kill" and result["retrieve"] is True
    text = outputs["retrieved"].get_object_content("out.txt")
    assert "STOP-HERE" in text and "finished" not in text  # killed before the end


def test_a_monitor_that_asks_not_to_retrieve_leaves_no_retrieved_folder(computer):
    outputs, node = run.get_node(ScriptCalculation, code=bash_code(computer), script=Str(SLOW),
                                 monitors={"marker": _marker(retrieve=False, parse=False)})
    assert node.exit_status == 150
    assert "retrieved" not in outputs and "remote_folder" in outputs


def test_a_monitor_that_never_fires_lets_the_job_finish(computer):
    outputs, node = run.get_node(ScriptCalculation, code=bash_code(computer), script=Str(QUICK),
                                 monitors={"marker": _marker(), "always": Dict({
                                     "entry_point": "core.always_kill", "disabled": True})})
    assert node.is_finished_ok, node.exit_message
    assert node.base.attributes.get("monitor_result", None) is None
    assert "finished" in outputs["retrieved"].get_object_content("out.txt")


def test_core_always_kill_stops_the_job_at_the_first_call(computer):
    _, node = run.get_node(ScriptCalculation, code=bash_code(computer), script=Str(SLOW),
                           monitors={"always": Dict({"entry_point": "core.always_kill"})})
    assert node.exit_status == 150 and "always kills" in node.exit_message


@pytest.mark.parametrize("monitor, problem", [
    ({"entry_point": "core.no_such_monitor"}, "no monitor"),
    ({"entry_point": "core.always_kill", "interval": 3}, "unknown keys"),
    ({"entry_point": "core.always_kill", "minimum_poll_interval": -1}, ">= 0"),
])
def test_bad_monitors_are_refused_before_anything_is_stored(computer, monitor, problem):
    before = QueryBuilder().append(CalcJobNode).count()
    with pytest.raises(ValidationError, match=problem):
        run.get_node(ScriptCalculation, code=bash_code(computer), script=Str(QUICK), monitors={"m": Dict(monitor)})
    assert QueryBuilder().append(CalcJobNode).count() == before


def test_a_monitor_result_cannot_parse_without_retrieving():
    with pytest.raises(ValueError, match="parse without retrieving"):
        CalcJobMonitorResult(message="x", retrieve=False, parse=True)
