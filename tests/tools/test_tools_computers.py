"""``provgraph.tools.computers``: templates, transports built from per-user settings."""

from __future__ import annotations

import shlex
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provgraph.cli.cmd_computer import MPIRUN_PLACEHOLDERS, _mpirun_words
from provgraph.exceptions import ConfigurationError, ValidationError
from provgraph.orm import Computer
from provgraph.tools.computers import resolve_workdir, transport_for, transport_parameters, validate_template
from provgraph.transports.local import LocalTransport

NO_BRACES = st.text(alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)))


@given(parts=st.lists(st.one_of(NO_BRACES, st.sampled_from(sorted(MPIRUN_PLACEHOLDERS)).map(lambda p: f"{{{p}}}"))))
def test_templates_of_allowed_placeholders_pass_and_format(parts):
    template = "".join(parts)
    assert validate_template(template, MPIRUN_PLACEHOLDERS, "t") == template
    template.format(**{name: 1 for name in MPIRUN_PLACEHOLDERS})


@given(prefix=NO_BRACES, name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
def test_unknown_placeholders_are_named(prefix, name):
    if name in MPIRUN_PLACEHOLDERS:
        return
    with pytest.raises(ValidationError, match=f"unknown placeholder\\(s\\) {name}"):
        validate_template(prefix + "{" + name + "}", MPIRUN_PLACEHOLDERS, "t")


@pytest.mark.parametrize("template", ["{", "}", "a{b", "{0!x}"])
def test_malformed_templates(template):
    with pytest.raises(ValidationError):
        validate_template(template, {"username"}, "t")


@given(words=st.lists(NO_BRACES, min_size=1, max_size=6))
def test_mpirun_command_words_round_trip_through_the_shell_syntax(words):
    assert _mpirun_words(shlex.join(words)) == words


@pytest.mark.requires_neo4j
@pytest.mark.usefixtures("neo4j_profile")
def test_resolve_workdir_and_transport_for():
    computer = Computer(f"tc-{uuid.uuid4().hex[:8]}", "localhost", "core.local",
                        workdir="/scratch/{username}/runs").store()
    assert resolve_workdir(computer, "ada") == "/scratch/ada/runs"
    transport = transport_for(computer)  # core.local needs no configuration
    assert isinstance(transport, LocalTransport) and not transport.is_open
    computer.configure(safe_open_interval=3.0, shell="/bin/sh")
    assert transport_for(computer).safe_open_interval == 3.0
    computer.configure(safe_interval=3.0)
    with pytest.raises(ValidationError, match="does not know: safe_interval"):
        transport_for(computer)
    remote = Computer(f"tc-{uuid.uuid4().hex[:8]}", "example.org", "core.ssh").store()
    with pytest.raises(ConfigurationError, match="computer configure ssh"):
        transport_for(remote)
    relative = Computer(f"tc-{uuid.uuid4().hex[:8]}", "h", workdir="runs/{username}").store()
    with pytest.raises(ValidationError, match="not absolute"):
        resolve_workdir(relative, "ada")
    assert {"username", "port", "key_filename", "proxy_jump", "safe_open_interval"} <= set(
        transport_parameters("core.ssh"))
