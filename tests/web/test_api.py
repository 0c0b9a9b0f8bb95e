"""The REST API on both backends: reads, pagination, files, processes, querybuilder, bad input."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from web_support import WEIRD_NAME

API = "/api/v1"


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["status"] == status
    return body["error"]["message"]


def test_nodes_are_paginated_in_a_stable_order_with_a_total(client, world):
    seen = []
    for offset in range(0, 7, 3):
        body = client.get(f"{API}/nodes", params={"label": world.marker, "type": "Int", "limit": 3,
                                                   "offset": offset}).json()
        assert body["total"] == 7
        seen += [item["pk"] for item in body["items"]]
    assert seen == sorted(world.ints)
    newest = client.get(f"{API}/nodes", params={"label": world.marker, "type": "Int", "order": "-pk"}).json()
    assert [item["pk"] for item in newest["items"]] == sorted(world.ints, reverse=True)


def test_nodes_filter_by_type_prefix_ctime_and_attributes(client, world):
    params = {"label": world.marker, "filters": json.dumps({"attributes.value": {">=": 30}})}
    body = client.get(f"{API}/nodes", params=params).json()
    assert [item["pk"] for item in body["items"]] == world.ints[3:]
    body = client.get(f"{API}/nodes", params={"label": world.marker, "type": "data.core.folder"}).json()
    assert [item["pk"] for item in body["items"]] == [world.folder]
    first = client.get(f"{API}/nodes/{world.ints[0]}").json()
    later = client.get(f"{API}/nodes", params={"label": world.marker, "type": "Int", "ctime_after": first["ctime"]})
    assert later.json()["total"] == 7
    before = client.get(f"{API}/nodes", params={"label": world.marker, "ctime_before": first["ctime"]})
    assert before.json()["total"] == 0
    extras = client.get(f"{API}/nodes", params={"label": world.marker, "filters": json.dumps({"extras.rank": 2})})
    assert [item["pk"] for item in extras.json()["items"]] == [world.ints[2]]


def test_one_node_by_pk_uuid_and_uuid_prefix(client, world):
    by_pk = client.get(f"{API}/nodes/{world.result}").json()
    assert by_pk["class"] == "Int" and by_pk["attributes"] == {"value": 96}
    assert client.get(f"{API}/nodes/{by_pk['uuid']}").json()["pk"] == world.result
    assert client.get(f"{API}/nodes/{by_pk['uuid'][:13]}").json()["pk"] == world.result
    folder = client.get(f"{API}/nodes/{world.folder}").json()
    assert folder["files"] == ["blob.bin", "sub/hello.txt", WEIRD_NAME]
    assert client.get(f"{API}/nodes/{world.ints[4]}").json()["extras"] == {"rank": 4}


def test_links_in_and_out_of_a_workflow(client, world):
    incoming = client.get(f"{API}/nodes/{world.root}/links/incoming").json()
    assert sorted(item["link_label"] for item in incoming["items"]) == ["code", "x", "y", "z"]
    assert {item["link_type"] for item in incoming["items"]} == {"INPUT_WORK"}
    outgoing = client.get(f"{API}/nodes/{world.root}/links/outgoing", params={"link_type": "RETURN"}).json()
    assert sorted(item["link_label"] for item in outgoing["items"]) == ["child_result", "job_sum", "result", "sum"]
    called = client.get(f"{API}/nodes/{world.root}/links/outgoing",
                        params=[("link_type", "CALL_CALC"), ("link_type", "CALL_WORK"), ("limit", 2)]).json()
    assert called["total"] == 4 and len(called["items"]) == 2
    assert _error(client.get(f"{API}/nodes/{world.root}/links/sideways"), 400).startswith("direction")
    assert "unknown link types" in _error(client.get(f"{API}/nodes/{world.root}/links/incoming",
                                                     params={"link_type": "FRIEND"}), 400)


def test_graph_neighbourhood_holds_the_links_between_its_nodes(client, world):
    graph = client.get(f"{API}/nodes/{world.add}/graph").json()
    pks = {node["pk"] for node in graph["nodes"]}
    assert world.add in pks and world.root in pks
    assert {(link["source"], link["target"], link["link_type"]) for link in graph["links"]} >= {
        (world.root, world.add, "CALL_CALC")}
    assert all(link["source"] in pks and link["target"] in pks for link in graph["links"])
    deeper = client.get(f"{API}/nodes/{world.add}/graph", params={"depth": 2}).json()
    assert len(deeper["nodes"]) > len(graph["nodes"])
    capped = client.get(f"{API}/nodes/{world.add}/graph", params={"depth": 3, "max_nodes": 3}).json()
    assert len(capped["nodes"]) == 3 and capped["truncated"] is True


def test_files_stream_and_paths_escaping_the_repository_are_refused(client, world):
    hello = client.get(f"{API}/nodes/{world.folder}/files/sub/hello.txt")
    assert hello.status_code == 200 and hello.content == b"hello from the web tests\n"
    blob = client.get(f"{API}/nodes/{world.folder}/download", params={"path": "blob.bin"})
    assert blob.content == bytes(range(256)) * 1000
    assert "attachment" in blob.headers["content-disposition"]
    for path in ("../../etc/passwd", "/etc/passwd", "sub/../../x", "sub//hello.txt"):
        message = _error(client.get(f"{API}/nodes/{world.folder}/download", params={"path": path}), 400)
        assert "invalid repository path" in message
    assert _error(client.get(f"{API}/nodes/{world.folder}/files/sub%2F..%2F..%2Fetc%2Fpasswd"), 400)
    assert "no file" in _error(client.get(f"{API}/nodes/{world.folder}/files/missing.txt"), 404)
    odd = client.get(f"{API}/nodes/{world.folder}/download", params={"path": WEIRD_NAME})
    assert odd.content == b"odd" and "x-injected" not in odd.headers
    assert "filename*=UTF-8''na%C3%AFve%20%22quoted%22%0D%0AX-Injected%3A%201.txt" in odd.headers["content-disposition"]


def test_process_state_exit_status_call_tree_and_report(client, world):
    process = client.get(f"{API}/processes/{world.root}").json()
    assert process["process_state"] == "finished" and process["exit_status"] == 0
    assert process["caller"] is None
    labels = sorted(child["process_label"] for child in process["call_tree"]["children"])
    assert labels == ["AddMultiplyWorkChain", "ArithmeticAddCalculation", "add", "multiply"]
    child = next(c for c in process["call_tree"]["children"] if c["process_label"] == "AddMultiplyWorkChain")
    assert sorted(grand["process_label"] for grand in child["children"]) == ["add", "multiply"]
    report = client.get(f"{API}/processes/{world.root}/report").json()["report"]
    assert isinstance(report, list) and all({"time", "level", "message", "pk"} <= set(r) for r in report)
    called = client.get(f"{API}/processes/{world.add}").json()
    assert called["caller"]["pk"] == world.root
    finished = client.get(f"{API}/processes", params={"state": "finished", "process_label": "MainJobWorkChain",
                                                        "limit": 50}).json()  # newest first
    assert world.root in [item["pk"] for item in finished["items"]]
    assert "not a process" in _error(client.get(f"{API}/processes/{world.result}"), 400)
    assert "unknown states" in _error(client.get(f"{API}/processes", params={"state": "asleep"}), 400)


def test_computers_codes_groups_and_users(client, world):
    computer = client.get(f"{API}/computers/{world.computer_label}").json()
    assert computer["pk"] == world.computer and computer["hostname"] == "localhost"
    assert computer["node_count"] >= 2  # the code and the CalcJob
    on_it = client.get(f"{API}/computers/{world.computer}/nodes", params={"limit": 1000}).json()
    assert {world.code, world.job} <= {item["pk"] for item in on_it["items"]}
    codes = client.get(f"{API}/codes", params={"limit": 2}).json()
    assert codes["total"] >= 1 and len(codes["items"]) == min(2, codes["total"])
    group = client.get(f"{API}/groups/{world.group}").json()
    assert group["label"] == world.group_label and group["node_count"] == 3
    members = client.get(f"{API}/groups/{world.group_label}/nodes").json()
    assert [item["pk"] for item in members["items"]] == world.ints[:3]
    total = client.get(f"{API}/groups", params={"limit": 1}).json()["total"]
    last = client.get(f"{API}/groups", params={"limit": 50, "offset": max(0, total - 50)}).json()  # by pk
    assert world.group in [g["pk"] for g in last["items"]]
    users = client.get(f"{API}/users").json()
    assert users["total"] == len(users["items"]) or len(users["items"]) == users["limit"]
    assert "no group" in _error(client.get(f"{API}/groups/no-such-group-{world.marker}"), 404)


def test_statistics_count_per_type_and_month(client, world):
    stats = client.get(f"{API}/statistics").json()
    assert stats["types"]["data.core.int"] >= 7 + 4 and stats["types"]["data.core.folder"] >= 1
    assert stats["total"] == sum(stats["types"].values())
    assert sum(stats["months"].values()) >= 7 + 4  # counted a moment later: other writers may have added nodes


def test_querybuilder_dict_form_runs_through_the_querybuilder(client, world):
    spec = {"path": [{"cls": "Int", "tag": "x"}, {"entity_type": "process.workflow.workchain.WorkChainNode.",
                                                   "tag": "w", "joining_keyword": "with_incoming",
                                                   "joining_value": "x", "edge_tag": "x_w"}],
            "filters": {"w": {"pk": world.root}, "x_w": {"label": {"in": ["x", "y"]}}},
            "project": {"x": ["attributes.value"], "x_w": ["label"]},
            "order_by": [{"x": [{"attributes.value": {"order": "desc"}}]}]}
    body = client.post(f"{API}/querybuilder", json=spec).json()
    assert body["total"] == 2
    assert body["rows"] == [{"x": {"attributes.value": 3}, "x_w": {"label": "y"}},
                            {"x": {"attributes.value": 2}, "x_w": {"label": "x"}}]
    star = client.post(f"{API}/querybuilder", json={"path": [{"cls": "Int", "tag": "n"}], "project": {"n": "*"},
                                                    "filters": {"n": {"label": world.marker}}, "limit": 2}).json()
    assert star["total"] == 7 and len(star["rows"]) == 2 and star["rows"][0]["n"]["*"]["node_type"] == "data.core.int"
    group = client.post(f"{API}/querybuilder", json={"path": [{"entity_type": "group", "tag": "g"}],
                                                     "filters": {"g": {"pk": world.group}}, "project": {"g": "*"}})
    assert group.json()["rows"][0]["g"]["*"]["label"] == world.group_label


@pytest.mark.parametrize(("spec", "says"), [
    ({"path": []}, "non-empty list"),
    ({"path": [{"cls": "NoSuchClass"}]}, "unknown node class"),
    ({"path": [{"cls": "Int", "tag": "x"}], "filters": {"y": {"pk": 1}}}, "unknown tags"),
    ({"path": [{"cls": "Int", "tag": "x"}], "filters": {"x": {"pk": {"~~": 1}}}}, "unknown operator"),
    ({"path": [{"cls": "Int", "tag": "x"}], "project": {"x": ["pk` RETURN 1 //"]}}, "unknown projection"),
    ({"path": [{"cls": "Int", "tag": "x) DETACH DELETE n //"}]}, "invalid tag"),
    ({"path": [{"cls": "Int"}], "limit": 10 ** 9}, "limit must be"),
    ({"path": [{"cls": "Int"}], "select": "*"}, "unknown keys"),
    ([1, 2], "JSON object"),
])
def test_querybuilder_refuses_malformed_dicts_with_a_clear_4xx(client, world, spec, says):
    response = client.post(f"{API}/querybuilder", json=spec)
    assert says in _error(response, 400)


def test_injection_in_attribute_keys_and_values_travels_as_parameters(client, world):
    hostile = "x' OR 1=1 //"
    spec = {"path": [{"cls": "Int", "tag": "x"}], "filters": {"x": {"and": [
        {"label": world.marker}, {"attributes.`value`) RETURN n //": hostile}]}}}
    assert client.post(f"{API}/querybuilder", json=spec).json()["total"] == 0
    listed = client.get(f"{API}/nodes", params={"label": hostile}).json()
    assert listed["total"] == 0
    assert client.get(f"{API}/search", params={"q": "'); MATCH (n) DETACH DELETE n; //"}).json()["total"] == 0


def test_bad_requests_get_clear_json_errors(client, world):
    assert "no node" in _error(client.get(f"{API}/nodes/999999999"), 404).lower()
    assert "neither a pk" in _error(client.get(f"{API}/nodes/not-a-uuid!"), 400)
    assert "not valid JSON" in _error(client.get(f"{API}/nodes", params={"filters": "{nope"}), 400)
    assert "unknown filter field" in _error(client.get(f"{API}/nodes", params={"filters": '{"colour": 1}'}), 400)
    assert "limit must be" in _error(client.get(f"{API}/nodes", params={"limit": 10 ** 6}), 400)
    assert "offset must be" in _error(client.get(f"{API}/nodes", params={"offset": -1}), 400)
    assert "ISO 8601" in _error(client.get(f"{API}/nodes", params={"ctime_after": "yesterday"}), 400)
    assert "unknown node class" in _error(client.get(f"{API}/nodes", params={"type": "Unicorn"}), 400)
    assert _error(client.get(f"{API}/nodes", params={"limit": "many"}), 422)
    assert _error(client.get(f"{API}/nowhere"), 404)


def test_archive_of_a_node_holds_its_provenance_closure(client, world, tmp_path):
    import provgraph.archive

    response = client.get(f"{API}/nodes/{world.result}/archive")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None
    path = tmp_path / "closure.zip"
    path.write_bytes(response.content)
    with provgraph.archive.open(path) as archive:
        from provgraph.orm import Node

        pks = set(archive.querybuilder().append(Node, project="pk").all(flat=True))
    assert {world.result, world.root, world.job} <= pks


def test_openapi_schema_lists_the_endpoints(client, world):
    schema = client.get(f"{API}/openapi.json").json()
    for path in ("/api/v1/nodes", "/api/v1/nodes/{identifier}", "/api/v1/querybuilder", "/api/v1/processes",
                 "/api/v1/statistics", "/api/v1/groups/{identifier}/nodes"):
        assert path in schema["paths"], path
    assert client.get("/").headers["content-type"].startswith("text/html")
    assert "ProvGraph" in client.get("/static/graph.js").text


def test_search_by_pk_uuid_prefix_and_label(client, world):
    by_pk = client.get(f"{API}/search", params={"q": str(world.result)}).json()["items"]
    assert world.result in [item["pk"] for item in by_pk]
    assert all(item["pk"] == world.result or item["uuid"].startswith(str(world.result)) for item in by_pk)
    uuid = client.get(f"{API}/nodes/{world.folder}").json()["uuid"]
    assert [item["pk"] for item in client.get(f"{API}/search", params={"q": uuid[:12]}).json()["items"]] == [
        world.folder]
    by_label = client.get(f"{API}/search", params={"q": world.marker.upper(), "limit": 100}).json()
    assert sorted(item["pk"] for item in by_label["items"]) == sorted([*world.ints, world.folder, world.code])


def test_a_node_whose_user_has_no_record_is_served(client, world):
    """A node's user known only by its email (no user record) is shown with empty names, not a 500."""
    import uuid

    from provgraph.orm import User
    from provgraph.web.serialize import user_dict

    email = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    assert user_dict(User(email)) == {"email": email, "first_name": "", "last_name": "", "institution": ""}
    node = client.get(f"{API}/nodes/{world.result}")
    assert node.status_code == 200 and isinstance(node.json()["user"], str) and "@" in node.json()["user"]
