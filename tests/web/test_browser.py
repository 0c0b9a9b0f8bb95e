"""The explorer in a real headless Chromium, on both backends, over a real MainJobWorkChain run.

The test clicks through search -> node page -> graph expansion -> process page and checks
what each page shows; a group page and a computer page are checked too.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    from provgraph.web.browser import chromium_driver

    driver = chromium_driver()
    yield driver
    driver.quit()


@pytest.fixture
def explorer(world):
    """The base URL of a server (uvicorn, in a thread) on the world's profile."""
    from provgraph.web.browser import serve

    with serve(world.profile) as base:
        yield base


def _count(driver, attribute: str) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.ID, "graph").get_attribute(attribute) or 0)


def test_search_node_graph_expansion_and_process_page(browser, explorer, world):
    from selenium.webdriver.common.by import By

    from provgraph.web.browser import open_page, wait_for, wait_ready

    open_page(browser, f"{explorer}/#/")
    box = browser.find_element(By.ID, "search-input")
    box.send_keys(str(world.result))
    browser.find_element(By.ID, "search-button").click()
    hit = f"#search-results a.node-link[data-pk='{world.result}']"
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, hit))
    wait_ready(browser)
    browser.find_element(By.CSS_SELECTOR, hit).click()

    wait_for(browser, lambda d: d.find_elements(By.ID, "node-title"))
    wait_ready(browser)
    assert f"<{world.result}>" in browser.find_element(By.ID, "node-title").text
    assert '"value": 96' in browser.find_element(By.ID, "attributes").text
    incoming = browser.find_element(By.ID, "incoming").text
    assert "CREATE" in incoming and "multiply" in incoming
    assert "RETURN" in incoming and "MainJobWorkChain" in incoming
    graph_nodes = {el.get_attribute("data-pk") for el in browser.find_elements(By.CSS_SELECTOR, "#graph .gnode")}
    assert {str(world.result), str(world.root)} <= graph_nodes
    labels = {el.text for el in browser.find_elements(By.CSS_SELECTOR, "#graph .glabel")}
    assert "result" in labels
    before = _count(browser, "data-node-count")

    browser.find_element(By.CSS_SELECTOR, f"#graph .gnode[data-pk='{world.root}']").click()
    wait_for(browser, lambda d: _count(d, "data-node-count") > before)
    expanded = {el.get_attribute("data-pk") for el in browser.find_elements(By.CSS_SELECTOR, "#graph .gnode")}
    assert {str(world.add), str(world.job)} <= expanded  # the workflow's called processes appeared
    root = browser.find_element(By.CSS_SELECTOR, f"#graph .gnode[data-pk='{world.root}']")
    assert "expanded" in root.get_attribute("class")
    fill = root.find_element(By.CSS_SELECTOR, ".shape").get_attribute("fill")
    data_fill = browser.find_element(By.CSS_SELECTOR, f"#graph .gnode[data-pk='{world.result}'] .shape")
    assert fill != data_fill.get_attribute("fill")  # a finished process and a datum are coloured apart

    browser.find_element(By.ID, "selection-process").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "call-tree"))
    wait_ready(browser)
    assert "MainJobWorkChain" in browser.find_element(By.ID, "process-title").text
    assert "finished" in browser.find_element(By.ID, "process-state").text
    tree = browser.find_element(By.ID, "call-tree").text
    for label in ("AddMultiplyWorkChain", "ArithmeticAddCalculation", "add", "multiply"):
        assert label in tree
    assert not browser.find_elements(By.ID, "live-indicator")  # ended: no live refresh


def test_node_page_previews_a_file(browser, explorer, world):
    from selenium.webdriver.common.by import By

    from provgraph.web.browser import open_page, wait_for

    open_page(browser, f"{explorer}/#/node/{world.folder}")
    browser.find_element(By.CSS_SELECTOR, ".file-link[data-path='sub/hello.txt']").click()
    wait_for(browser, lambda d: "hello from the web tests" in d.find_element(By.ID, "file-preview").text)


def test_group_and_computer_pages(browser, explorer, world):
    from selenium.webdriver.common.by import By

    from provgraph.web.browser import open_page

    open_page(browser, f"{explorer}/#/group/{world.group}")
    assert world.group_label in browser.find_element(By.ID, "group-title").text
    members = {el.get_attribute("data-pk") for el in browser.find_elements(By.CSS_SELECTOR, "#group-nodes a.node-link")}
    assert members == {str(pk) for pk in world.ints[:3]}
    open_page(browser, f"{explorer}/#/computer/{world.computer}")
    assert world.computer_label in browser.find_element(By.ID, "computer-title").text
    links = browser.find_elements(By.CSS_SELECTOR, "#computer-nodes a.node-link")
    on_it = {el.get_attribute("data-pk") for el in links}
    assert {str(world.code), str(world.job)} <= on_it


def test_statistics_page_and_an_unknown_node(browser, explorer, world):
    from selenium.webdriver.common.by import By

    from provgraph.web.browser import open_page

    open_page(browser, f"{explorer}/#/statistics")
    assert "data.core.folder" in browser.find_element(By.ID, "statistics").text
    open_page(browser, f"{explorer}/#/node/999999999")
    assert "NotExistent" in browser.find_element(By.ID, "error").text


def test_process_page_refreshes_live_until_the_process_ends(browser, explorer, world):
    from selenium.webdriver.common.by import By

    from provgraph.engine import control
    from provgraph.engine.examples import AddMultiplyWorkChain
    from provgraph.engine.launch import create_stored
    from provgraph.orm import Int
    from provgraph.web.browser import open_page, wait_for

    pk = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)}).pk
    open_page(browser, f"{explorer}/#/process/{pk}")
    assert "created" in browser.find_element(By.ID, "process-state").text
    assert browser.find_elements(By.ID, "live-indicator")
    control.kill(pk, "killed by the browser test")
    wait_for(browser, lambda d: "killed" in d.find_element(By.ID, "process-state").text)
    assert not browser.find_elements(By.ID, "live-indicator")
