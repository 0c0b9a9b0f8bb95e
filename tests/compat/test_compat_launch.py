"""Launching as in AiiDA 2.x: run/run_get_node/run_get_pk, inputs dicts, submit(wait=...), builders."""

from __future__ import annotations

import pytest
import workchains_for_compat as wc
from process_support import driven, sqlite_engine  # noqa: F401 - fixtures

from provgraph.engine import ProcessBuilder, run, run_get_node, run_get_pk, submit
from provgraph.engine.exceptions import ProcessNotImportable
from provgraph.engine.launch import set_submitter
from provgraph.exceptions import ConfigurationError, ValidationError
from provgraph.orm import Float, Int, QueryBuilder, WorkChainNode, load_node


def test_run_with_keywords():
    assert run(wc.AddWorkChain, x=Int(1), y=Int(2))["sum"].value == 3


def test_run_with_positional_inputs_dict():
    assert run(wc.AddWorkChain, {"x": Int(1), "y": Int(5)})["sum"].value == 6


def test_run_dict_and_keywords_together_refused():
    with pytest.raises(ValueError, match="not both"):
        run(wc.AddWorkChain, {"x": Int(1)}, y=Int(7))


def test_run_empty_dict_and_keywords_refused():
    with pytest.raises(ValidationError, match="not both"):
        run(wc.AddWorkChain, {}, x=Int(1), y=Int(1))


def test_run_two_positional_refused():
    with pytest.raises(ValidationError, match="one dict or as keyword"):
        run(wc.AddWorkChain, {"x": Int(1)}, {"y": Int(2)})


def test_run_plain_values_wrapped():
    assert run(wc.AddWorkChain, x=2, y=3)["sum"].value == 5


def test_run_returns_outputs_dict():
    outputs = run(wc.AddWorkChain, x=Int(1), y=Int(2))
    assert set(outputs) == {"sum"} and outputs.sum.value == 3


def test_run_get_node():
    outputs, node = run_get_node(wc.AddWorkChain, x=Int(1), y=Int(2))
    assert outputs["sum"].value == 3 and isinstance(node, WorkChainNode) and node.is_finished_ok


def test_run_get_node_named_fields():
    outcome = run_get_node(wc.AddWorkChain, {"x": Int(1), "y": Int(2)})
    assert outcome.node.is_finished_ok and outcome.result["sum"].value == 3


def test_run_get_pk():
    outcome = run_get_pk(wc.AddWorkChain, x=Int(1), y=Int(2))
    assert isinstance(outcome.pk, int) and load_node(outcome.pk).is_finished_ok
    assert outcome.result["sum"].value == 3


def test_run_get_node_attribute_of_run():
    _, node = run.get_node(wc.AddWorkChain, x=Int(1), y=Int(2))
    assert node.is_finished_ok


def test_run_get_pk_attribute_of_run():
    _, pk = run.get_pk(wc.AddWorkChain, x=Int(1), y=Int(2))
    assert load_node(pk).process_label == "AddWorkChain"


def test_run_builder():
    builder = wc.AddWorkChain.get_builder()
    builder.x = Int(3)
    builder.y = Int(4)
    assert run(builder)["sum"].value == 7


def test_run_builder_with_extra_keywords():
    builder = wc.AddWorkChain.get_builder()
    builder.x = Int(3)
    assert run(builder, y=Int(1))["sum"].value == 4


def test_run_missing_input_stores_nothing():
    before = QueryBuilder().append(WorkChainNode).count()
    with pytest.raises(ValidationError, match="inputs.y"):
        run(wc.AddWorkChain, x=Int(1))
    assert QueryBuilder().append(WorkChainNode).count() == before


def test_run_wrong_type():
    with pytest.raises(ValidationError, match="takes Int"):
        run(wc.AddWorkChain, x=Int(1), y=Float(2.5))


def test_run_unknown_input():
    with pytest.raises(ValidationError, match="unexpected port 'inputs.z'"):
        run(wc.AddWorkChain, x=Int(1), y=Int(2), z=Int(3))


def test_run_optional_input():
    assert run(wc.AddWorkChain, x=Int(1), y=Int(2), offset=Int(10))["sum"].value == 13


def test_run_metadata_label():
    _, node = run_get_node(wc.AddWorkChain, x=Int(1), y=Int(2), metadata={"label": "mine", "description": "d"})
    assert node.label == "mine" and node.description == "d"


def test_run_not_a_process():
    with pytest.raises(ValidationError, match="cannot launch"):
        run(int, x=1)


# --- submit -----------------------------------------------------------------------------------------------


def test_submit_returns_node(driven):  # noqa: F811
    node = submit(wc.AddWorkChain, x=Int(1), y=Int(2))
    assert isinstance(node, WorkChainNode) and node.pk in driven


def test_submit_positional_inputs(driven):  # noqa: F811
    node = submit(wc.AddWorkChain, {"x": Int(1), "y": Int(2)})
    assert load_node(node.pk).is_finished_ok and driven == [node.pk]


