"""Process functions behave as in AiiDA 2.x (calcfunction/workfunction), on the embedded sqlite profile."""

from __future__ import annotations

import pytest
from process_support import reports, sqlite_engine  # noqa: F401 - autouse fixture

from provgraph.common.links import LinkType
from provgraph.engine import ExitCode, calcfunction, run, run_get_node, run_get_pk, workfunction
from provgraph.exceptions import LinkRuleError, ValidationError
from provgraph.orm import CalcFunctionNode, Data, Dict, Float, Int, Str, WorkFunctionNode, load_node


@calcfunction
def add(x, y):
    return x + y


@calcfunction
def add_typed(x: Int, y: Int) -> Int:
    """Add two integers.

    :param x: the first summand,
        written over two lines
    :param y: the second summand
    """
    return Int(x.value + y.value)


@calcfunction
def add_union(x: Int | Float, y: Int | None = None):
    return x + (y or 0)


@calcfunction
def sum_all(*args):
    return Int(sum(arg.value for arg in args))


@calcfunction
def first_and_rest(a, *args, scale=None):
    factor = scale.value if scale is not None else 1
    return {"first": Int(a.value * factor), "rest": Int(sum(arg.value for arg in args) * factor)}


@calcfunction
def with_kwargs(x, **kwargs):
    return {key: Int(x.value + value.value) for key, value in kwargs.items()}


@calcfunction
def nested_outputs(x):
    return {"nested.sum": x + 1, "nested.deeper.twice": x * 2, "plain": x + 3}


@calcfunction
def sees_pks(x, y):
    assert x.pk is not None and y.pk is not None
    assert x.is_stored and y.is_stored
    return {"x_pk": Int(x.pk), "y_pk": Int(y.pk)}


@workfunction
def return_input(x):
    return x


@workfunction
def return_one_of_inputs(x, y, pick):
    return x if pick.value == "x" else y


@workfunction
def return_exit_code(x):
    return ExitCode(312, "not enough {what}".format(what="apples"))


@workfunction
def return_spec_exit_code(x):
    return ExitCode(0)


@workfunction
def add_then_double(x, y):
    total = add(x, y)
    return {"sum": total, "double": add(total, total)}


@workfunction
def returns_unstored(x):
    return Int(5)


@calcfunction
def returns_stored_input(x):
    return x


@calcfunction
def raises_own(x):
    raise KeyError(f"missing thing {x.value}")


@workfunction
def calls_failing(x):
    return raises_own(x)


@calcfunction
def returns_nothing(x):
    return None


@calcfunction
def returns_bad(x):
    return 5


@calcfunction
def with_default(x, y=10):
    return x + y


@calcfunction
def optional_input(x, y=None):
    return Int(x.value + (y.value if y is not None else 100))


# --- calling, results ---------------------------------------------------------------------------


def test_call_returns_single_output_node():
    result = add(Int(1), Int(2))
    assert isinstance(result, Int) and result.value == 3 and result.is_stored


def test_plain_python_values_are_wrapped():
    result = add(1, 2)
    assert result.value == 3
    node = result.base.links.get_incoming().one().node
    assert {t.link_label: t.node.value for t in node.base.links.get_incoming()} == {"x": 1, "y": 2}


def test_run_get_node_returns_result_and_node():
    result, node = add.run_get_node(Int(2), Int(3))
    assert result.value == 5 and isinstance(node, CalcFunctionNode) and node.is_finished_ok


def test_run_get_node_is_a_named_tuple():
    outcome = add.run_get_node(Int(2), Int(3))
    assert outcome.result.value == 5 and outcome.node.is_stored


def test_fn_run_get_pk():
    result, pk = add.run_get_pk(Int(4), Int(5))
    assert result.value == 9 and isinstance(pk, int)
    assert load_node(pk).process_label == "add"


def test_launch_run_get_pk_of_function():
    outcome = run_get_pk(add, x=Int(1), y=Int(1))
    assert outcome.result.value == 2 and load_node(outcome.pk).is_finished_ok


def test_launch_run_of_function_with_keywords():
    assert run(add, x=Int(6), y=Int(1)).value == 7


def test_launch_run_get_node_of_function():
    result, node = run_get_node(add, x=Int(6), y=Int(2))
    assert result.value == 8 and node.outputs["result"].value == 8


def test_fn_run_same_as_call():
    assert add.run(Int(1), Int(9)).value == 10


def test_keyword_arguments():
    assert add(y=Int(1), x=Int(2)).value == 3


def test_missing_argument_refused_before_storing():
    with pytest.raises(ValidationError, match="missing a required argument"):
        add(Int(1))


def test_too_many_arguments_refused():
    with pytest.raises(ValidationError):
        add(Int(1), Int(2), Int(3))


def test_default_value():
    assert with_default(Int(1)).value == 11


