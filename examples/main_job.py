"""The main job of provgraph on the embedded default, from nothing: what ``make demo`` runs.

No server is needed: ``provgraph presto`` makes a profile whose storage is sqlite, whose
repository is a local folder and whose broker is a sqlite queue file, all under ``.demo/``
(``$PROVGRAPH_HOME``; removed and made anew at each run). Then, as a user would:

1. ``provgraph presto``; a ``core.local`` + ``core.direct`` computer and a ``/bin/bash`` code;
2. ``provgraph worker start`` (a real daemonised Celery worker);
3. submit :class:`~provgraph.engine.examples_demo.MainJobWorkChain`: a calcfunction, a child
   WorkChain and a CalcJob running a real shell on its input file, then a calcfunction again;
4. wait with a progress display until the whole process tree has ended;
5. ``provgraph process show``, a QueryBuilder query, ``provgraph node graph`` to an SVG picture,
   and screenshots of the explorer's pages (headless Chromium) beside it;
6. ``provgraph worker stop``, and the command that serves the explorer (started only when asked).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"
HOME = DEMO / "home"
#: seconds the demo waits for the workflow before giving up
TIMEOUT = float(os.environ.get("PROVGRAPH_DEMO_TIMEOUT", 300))
#: the CLI of the interpreter running the demo (the project's virtual environment)
PROVGRAPH = str(Path(sys.executable).parent / "provgraph")


def provgraph(*args: str) -> str:
    """Run ``provgraph ARGS`` like a user, echoing the command and its output; stop the demo on failure."""
    print(f"\n$ provgraph {' '.join(args)}", flush=True)
    result = subprocess.run([PROVGRAPH, *args], capture_output=True, text=True, env=os.environ.copy())
    output = (result.stdout + result.stderr).rstrip()
    if output:
        print(output, flush=True)
    if result.returncode != 0:
        raise SystemExit(f"demo failed: provgraph {' '.join(args)} exited with {result.returncode}")
    return result.stdout


def fresh_home() -> None:
    """Stop the workers of an earlier demo and start from an empty ``.demo/``."""
    os.environ["PROVGRAPH_HOME"] = str(HOME)
    os.environ.pop("PROVGRAPH_PROFILE", None)
    if HOME.exists():
        subprocess.run([PROVGRAPH, "worker", "stop"], capture_output=True)
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir(parents=True)


def set_up() -> None:
    """Profile, computer and code, through the CLI."""
    provgraph("presto")
    provgraph("computer", "setup", "-n", "-L", "localhost", "-H", "localhost", "-T", "core.local",
              "-S", "core.direct", "-w", str(DEMO / "work"))
    provgraph("computer", "configure", "local", "localhost", "--safe-interval", "0")
    provgraph("computer", "test", "localhost")
    provgraph("code", "create", "installed", "-n", "-Y", "localhost", "-X", "/bin/bash", "-L", "bash")
    provgraph("status")


def submit_main_job() -> int:
    """Submit the workflow to the worker; return its pk."""
    from provgraph.engine import submit
    from provgraph.engine.examples_demo import MainJobWorkChain
    from provgraph.orm import Int, QueryBuilder
    from provgraph.orm.nodes.data.code import InstalledCode
    from provgraph.profiles import load_profile

    load_profile()
    code = QueryBuilder().append(InstalledCode, filters={"label": "bash"}).first()[0]
    node = submit(MainJobWorkChain, x=Int(2), y=Int(3), z=Int(4), code=code)
    print(f"\nsubmitted MainJobWorkChain<{node.pk}>", flush=True)
    return node.pk


def wait_for(pk: int) -> None:
    """Show the process tree's progress until the workflow has ended."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from provgraph.orm import ProcessNode, QueryBuilder, load_node

    def called_processes() -> list[list[str]]:
        called = QueryBuilder().append(ProcessNode, filters={"pk": pk}, tag="root")
        called.append(ProcessNode, with_incoming="root", project=["attributes.process_label",
                                                                  "attributes.process_state"])
        return called.all()

    expected = 5  # add, AddMultiplyWorkChain, ArithmeticAddCalculation, multiply; plus the root itself
    deadline = time.monotonic() + TIMEOUT
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn()) as progress:
        task = progress.add_task("MainJobWorkChain", total=expected)
        while True:
            root = load_node(pk)
            children = called_processes()
            done = sum(state in {"finished", "excepted", "killed"} for _, state in children)
            done += root.process_state.is_terminal
            running = ", ".join(f"{label} {state}" for label, state in children if state not in
                                {"finished", "excepted", "killed"})
            progress.update(task, completed=done, description=f"MainJobWorkChain {root.process_state.value}"
                            + (f" | {running}" if running else ""))
            if root.process_state.is_terminal:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"demo failed: MainJobWorkChain<{pk}> did not end within {TIMEOUT:.0f} s; "
                                 f"see `provgraph worker logs` and `provgraph process report {pk}`")
            time.sleep(0.5)
    root = load_node(pk)
    if not root.is_finished_ok:
        provgraph("process", "report", str(pk))
        raise SystemExit(f"demo failed: MainJobWorkChain<{pk}> ended {root.process_state.value} "
                         f"(exit status {root.exit_status})")


def show_results(pk: int) -> None:
    """The process tree, a QueryBuilder query over the provenance, and a picture of it."""
    from provgraph.orm import Int, Node, QueryBuilder, load_node

    provgraph("process", "show", str(pk))
    result = load_node(pk).outputs["result"]
    print(f"\nQueryBuilder: the ancestors of the result Int<{result.pk}> = {result.value}, by type")
    qb = QueryBuilder().append(Int, filters={"pk": result.pk}, tag="result")
    qb.append(Node, with_descendants="result", project=["node_type", "pk"])
    by_type: dict[str, list[int]] = {}
    for node_type, ancestor in qb.all():
        by_type.setdefault(node_type, []).append(ancestor)
    for node_type, pks in sorted(by_type.items()):
        print(f"  {node_type:<40} {sorted(pks)}")
    assert result.value == ((2 + 3) * 4 + 4) * 4, f"unexpected result {result.value}"
    picture = DEMO / "provenance.svg"
    provgraph("node", "graph", str(pk), "--ancestor-depth", "all", "--descendant-depth", "all",
              "--output", str(picture))
    print(f"\nthe provenance graph is drawn in {picture.relative_to(ROOT)}")


def explorer_screenshots(pk: int) -> None:
    """Screenshots of the explorer's pages (search, node and graph, process, computer, statistics) by the SVG."""
    from provgraph.orm import load_node
    from provgraph.profiles import load_profile
    from provgraph.web.browser import save_tour

    result = load_node(pk).outputs["result"]
    for path in save_tour(load_profile(), result.pk, pk, DEMO, computer="localhost"):
        print(f"explorer screenshot: {path.relative_to(ROOT)}", flush=True)


def main() -> int:
    """Run the main job end to end."""
    fresh_home()
    set_up()
    provgraph("worker", "start")
    try:
        pk = submit_main_job()
        wait_for(pk)
        show_results(pk)
        explorer_screenshots(pk)
    finally:
        provgraph("worker", "stop")
    print("\nmain job: ok")
    print(f"explore it in a browser: PROVGRAPH_HOME={HOME} {PROVGRAPH} web   ->  http://127.0.0.1:5000/#/process/{pk}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