def test_submit_dict_and_keywords_refused():
    before = QueryBuilder().append(WorkChainNode).count()
    with pytest.raises(ValidationError, match="not both"):
        submit(wc.AddWorkChain, {"x": Int(1)}, y=Int(4))
    assert QueryBuilder().append(WorkChainNode).count() == before


def test_submit_sum_output():
    node = submit(wc.AddWorkChain, {"x": Int(1), "y": Int(4)})
    assert load_node(node.pk).base.links.get_outgoing(link_label_filter="sum").one().node.value == 5


def test_submit_wait():
    node = submit(wc.AddWorkChain, {"x": Int(2), "y": Int(2)}, wait=True, wait_interval=0.01)
    assert node.is_terminated and node.is_finished_ok


def test_submit_wait_waits_for_a_later_run():
    import threading

    from provgraph.engine.launch import Runner

    pending: list[int] = []
    set_submitter(pending.append)

    def later():
        while not pending:
            threading.Event().wait(0.01)
        Runner(poll_interval=0.01).drive(pending[0])

    thread = threading.Thread(target=later)
    thread.start()
    node = submit(wc.AddWorkChain, x=Int(5), y=Int(5), wait=True, wait_interval=0.01)
    thread.join(timeout=60)
    assert node.is_finished_ok


def test_submit_builder():
    builder = wc.AddWorkChain.get_builder()
    builder.x, builder.y = Int(1), Int(1)
    assert load_node(submit(builder).pk).is_finished_ok


def test_submit_process_function():
    node = submit(wc.add, x=Int(1), y=Int(2))
    assert load_node(node.pk).is_finished_ok


def test_submit_invalid_inputs_stores_nothing():
    before = QueryBuilder().append(WorkChainNode).count()
    with pytest.raises(ValidationError):
        submit(wc.AddWorkChain, x=Int(1))
    assert QueryBuilder().append(WorkChainNode).count() == before


def test_submit_local_class_refused():
    class Local(wc.AddWorkChain):
        pass

    with pytest.raises(ProcessNotImportable, match="local scope"):
        submit(Local, x=Int(1), y=Int(2))


def test_submit_without_submitter_refused():
    set_submitter(None)
    with pytest.raises(ConfigurationError, match="no submitter"):
        submit(wc.AddWorkChain, x=Int(1), y=Int(2))


# --- builders ------------------------------------------------------------------------------------------


def test_builder_update():
    builder = wc.AddWorkChain.get_builder()
    builder._update({"x": Int(1), "y": Int(2)})
    assert builder.x.value == 1 and run(builder)["sum"].value == 3


def test_builder_update_keywords():
    builder = wc.AddWorkChain.get_builder()
    builder._update(x=Int(1), y=Int(9))
    assert run(builder)["sum"].value == 10


def test_builder_update_nested_namespace_merges():
    builder = wc.NamespacedWorkChain.get_builder()
    builder.extra.a = Int(1)
    builder._update({"x": Int(1), "extra": {"b": Int(2)}})
    assert builder.extra.a.value == 1 and builder.extra.b.value == 2


def test_builder_update_validates():
    builder = wc.AddWorkChain.get_builder()
    with pytest.raises(ValidationError, match="takes Int"):
        builder._update({"x": Float(1.5)})


def test_builder_update_unknown_name():
    builder = wc.AddWorkChain.get_builder()
    with pytest.raises(AttributeError, match="no input 'nope'"):
        builder._update({"nope": Int(1)})


def test_builder_merge():
    builder = wc.NamespacedWorkChain.get_builder()
    builder._merge({"x": 1, "extra": {"a": 2}})
    assert builder.x.value == 1 and builder.extra.a.value == 2


def test_builder_is_process_builder():
    assert isinstance(wc.AddWorkChain.get_builder(), ProcessBuilder)


def test_builder_item_access():
    builder = wc.AddWorkChain.get_builder()
    builder["x"] = 4
    assert builder["x"].value == 4 and "x" in builder


def test_builder_process_class():
    assert wc.AddWorkChain.get_builder().process_class is wc.AddWorkChain


def test_builder_of_function():
    builder = wc.add.get_builder()
    builder.x, builder.y = 1, 2
    assert run(builder).value == 3


def test_builder_metadata():
    builder = wc.AddWorkChain.get_builder()
    builder._update(x=1, y=2)
    builder.metadata.label = "from builder"
    _, node = run_get_node(builder)
    assert node.label == "from builder"


def test_self_submit_with_inputs_dict():
    assert run(wc.SubmitDictWorkChain)["sum"].value == 5


def test_assign_in_to_context():
    from provgraph.engine import ToContext, WorkChain, assign_

    class Assigning(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.outline(cls.launch, cls.collect)
            spec.output("sum", valid_type=Int)

        def launch(self):
            return ToContext(child=assign_(self.submit(wc.AddWorkChain, x=Int(1), y=Int(1))))

        def collect(self):
            self.out("sum", self.ctx.child.base.links.get_outgoing(link_label_filter="sum").one().node)

    assert run(Assigning)["sum"].value == 2