def test_none_default_makes_input_optional():
    assert optional_input(Int(1)).value == 101
    assert optional_input(Int(1), Int(2)).value == 3


def test_none_default_not_linked():
    _, node = optional_input.run_get_node(Int(1))
    assert [t.link_label for t in node.base.links.get_incoming()] == ["x"]


def test_kwargs_become_dynamic_inputs():
    result, node = with_kwargs.run_get_node(Int(1), a=Int(2), b=Int(3))
    assert {key: value.value for key, value in result.items()} == {"a": 3, "b": 4}
    assert sorted(t.link_label for t in node.base.links.get_incoming()) == ["a", "b", "x"]


def test_metadata_label_and_description():
    _, node = add.run_get_node(Int(1), Int(2), metadata={"label": "lbl", "description": "desc"})
    assert node.label == "lbl" and node.description == "desc"


def test_metadata_is_reserved():
    with pytest.raises(ValidationError, match="reserved"):
        @calcfunction
        def bad(metadata):
            return None

        bad.spec()


# --- *args ----------------------------------------------------------------------------------------


def test_var_positional_arguments():
    result, node = sum_all.run_get_node(Int(1), Int(2), Int(3))
    assert result.value == 6
    assert sorted(t.link_label for t in node.base.links.get_incoming()) == ["args_0", "args_1", "args_2"]


def test_var_positional_after_positional_and_keyword_only():
    result, node = first_and_rest.run_get_node(Int(2), Int(3), Int(4), scale=Int(10))
    assert result["first"].value == 20 and result["rest"].value == 70
    assert sorted(t.link_label for t in node.base.links.get_incoming()) == ["a", "args_0", "args_1", "scale"]


def test_var_positional_empty():
    assert sum_all().value == 0


def test_var_positional_keeps_order():
    @calcfunction
    def concat(*args):
        return Str("".join(arg.value for arg in args))

    assert concat(*[Str(c) for c in "abcdefghijkl"]).value == "abcdefghijkl"


# --- outputs ----------------------------------------------------------------------------------------


def test_nested_output_labels():
    result = nested_outputs(Int(1))
    assert result["nested"]["sum"].value == 2
    assert result["nested"]["deeper"]["twice"].value == 2
    assert result["plain"].value == 4


def test_nested_outputs_attribute_access():
    result = nested_outputs(Int(5))
    assert result.nested.sum.value == 6


def test_nested_output_link_labels_use_double_underscore():
    _, node = nested_outputs.run_get_node(Int(1))
    labels = sorted(t.link_label for t in node.base.links.get_outgoing(link_type=LinkType.CREATE))
    assert labels == ["nested__deeper__twice", "nested__sum", "plain"]


def test_dict_of_outputs():
    result = first_and_rest(Int(1), Int(2))
    assert set(result) == {"first", "rest"}


def test_returning_none_gives_empty_outputs():
    result, node = returns_nothing.run_get_node(Int(1))
    assert result == {} and node.is_finished_ok


def test_returning_a_non_node_excepts():
    with pytest.raises(ValidationError, match="returned int"):
        returns_bad(Int(1))


def test_calcfunction_cannot_return_its_input():
    with pytest.raises(ValidationError, match="existing data"):
        returns_stored_input(Int(1))


def test_calcfunction_output_link_is_create():
    result = add(Int(1), Int(2))
    (link,) = result.base.links.get_incoming().all()
    assert link.link_type is LinkType.CREATE and link.link_label == "result"


# --- inputs are stored before the body runs ----------------------------------------------------------


def test_inputs_stored_before_body():
    result = sees_pks(Int(1), Int(2))
    assert result["x_pk"].value > 0 and result["y_pk"].value > 0


def test_inputs_given_as_python_values_are_stored_before_body():
    result = sees_pks(1, 2)
    assert load_node(result["x_pk"].value).value == 1


def test_stored_input_pk_unchanged():
    x = Int(7).store()
    result = sees_pks(x, Int(1))
    assert result["x_pk"].value == x.pk


def test_inputs_stored_inside_workfunction_calls():
    @workfunction
    def chain(x):
        first = add(x, Int(1))
        return {"pks": sees_pks(first, x)["x_pk"], "first": first}

    result = chain(Int(1))
    assert result["pks"].value == result["first"].pk


def test_query_on_input_inside_body():
    from provgraph.orm import QueryBuilder

    @calcfunction
    def count_self(x):
        found = QueryBuilder().append(Int, filters={"pk": x.pk}).count()
        return Int(found)

    assert count_self(Int(3)).value == 1


# --- workfunctions -------------------------------------------------------------------------------------


def test_workfunction_may_return_its_input():
    x = Int(4)
    result, node = return_input.run_get_node(x)
    assert result.uuid == x.uuid and x.is_stored
    assert isinstance(node, WorkFunctionNode) and node.is_finished_ok


