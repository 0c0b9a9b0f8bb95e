"""The explorer works offline: its assets ship in the wheel and refer to nothing outside the server."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "provgraph" / "web" / "static"
ASSETS = ("index.html", "app.js", "graph.js", "app.css")


def test_assets_refer_to_no_outside_url():
    for name in ASSETS:
        text = (STATIC / name).read_text()
        outside = [url for url in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
                   if "www.w3.org/2000/svg" not in url]
        assert outside == [], f"{name} loads from outside the server: {outside}"
    index = (STATIC / "index.html").read_text()
    assert re.findall(r'(?:src|href)="(/static/[^"]+)"', index) == [
        "/static/app.css", "/static/graph.js", "/static/app.js"]


def test_wheel_ships_the_assets(tmp_path):
    repo = STATIC.parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
                    str(repo)], check=True, capture_output=True)
    names = set(zipfile.ZipFile(next(tmp_path.glob("provgraph-*.whl"))).namelist())
    assert {f"provgraph/web/static/{name}" for name in ASSETS} <= names
