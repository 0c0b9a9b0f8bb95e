"""``provgraph run SCRIPT`` (profile loaded, ORM names predefined, as ``verdi run``) and ``provgraph shell``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import fresh_profile, last_line, run  # noqa: F401 - fresh_profile is a fixture

pytestmark = pytest.mark.usefixtures("fresh_profile")


def test_run_script_with_orm_names_and_argv(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        "import sys\n"
        "node = Int(21).store()\n"
        "print('argv', sys.argv[1:], __name__)\n"
        "print('value', load_node(node.pk).value * 2)\n"
        "print('names', all(n in globals() for n in ('QueryBuilder', 'Group', 'load_group', 'Dict', 'DataFactory')))\n")
    result = run("run", str(script), "a", "--flag")
    assert result.exit_code == 0, result.output
    assert "argv ['a', '--flag'] __main__" in result.output and "value 42" in result.output
    assert "names True" in result.output


def test_run_stores_in_the_chosen_profile(tmp_path):
    from provgraph.orm import load_group

    script = tmp_path / "grp.py"
    script.write_text("Group(label='made-by-run').store()\n")
    assert run("run", str(script)).exit_code == 0
    assert load_group("made-by-run").label == "made-by-run"


def test_run_imports_sibling_modules(tmp_path):
    (tmp_path / "helper_mod_for_run.py").write_text("ANSWER = 7\n")
    script = tmp_path / "main.py"
    script.write_text("from helper_mod_for_run import ANSWER\nprint('answer', ANSWER)\n")
    result = run("run", str(script))
    assert result.exit_code == 0 and "answer 7" in result.output


def test_run_missing_script():
    result = run("run", "/no/such/script.py")
    assert result.exit_code == 2 and "does not exist" in last_line(result)


def test_run_script_error_gives_non_zero_exit(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text("raise ValueError('broken script')\n")
    result = run("run", str(script))
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)


def test_run_script_exit_codes(tmp_path):
    ok, failing = tmp_path / "ok.py", tmp_path / "fail.py"
    ok.write_text("import sys\nsys.exit(0)\n")
    failing.write_text("import sys\nsys.exit(3)\n")
    assert run("run", str(ok)).exit_code == 0
    assert run("run", str(failing)).exit_code == 3


def test_run_auto_import_option(tmp_path):
    run("config", "set", "verdi.shell.auto_import", "json:os.path")
    script = tmp_path / "auto.py"
    script.write_text("print('dumped', json.dumps([1]), path.sep)\n")
    result = run("run", str(script))
    assert result.exit_code == 0 and "dumped [1] /" in result.output


def _subprocess(*args: str, stdin: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONSTARTUP="")
    return subprocess.run([str(Path(sys.executable).parent / "provgraph"), "-p", "fresh", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_shell_plain_has_the_orm(tmp_path):
    done = _subprocess("shell", "--plain", stdin="print('pk', Int(5).store().pk > 0, load_group.__name__)\n")
    assert done.returncode == 0, done.stderr
    assert "pk True load_group" in done.stdout


def test_shell_without_ipython_is_a_clear_error():
    try:
        import IPython  # noqa: F401
    except ImportError:
        done = _subprocess("shell", stdin="")
        assert done.returncode == 1 and "IPython is not installed" in done.stderr
        assert "Traceback" not in done.stderr
    else:
        done = _subprocess("shell", stdin="print('ipy', load_node.__name__)\nexit()\n")
        assert done.returncode == 0 and "ipy load_node" in done.stdout