def test_workfunction_returns_one_of_inputs():
    x, y = Int(1), Int(2)
    assert return_one_of_inputs(x, y, Str("y")).uuid == y.uuid


def test_workfunction_return_link_of_input():
    x = Int(4)
    _, node = return_input.run_get_node(x)
    (link,) = node.base.links.get_outgoing(link_type=LinkType.RETURN).all()
    assert link.node.uuid == x.uuid and link.link_label == "result"


def test_workfunction_returning_unstored_data_refused():
    with pytest.raises(LinkRuleError):
        returns_unstored(Int(1))


def test_link_rule_error_is_value_error():
    with pytest.raises(ValueError):
        returns_unstored(Int(1))


def test_workfunction_calls_calcfunctions():
    result, node = add_then_double.run_get_node(Int(1), Int(2))
    assert result["sum"].value == 3 and result["double"].value == 6
    called = node.called
    assert len(called) == 2 and all(isinstance(c, CalcFunctionNode) for c in called)


def test_called_calcfunction_knows_its_caller():
    _, node = add_then_double.run_get_node(Int(1), Int(2))
    assert all(child.caller.uuid == node.uuid for child in node.called)


def test_workfunction_exit_code():
    result, node = return_exit_code.run_get_node(Int(1))
    assert result == {}
    assert node.is_finished and node.is_failed and node.exit_status == 312
    assert node.exit_message == "not enough apples"


def test_workfunction_exit_code_on_node():
    _, node = return_exit_code.run_get_node(Int(1))
    code = node.exit_code
    assert code.status == 312 and code.message == "not enough apples"


def test_workfunction_zero_exit_code_is_success():
    _, node = return_spec_exit_code.run_get_node(Int(1))
    assert node.is_finished_ok and node.exit_status == 0


def test_calcfunction_cannot_call_processes():
    @calcfunction
    def calls(x):
        return add(x, x)

    with pytest.raises(ValidationError, match="cannot call"):
        calls(Int(1))


# --- exceptions ------------------------------------------------------------------------------------------


def test_own_exception_is_raised():
    with pytest.raises(KeyError, match="missing thing 3"):
        raises_own(Int(3))


def test_own_exception_through_run():
    with pytest.raises(KeyError, match="missing thing 4"):
        run(raises_own, x=Int(4))


def test_excepted_node_is_stored_with_traceback():
    from provgraph.orm import QueryBuilder

    with pytest.raises(KeyError):
        raises_own(Int(98765))
    qb = QueryBuilder().append(Int, filters={"attributes.value": 98765}, tag="x")
    qb.append(CalcFunctionNode, with_incoming="x", project="*")
    node = qb.all(flat=True)[-1]
    assert node.is_excepted and "missing thing 98765" in node.exception
    assert any("KeyError" in message for message in reports(node))


def test_exception_of_called_function_reaches_caller():
    with pytest.raises(KeyError, match="missing thing 5"):
        calls_failing(Int(5))


# --- annotations and docstrings --------------------------------------------------------------------------


def test_annotation_refuses_wrong_type():
    with pytest.raises(ValueError, match="inputs.y"):
        add_typed(Int(1), Float(2.0))


def test_annotation_error_is_validation_error_naming_types():
    with pytest.raises(ValidationError, match="takes Int, not Float"):
        add_typed(Int(1), Float(2.0))


def test_annotation_accepts_right_type():
    assert add_typed(Int(1), Int(2)).value == 3


def test_annotation_wraps_python_value_into_annotated_type():
    assert add_typed(1, 2).value == 3


def test_annotation_refuses_python_float_for_int():
    with pytest.raises(ValidationError):
        add_typed(1, 2.5)


def test_wrong_type_stores_nothing():
    from provgraph.orm import QueryBuilder

    before = QueryBuilder().append(CalcFunctionNode, filters={"attributes.process_label": "add_typed"}).count()
    with pytest.raises(ValidationError):
        add_typed(Int(1), Str("a"))
    after = QueryBuilder().append(CalcFunctionNode, filters={"attributes.process_label": "add_typed"}).count()
    assert before == after


def test_union_annotation():
    assert add_union(Float(1.5)).value == 1.5
    assert add_union(Int(1), Int(2)).value == 3
    with pytest.raises(ValidationError):
        add_union(Str("x"))


def test_optional_annotation_allows_omitting():
    port = add_union.spec().inputs["y"]
    assert port.valid_type == (Int,) and not port.required


def test_annotation_valid_type_in_spec():
    assert add_typed.spec().inputs["x"].valid_type == (Int,)


def test_builtin_annotation_maps_to_data_type():
    @calcfunction
    def plain(x: int):
        return x + 1

    assert plain.spec().inputs["x"].valid_type == (Int,)
    assert plain(1).value == 2
    with pytest.raises(ValidationError, match="takes Int"):
        plain(Float(1.5))


