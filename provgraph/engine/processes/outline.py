"""The WorkChain outline and its interpreter.

An outline is a tree of instructions: steps (methods of the WorkChain), blocks,
``if_/elif_/else_``, ``while_`` and ``return_``. It is interpreted explicitly (no
Python generators), so the position reached is plain data: a **cursor**, the path of
indices to the next instruction. The cursor ``[2, 1, 0]`` means "instruction 2 of the
top block is a conditional or loop; in its block 1 (branch 1 of an ``if_``, or 0, the
body of a ``while_``), instruction 0 is next". Conditions are evaluated when reached,
a loop's again at the end of its body, so a checkpointed cursor resumes exactly where
the previous step ended, in any interpreter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from provgraph.engine.exceptions import EngineError
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.exceptions import ValidationError

Condition = Callable[[Any], Any]


class Instruction:
    """Base of the outline instructions."""

    def signature(self) -> list[str]:
        """Names of the functions this instruction refers to, in order (for the outline fingerprint)."""
        raise NotImplementedError


class Step(Instruction):
    """Call one method of the WorkChain."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def signature(self) -> list[str]:
        return [f"step:{_name(self.function)}"]


class Block(Instruction):
    """A sequence of instructions."""

    def __init__(self, instructions: Sequence[Any]) -> None:
        self.instructions = tuple(_splice(instructions))

    def __len__(self) -> int:
        return len(self.instructions)

    def signature(self) -> list[str]:
        return [name for item in self.instructions for name in item.signature()] + ["end"]


class _Conditional(Instruction):
    """An instruction owning blocks (``if_`` and ``while_``)."""

    def blocks(self) -> tuple[Block, ...]:
        """The blocks the cursor can enter, by index."""
        raise NotImplementedError


class If(_Conditional):
    """``if_(cond)(...).elif_(cond)(...).else_(...)``: the first branch whose condition holds runs."""

    def __init__(self, condition: Condition) -> None:
        self.branches: list[tuple[Condition, Block | None]] = [(condition, None)]
        self.otherwise: Block | None = None

    def __call__(self, *instructions: Any) -> If:
        condition, block = self.branches[-1]
        if block is not None:
            raise ValidationError("if_/elif_ already has its steps: write if_(cond)(steps).elif_(cond)(steps)")
        self.branches[-1] = (condition, Block(instructions))
        return self

    def elif_(self, condition: Condition) -> If:
        """Add a branch tried when the previous conditions did not hold."""
        self._require_complete("elif_")
        self.branches.append((condition, None))
        return self

    def else_(self, *instructions: Any) -> If:
        """Add the branch run when no condition holds."""
        self._require_complete("else_")
        self.otherwise = Block(instructions)
        return self

    def _require_complete(self, what: str) -> None:
        if self.branches[-1][1] is None or self.otherwise is not None:
            raise ValidationError(f"{what} must follow a complete if_(cond)(steps) without else_")

    def blocks(self) -> tuple[Block, ...]:
        complete = tuple(block for _, block in self.branches if block is not None)
        return complete + ((self.otherwise,) if self.otherwise is not None else ())

    def signature(self) -> list[str]:
        names = []
        for condition, block in self.branches:
            names += [f"if:{_name(condition)}"] + (block.signature() if block else [])
        return names + (["else"] + self.otherwise.signature() if self.otherwise else [])


class While(_Conditional):
    """``while_(cond)(...)``: run the body while the condition holds."""

    def __init__(self, condition: Condition) -> None:
        self.condition = condition
        self.body: Block | None = None

    def __call__(self, *instructions: Any) -> While:
        if self.body is not None:
            raise ValidationError("while_ already has its steps")
        if not instructions:
            raise ValidationError("while_ needs at least one step: an empty body would loop forever")
        self.body = Block(instructions)
        return self

    def blocks(self) -> tuple[Block, ...]:
        return (self.body,) if self.body is not None else ()

    def signature(self) -> list[str]:
        return [f"while:{_name(self.condition)}"] + (self.body.signature() if self.body else [])


class Return(Instruction):
    """``return_`` ends the WorkChain (exit status 0); ``return_(exit_code)`` ends it with that code."""

    def __init__(self, exit_code: ExitCode | int | str | None = None) -> None:
        self.exit_code = exit_code

    def __call__(self, exit_code: ExitCode | int | str | None = None) -> Return:
        return Return(exit_code)

    def signature(self) -> list[str]:
        code = self.exit_code.status if isinstance(self.exit_code, ExitCode) else self.exit_code
        return [f"return:{code}"]


