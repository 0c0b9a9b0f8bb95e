"""Drive the explorer in a real headless Chromium: serve an app in a thread, open pages, take screenshots.

Used by the browser tests and by ``make demo`` (which saves a screenshot of each page next to
``provenance.svg``). Chromium and its driver are Debian's ``chromium`` and ``chromium-driver``
packages (``make tools`` installs them); selenium talks to the driver. Nothing here is
downloaded at run time: a missing browser is an error that says what to install.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from provgraph.exceptions import ConfigurationError
from provgraph.profiles import Profile

#: seconds a page may take to render before a wait gives up (generous: a shared, loaded database is slow)
PAGE_TIMEOUT = float(os.environ.get("PROVGRAPH_WEB_PAGE_TIMEOUT", 180))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(profile: Profile, *, read_write: bool = False, token: str | None = None) -> Iterator[str]:
    """Serve the app of ``profile`` with uvicorn in a background thread; yield its base URL."""
    import uvicorn

    from provgraph.web.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(profile, read_write=read_write, token=token), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="provgraph-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + PAGE_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigurationError(f"the explorer server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chromium_driver(width: int = 1440, height: int = 1000) -> Any:
    """A selenium WebDriver on headless Debian Chromium.

    :raises ConfigurationError: when chromium or chromedriver is not installed
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not browser or not driver_path:
        raise ConfigurationError("headless Chromium is missing: install the Debian packages chromium and "
                                 "chromium-driver (`make tools` does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def wait_ready(driver: Any, timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until the explorer has rendered the current route (``<body data-ready="true">``)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.body.getAttribute('data-ready')") == "true")


def open_page(driver: Any, url: str) -> None:
    """Go to ``url`` and wait for the explorer to render it."""
    driver.execute_script("document.body && document.body.setAttribute('data-ready', 'false')")
    driver.get(url)
    wait_ready(driver)


def wait_for(driver: Any, condition: Any, timeout: float = PAGE_TIMEOUT) -> Any:
    """Wait until ``condition(driver)`` is truthy and return its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def save_tour(profile: Profile, data_pk: int, process_pk: int, outdir: Path, computer: str | None = None) -> list[Path]:
    """Screenshots of the explorer for a data node and a process: search, node, process, computer, statistics."""
    outdir.mkdir(parents=True, exist_ok=True)
    saved = []
    with serve(profile) as base:
        driver = chromium_driver()
        try:
            pages = [("search", f"{base}/#/search/{data_pk}"), ("node", f"{base}/#/node/{data_pk}"),
                     ("process", f"{base}/#/process/{process_pk}")]
            if computer:
                pages.append(("computer", f"{base}/#/computer/{computer}"))
            pages.append(("statistics", f"{base}/#/statistics"))
            for name, url in pages:
                open_page(driver, url)
                if name == "node":
                    _expand_process_in_graph(driver, process_pk)
                target = outdir / f"explorer-{name}.png"
                driver.save_screenshot(str(target))
                saved.append(target)
        finally:
            driver.quit()
    return saved


def _expand_process_in_graph(driver: Any, process_pk: int) -> None:
    from selenium.webdriver.common.by import By

    selector = f"#graph .gnode[data-pk='{process_pk}']"
    nodes = driver.find_elements(By.CSS_SELECTOR, selector)
    if nodes:
        before = int(driver.find_element(By.ID, "graph").get_attribute("data-node-count") or 0)
        nodes[0].click()
        wait_for(driver, lambda d: int(d.find_element(By.ID, "graph").get_attribute("data-node-count") or 0) > before)