def test_builtin_union_annotation():
    @calcfunction
    def either(x: int | str):
        return Str(str(x.value))

    assert either.spec().inputs["x"].valid_type == (Int, Str)
    with pytest.raises(ValidationError):
        either(Float(1.5))


def test_unmappable_annotation_is_ignored():
    @calcfunction
    def anything(x: bytes):
        return Int(1)

    assert anything.spec().inputs["x"].valid_type == (Data,)


def test_data_and_builtin_union_deduplicated():
    @calcfunction
    def dup(x: Int | int):
        return x + 1

    assert dup.spec().inputs["x"].valid_type == (Int,)


def test_docstring_param_becomes_help():
    inputs = add_typed.spec().inputs
    assert inputs["x"].help == "the first summand,\nwritten over two lines"
    assert inputs["y"].help == "the second summand"


def test_no_docstring_no_help():
    assert add.spec().inputs["x"].help is None


# --- node attributes --------------------------------------------------------------------------------------


def test_function_name_and_namespace():
    _, node = add.run_get_node(Int(1), Int(2))
    assert node.function_name == "add"
    assert node.function_namespace == __name__


def test_function_starting_line_number():
    import inspect

    _, node = add.run_get_node(Int(1), Int(2))
    assert node.function_starting_line_number == inspect.getsourcelines(add.__wrapped__)[1]
    assert node.function_number_of_lines == 3


def test_function_attributes_on_workfunction():
    _, node = return_input.run_get_node(Int(1))
    assert node.function_name == "return_input" and node.base.attributes.get("function_name") == "return_input"


def test_process_label_is_function_name():
    _, node = add.run_get_node(Int(1), Int(2))
    assert node.process_label == "add"


def test_process_class_of_function_node():
    _, node = add.run_get_node(Int(1), Int(2))
    assert node.process_class is add.process_class


def test_decorated_function_keeps_name_and_doc():
    assert add_typed.__name__ == "add_typed" and "Add two integers" in add_typed.__doc__


def test_is_process_function():
    assert add.is_process_function is True


def test_node_class_of_decorated_functions():
    assert add.node_class is CalcFunctionNode and return_input.node_class is WorkFunctionNode


def test_dict_input():
    @calcfunction
    def keys(d):
        return Int(len(d.get_dict()))

    assert keys(Dict({"a": 1, "b": 2})).value == 2


def test_launch_run_of_function_with_inputs_dict():
    assert run(add, {"x": Int(2), "y": Int(3)}).value == 5


def test_launch_run_get_node_of_function_with_inputs_dict():
    result, node = run_get_node(add, {"x": 2, "y": 3})
    assert result.value == 5 and node.is_finished_ok


def test_launch_run_function_dict_and_keywords_refused():
    with pytest.raises(ValidationError, match="not both"):
        run(add, {"x": Int(2)}, y=Int(3))


def test_calling_function_with_dict_passes_it_as_argument():
    @calcfunction
    def size(d):
        return Int(len(d.get_dict()))

    assert size({"a": 1, "b": 2, "c": 3}).value == 3


# --- store_provenance ------------------------------------------------------------------------------


def test_store_provenance_false_stores_nothing():
    from provgraph.orm import QueryBuilder

    before = QueryBuilder().append(CalcFunctionNode).count()
    result, node = add.run_get_node(Int(1), Int(2), metadata={"store_provenance": False})
    assert result.value == 3 and not result.is_stored and not node.is_stored
    assert node.is_finished_ok
    assert QueryBuilder().append(CalcFunctionNode).count() == before


def test_store_provenance_false_inputs_stay_unstored():
    x = Int(1)
    add(x, Int(2), metadata={"store_provenance": False})
    assert not x.is_stored


def test_store_provenance_false_refused_for_workfunction():
    with pytest.raises(ValidationError, match="store_provenance=False"):
        return_input(Int(1), metadata={"store_provenance": False})


def test_store_provenance_false_refused_inside_a_process():
    @workfunction
    def calls_unstored(x):
        return add(x, x, metadata={"store_provenance": False})

    with pytest.raises(ValidationError, match="top level"):
        calls_unstored(Int(1))


def test_store_provenance_false_refused_for_submit():
    from provgraph.engine import submit

    with pytest.raises(ValidationError, match="not submit"):
        submit(add, x=Int(1), y=Int(2), metadata={"store_provenance": False})


def test_store_provenance_is_optional_metadata():
    port = add.spec().inputs["metadata"]["store_provenance"]
    assert port.valid_type == (bool,) and not port.required


def test_store_provenance_true_stores():
    result = add(Int(1), Int(2), metadata={"store_provenance": True})
    assert result.is_stored
