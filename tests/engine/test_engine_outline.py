"""The outline interpreter alone: cursors, conditions and loops, without a database."""

from __future__ import annotations

import pytest

from provgraph.engine.exceptions import EngineError
from provgraph.engine.processes.outline import Block, after_step, fingerprint, if_, next_action, return_, while_
from provgraph.exceptions import ValidationError


def _steps(outline, state, limit=50):
    """Run the outline with a dict as 'self'; return the names of the steps called and how it ended."""
    cursor, called = [0], []
    for _ in range(limit):
        action, cursor = next_action(outline, cursor, lambda cond: bool(cond(state)))
        if action.kind != "step":
            return called, action
        action.function(state)
        called.append(action.function.__name__)
        cursor = after_step(cursor)
    raise AssertionError("outline did not end")


def _step(name):
    def function(state):
        state.setdefault("log", []).append(name)
        if name == "inc":
            state["i"] += 1
    function.__name__ = function.__qualname__ = name
    return function


A, B, C, D, INC = (_step(n) for n in ("a", "b", "c", "d", "inc"))


def test_if_elif_else_choose_one_branch():
    outline = Block([A, if_(lambda s: s["x"] == 1)(B).elif_(lambda s: s["x"] == 2)(C).else_(D), A])
    assert _steps(outline, {"x": 1})[0] == ["a", "b", "a"]
    assert _steps(outline, {"x": 2})[0] == ["a", "c", "a"]
    assert _steps(outline, {"x": 3})[0] == ["a", "d", "a"]


def test_if_without_else_skips():
    assert _steps(Block([if_(lambda s: False)(B), A]), {})[0] == ["a"]


def test_while_loops_and_nests():
    outline = Block([while_(lambda s: s["i"] < 3)(INC, if_(lambda s: s["i"] == 2)(B)), C])
    called, action = _steps(outline, {"i": 0})
    assert called == ["inc", "inc", "b", "inc", "c"] and action.kind == "end"


def test_return_ends_with_optional_code():
    called, action = _steps(Block([A, return_, B]), {})
    assert called == ["a"] and action.kind == "return" and action.exit_code is None
    called, action = _steps(Block([A, if_(lambda s: True)(return_(7)), B]), {})
    assert called == ["a"] and action.exit_code == 7


def test_cursor_is_resumable_data():
    outline = Block([while_(lambda s: s["i"] < 2)(INC, B), C])
    state = {"i": 0}
    action, cursor = next_action(outline, [0], lambda cond: bool(cond(state)))
    assert cursor == [0, 0, 0]
    action.function(state)
    cursor = after_step(cursor)
    # a new interpreter continues from the plain list of indices
    action, cursor = next_action(outline, list(cursor), lambda cond: bool(cond(state)))
    assert action.function is B and cursor == [0, 0, 1]


def test_fingerprint_follows_the_outline():
    assert fingerprint(Block([A, B])) == fingerprint(Block([A, B]))
    assert fingerprint(Block([A, B])) != fingerprint(Block([B, A]))
    assert fingerprint(Block([while_(lambda s: 1)(A)])) != fingerprint(Block([A]))


def test_bad_cursor_and_incomplete_outlines():
    with pytest.raises(EngineError, match="does not fit"):
        next_action(Block([A]), [0, 0, 0], lambda cond: True)
    with pytest.raises(ValidationError, match="needs its steps"):
        Block([if_(lambda s: True)])
    with pytest.raises(ValidationError, match="empty body"):
        while_(lambda s: True)()
