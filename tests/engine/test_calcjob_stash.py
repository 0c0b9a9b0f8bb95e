"""Stash after a CalcJob (copy and every tar mode) and unstash for a follow-up job, over core.local for real."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from calcjob_support import bash_code, local_computer

from provgraph.common.links import LinkType
from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo, CodeInfo
from provgraph.engine.processes.calcjobs.calcjob import CalcJob
from provgraph.engine.processes.calcjobs.stash import unstash
from provgraph.exceptions import ValidationError
from provgraph.orm import Int, Str, load_node
from provgraph.orm.nodes.data.remote import RemoteData
from provgraph.orm.nodes.data.remote_stash import RemoteStashCompressedData, RemoteStashFolderData, StashMode


class CatCalculation(CalcJob):
    """Copies ``filename`` from ``parent_folder`` (a remote copy) and prints it into ``out.txt``."""

    @classmethod
    def define(cls, spec):
        """Inputs parent_folder (RemoteData) and filename (Str)."""
        super().define(spec)
        spec.input("parent_folder", valid_type=RemoteData)
        spec.input("filename", valid_type=Str)

    def prepare_for_submission(self, folder: Path) -> CalcInfo:
        """cat the copied file."""
        name = self.inputs.filename.value
        (folder / "run.sh").write_text(f"cat {name}\n")
        parent = self.inputs.parent_folder
        code = CodeInfo(stdin_name="run.sh", stdout_name="out.txt", code_uuid=self.inputs.code.uuid)
        return CalcInfo(codes_info=[code], retrieve_list=["out.txt"],
                        remote_copy_list=[(parent.computer, f"{parent.get_remote_path()}/{name}", name)])


@pytest.fixture
def computer(tmp_path):
    """A core.local + core.direct computer working below ``tmp_path``."""
    return local_computer(str(tmp_path / "work"))


def _add(computer, stash: dict):
    return run.get_node(ArithmeticAddCalculation, code=bash_code(computer), x=Int(20), y=Int(22),
                        metadata={"options": {"stash": stash}})


def test_copy_stash_is_recorded_and_unstashed_for_a_follow_up_job(computer, tmp_path):
    target = str(tmp_path / "stash")
    outputs, node = _add(computer, {"source_list": ["aiida.out", "*.in", "missing.txt"], "target_base": target,
                                    "stash_mode": "copy"})
    assert node.is_finished_ok, node.exit_message
    stash = outputs["remote_stash"]
    assert isinstance(stash, RemoteStashFolderData) and stash.stash_mode is StashMode.COPY
    assert stash.computer == computer.label and stash.source_list == ["aiida.out", "*.in", "missing.txt"]
    base = Path(stash.target_basepath)
    assert base.is_relative_to(target) and node.uuid[4:] == base.name
    assert (base / "aiida.out").read_text().strip() == "42" and (base / "aiida.in").exists()
    assert not (base / "missing.txt").exists()
    created = {t.link_label for t in node.base.links.get_outgoing(link_type=LinkType.CREATE)}
    assert "remote_stash" in created
    assert type(load_node(stash.pk)) is RemoteStashFolderData

    Path(node.outputs["remote_folder"].get_remote_path(), "aiida.out").unlink()  # the scratch is gone
    restored = unstash(stash)
    assert isinstance(restored, RemoteData) and Path(restored.get_remote_path(), "aiida.out").read_text().strip() \
        == "42"
    incoming = {t.link_label: t.node.uuid for t in restored.creator.base.links.get_incoming()}
    assert incoming["source_node"] == stash.uuid
    follow, follow_node = run.get_node(CatCalculation, code=bash_code(computer), parent_folder=restored,
                                       filename=Str("aiida.out"))
    assert follow_node.is_finished_ok, follow_node.exit_message
    assert follow["retrieved"].get_object_content("out.txt").strip() == "42"


@pytest.mark.parametrize("mode", ["tar", "tar.gz", "tar.bz2", "tar.xz"])
def test_tar_stash_packs_the_files_and_unstash_restores_them(computer, tmp_path, mode):
    outputs, node = _add(computer, {"source_list": ["aiida.out", "aiida.in"], "target_base": str(tmp_path / "st"),
                                    "stash_mode": mode})
    assert node.is_finished_ok, node.exit_message
    stash = outputs["remote_stash"]
    assert isinstance(stash, RemoteStashCompressedData) and stash.stash_mode.value == mode
    assert stash.target_basepath.endswith(f"{node.uuid[4:]}.{mode}") and stash.dereference is False
    with tarfile.open(stash.target_basepath, "r:*") as archive:
        assert sorted(archive.getnames()) == ["aiida.in", "aiida.out"]
    restored = unstash(stash, source_list=["aiida.out"])
    folder = Path(restored.get_remote_path())
    assert (folder / "aiida.out").read_text().strip() == "42" and not (folder / "aiida.in").exists()


def test_unstash_into_the_original_place(computer, tmp_path):
    outputs, node = _add(computer, {"source_list": ["aiida.out"], "target_base": str(tmp_path / "st"),
                                    "stash_mode": "tar.gz"})
    workdir = Path(node.outputs["remote_folder"].get_remote_path())
    (workdir / "aiida.out").unlink()
    assert unstash(outputs["remote_stash"], target_mode="OriginalPlace") is None
    assert (workdir / "aiida.out").read_text().strip() == "42"


@pytest.mark.parametrize("stash, problem", [
    ({"source_list": ["a"], "target_base": "relative", "stash_mode": "copy"}, "absolute"),
    ({"source_list": [], "target_base": "/tmp/x", "stash_mode": "copy"}, "non-empty"),
    ({"source_list": ["../up"], "target_base": "/tmp/x", "stash_mode": "copy"}, "outside"),
    ({"source_list": ["a"], "target_base": "/tmp/x", "stash_mode": "zip"}, "stash_mode"),
    ({"source_list": ["a"], "target_base": "/tmp/x", "stash_mode": "copy", "extra": 1}, "unknown"),
])
def test_bad_stash_options_are_refused_before_anything_is_stored(computer, stash, problem):
    from provgraph.orm.nodes.process.process import CalcJobNode
    from provgraph.orm.querybuilder import QueryBuilder

    before = QueryBuilder().append(CalcJobNode).count()
    with pytest.raises(ValidationError, match=problem):
        _add(computer, stash)
    assert QueryBuilder().append(CalcJobNode).count() == before


def test_unstash_refuses_an_unknown_mode_and_an_unstored_stash(computer):
    stash = RemoteStashFolderData(StashMode.COPY, "/tmp/nowhere", ["a"], computer=computer.label)
    with pytest.raises(ValidationError, match="target_mode"):
        unstash(stash, target_mode="Elsewhere")
    with pytest.raises(ValidationError, match="stored"):
        unstash(stash)