def if_(condition: Condition) -> If:
    """Start a conditional: ``if_(cls.is_small)(cls.step_a).else_(cls.step_b)``."""
    return If(condition)


def while_(condition: Condition) -> While:
    """Start a loop: ``while_(cls.not_converged)(cls.iterate)``."""
    return While(condition)


return_ = Return()


def as_instruction(item: Any) -> Instruction:
    """Turn an outline item (an instruction or a method) into an instruction."""
    if isinstance(item, Instruction):
        if isinstance(item, If) and item.branches[-1][1] is None:
            raise ValidationError("if_(cond) needs its steps: if_(cond)(step, ...)")
        if isinstance(item, While) and item.body is None:
            raise ValidationError("while_(cond) needs its steps: while_(cond)(step, ...)")
        return item
    if callable(item):
        return Step(item)
    raise ValidationError(f"an outline holds steps, if_, while_ and return_; not {item!r}")


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", getattr(function, "__name__", repr(function)))


def fingerprint(outline: Block) -> str:
    """A short hash of the outline's shape and function names: a checkpoint only resumes the same outline."""
    return hashlib.sha256("|".join(outline.signature()).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Action:
    """What the interpreter found next: a step to call, a return, or the end of the outline."""

    kind: str  # "step" | "return" | "end"
    function: Callable[[Any], Any] | None = None
    exit_code: ExitCode | int | str | None = None


def _block_at(outline: Block, cursor: Sequence[int]) -> Block:
    """The block holding the instruction the cursor points at."""
    block = outline
    for depth in range(0, len(cursor) - 1, 2):
        owner = block.instructions[cursor[depth]]
        if not isinstance(owner, _Conditional):
            raise EngineError(f"outline cursor {list(cursor)} does not fit the outline")
        block = owner.blocks()[cursor[depth + 1]]
    return block


def next_action(outline: Block, cursor: list[int], holds: Callable[[Condition], bool]) -> tuple[Action, list[int]]:
    """Move ``cursor`` to the next step, return or end; evaluate conditions met on the way with ``holds``.

    :return: the action and the cursor pointing at it (a step's caller moves past it with :func:`after_step`)
    :raises EngineError: when the cursor does not fit the outline (the outline changed since the checkpoint)
    """
    cursor = list(cursor)
    while True:
        block, index = _block_at(outline, cursor), cursor[-1]
        if index >= len(block):
            if len(cursor) == 1:
                return Action("end"), cursor
            cursor = _leave_block(outline, cursor[:-2], holds)
            continue
        item = block.instructions[index]
        if isinstance(item, Step):
            return Action("step", function=item.function), cursor
        if isinstance(item, Return):
            return Action("return", exit_code=item.exit_code), cursor
        branch = _choose(item, holds)
        cursor = cursor + [branch, 0] if branch is not None else after_step(cursor)


def _leave_block(outline: Block, owner_path: list[int], holds: Callable[[Condition], bool]) -> list[int]:
    owner = _block_at(outline, owner_path).instructions[owner_path[-1]]
    if isinstance(owner, While) and holds(owner.condition):
        return owner_path + [0, 0]
    return after_step(owner_path)


def _choose(item: Instruction, holds: Callable[[Condition], bool]) -> int | None:
    if isinstance(item, While):
        return 0 if holds(item.condition) else None
    if isinstance(item, If):
        for index, (condition, _) in enumerate(item.branches):
            if holds(condition):
                return index
        return len(item.branches) if item.otherwise is not None else None
    raise EngineError(f"unknown outline instruction {item!r}")


def after_step(cursor: list[int]) -> list[int]:
    """The cursor moved past the instruction it points at."""
    return cursor[:-1] + [cursor[-1] + 1]


def _splice(instructions: Sequence[Any]) -> list[Instruction]:
    """Instructions of a block; plain nested tuples and lists are spliced in."""
    items: list[Instruction] = []
    for item in instructions:
        if isinstance(item, Block):
            items.extend(item.instructions)
        elif isinstance(item, (tuple, list)):
            items.extend(_splice(item))
        else:
            items.append(as_instruction(item))
    return items
