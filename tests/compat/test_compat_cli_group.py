"""``provgraph group`` behaves as ``verdi group``: create, list, show, add-nodes, remove-nodes, relabel,
description, delete; unknown groups and nodes give a one-line error and a non-zero exit."""

from __future__ import annotations

import pytest
from compat_cli_support import error_line, invoke, sqlite_cli, unique  # noqa: F401 - sqlite_cli is a fixture

from provgraph.exceptions import NotExistent
from provgraph.orm import Group, Int, load_group, load_node

pytestmark = pytest.mark.usefixtures("sqlite_cli")


def test_create_then_create_again():
    name = unique("grp")
    first = invoke("group", "create", name)
    assert first.exit_code == 0 and f"Group created with PK = {load_group(name).pk} and label '{name}'" in first.output
    again = invoke("group", "create", name)
    assert again.exit_code == 0 and "already exists" in again.output
    assert len(Group.collection.find(filters={"label": name})) == 1


def test_list_shows_groups_with_count_and_description():
    name = unique("lst")
    group = Group(label=name, description="some words").store()
    group.add_nodes([Int(1).store(), Int(2).store()])
    result = invoke("group", "list", "-C", "-d", "-s", name)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if name in line)
    assert "some words" in row and row.rstrip(" │").endswith("2") and str(group.pk) in row


def test_list_filters_by_label_and_reports_nothing_found():
    result = invoke("group", "list", "-c", unique("nothing-like-this"))
    assert result.exit_code == 0 and "No groups found" in result.output


def test_list_by_node_and_order():
    node = Int(5).store()
    names = sorted([unique("ord"), unique("ord")])
    for name in names:
        Group(label=name).store().add_nodes(node)
    result = invoke("group", "list", "-N", str(node.pk), "-D", "desc")
    assert result.exit_code == 0, result.output
    assert result.output.index(names[1]) < result.output.index(names[0])


def test_list_other_user_hidden_unless_all_users():
    name = unique("other")
    Group(label=name, user="someone-else@example.org").store()
    assert name not in invoke("group", "list", "-s", name).output
    assert name in invoke("group", "list", "-A", "-s", name).output
    assert name in invoke("group", "list", "-u", "someone-else@example.org", "-s", name).output


def test_show_lists_members_and_raw_pks():
    group = Group(label=unique("show")).store()
    one, two = Int(1).store(), Int(2).store()
    group.add_nodes([one, two])
    result = invoke("group", "show", group.label)
    assert result.exit_code == 0, result.output
    assert "Group label" in result.output and "<no description>" in result.output and "Int" in result.output
    raw = invoke("group", "show", str(group.pk), "-r")
    assert raw.output.split() == [str(one.pk), str(two.pk)]
    uuids = invoke("group", "show", group.uuid, "-r", "-u")
    assert uuids.output.split() == [one.uuid, two.uuid]
    assert invoke("group", "show", group.label, "-r", "-l", "1").output.split() == [str(one.pk)]


def test_show_unknown_group_is_an_error():
    result = invoke("group", "show", unique("missing"))
    assert result.exit_code == 2 and error_line(result).startswith("Error: no group found")


def test_add_nodes_with_force():
    group = Group(label=unique("add")).store()
    one, two = Int(1).store(), Int(2).store()
    result = invoke("group", "add-nodes", "-G", group.label, "-f", str(one.pk), two.uuid)
    assert result.exit_code == 0, result.output
    assert group.count() == 2 and "Success" in result.output


def test_add_nodes_asks_for_confirmation():
    group = Group(label=unique("ask")).store()
    node = Int(1).store()
    refused = invoke("group", "add-nodes", "-G", group.label, str(node.pk), input="n\n")
    assert refused.exit_code == 1 and group.is_empty
    accepted = invoke("group", "add-nodes", "-G", group.label, str(node.pk), input="y\n")
    assert accepted.exit_code == 0 and group.count() == 1


def test_add_unknown_node_adds_nothing():
    group = Group(label=unique("unk")).store()
    node = Int(1).store()
    result = invoke("group", "add-nodes", "-G", group.label, "-f", str(node.pk), "999999999")
    assert result.exit_code == 2 and "no node found with pk or uuid '999999999'" in error_line(result)
    assert group.is_empty


def test_add_nodes_needs_the_group_option():
    result = invoke("group", "add-nodes", "1")
    assert result.exit_code == 2 and "Missing option '-G'" in result.output


def test_add_nodes_to_unknown_group():
    result = invoke("group", "add-nodes", "-G", unique("nogroup"), "-f", "1")
    assert result.exit_code == 2 and "no group found" in error_line(result)


def test_remove_nodes_and_clear():
    group = Group(label=unique("rm")).store()
    one, two, three = (Int(i).store() for i in range(3))
    group.add_nodes([one, two, three])
    result = invoke("group", "remove-nodes", "-G", group.label, "-f", str(one.pk))
    assert result.exit_code == 0 and sorted(n.pk for n in group.nodes) == sorted([two.pk, three.pk])
    cleared = invoke("group", "remove-nodes", "-G", group.label, "--clear", "-f")
    assert cleared.exit_code == 0 and group.is_empty
    assert load_node(one.pk).pk == one.pk  # removing never deletes


def test_remove_nodes_clear_and_nodes_together_is_refused():
    group = Group(label=unique("both")).store()
    node = Int(1).store()
    group.add_nodes(node)
    result = invoke("group", "remove-nodes", "-G", group.label, "--clear", "-f", str(node.pk))
    assert result.exit_code == 2 and group.count() == 1


def test_remove_nothing_is_a_no_op():
    group = Group(label=unique("none")).store()
    result = invoke("group", "remove-nodes", "-G", group.label, "-f")
    assert result.exit_code == 0 and "nothing to remove" in result.output


def test_relabel():
    group = Group(label=unique("old")).store()
    new = unique("new")
    result = invoke("group", "relabel", group.label, new)
    assert result.exit_code == 0 and f"Label changed to '{new}'" in result.output
    assert load_group(group.pk).label == new


def test_relabel_to_a_taken_label_is_a_clean_error():
    taken, group = Group(label=unique("taken")).store(), Group(label=unique("mine")).store()
    result = invoke("group", "relabel", group.label, taken.label)
    assert result.exit_code == 1 and error_line(result).startswith("Error: cannot relabel")
    assert "Traceback" not in result.output and load_group(group.pk).label == group.label


def test_description_set_and_print():
    group = Group(label=unique("desc")).store()
    assert invoke("group", "description", group.label, "new text").exit_code == 0
    printed = invoke("group", "description", group.label)
    assert printed.exit_code == 0 and printed.output.strip() == "new text"


def test_delete_keeps_nodes():
    group = Group(label=unique("del")).store()
    node = Int(1).store()
    group.add_nodes(node)
    result = invoke("group", "delete", group.label, "-f")
    assert result.exit_code == 0 and "deleted" in result.output
    with pytest.raises(NotExistent):
        load_group(group.pk)
    assert load_node(node.pk).pk == node.pk


def test_delete_with_nodes_and_dry_run():
    group = Group(label=unique("delnodes")).store()
    node = Int(7).store()
    group.add_nodes(node)
    dry = invoke("group", "delete", group.label, "--delete-nodes", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output and load_group(group.pk).count() == 1
    done = invoke("group", "delete", group.label, "--delete-nodes", "-f")
    assert done.exit_code == 0, done.output
    with pytest.raises(NotExistent):
        load_node(node.pk)


def test_delete_by_filter_and_confirmation():
    prefix = unique("filt")
    groups = [Group(label=f"{prefix}-{i}").store() for i in range(2)]
    refused = invoke("group", "delete", "-s", prefix, input="n\n")
    assert refused.exit_code == 1 and all(load_group(g.pk) for g in groups)
    done = invoke("group", "delete", "-s", prefix, "-f")
    assert done.exit_code == 0 and done.output.count("deleted") == 2


def test_delete_nothing_given():
    result = invoke("group", "delete")
    assert result.exit_code == 0 and "Nothing happened" in result.output


def test_delete_unknown_group():
    result = invoke("group", "delete", unique("ghost"), "-f")
    assert result.exit_code == 2 and "no group found" in error_line(result)


def test_copy_makes_the_destination():
    source = Group(label=unique("src")).store()
    nodes = [Int(1).store(), Int(2).store()]
    source.add_nodes(nodes)
    name = unique("dst")
    result = invoke("group", "copy", source.label, name)
    assert result.exit_code == 0 and "Nodes copied from" in result.output
    assert sorted(n.pk for n in load_group(name).nodes) == sorted(n.pk for n in nodes)


def test_copy_into_a_non_empty_group_asks():
    source, destination = Group(label=unique("src")).store(), Group(label=unique("dst")).store()
    source.add_nodes(Int(1).store())
    destination.add_nodes(Int(2).store())
    refused = invoke("group", "copy", source.label, destination.label, input="n\n")
    assert refused.exit_code == 1 and destination.count() == 1
    accepted = invoke("group", "copy", source.label, destination.label, input="y\n")
    assert accepted.exit_code == 0 and destination.count() == 2


def test_move_nodes_and_all():
    source, target = Group(label=unique("from")).store(), Group(label=unique("to")).store()
    one, two = Int(1).store(), Int(2).store()
    source.add_nodes([one, two])
    result = invoke("group", "move-nodes", "-s", source.label, "-t", target.label, "-f", str(one.pk))
    assert result.exit_code == 0, result.output
    assert [n.pk for n in source.nodes] == [two.pk] and [n.pk for n in target.nodes] == [one.pk]
    assert invoke("group", "move-nodes", "-s", source.label, "-t", target.label, "-a", "-f").exit_code == 0
    assert source.is_empty and target.count() == 2


def test_move_nodes_not_in_the_source_moves_nothing():
    source, target = Group(label=unique("from")).store(), Group(label=unique("to")).store()
    member, stranger = Int(1).store(), Int(2).store()
    source.add_nodes(member)
    result = invoke("group", "move-nodes", "-s", source.label, "-t", target.label, "-f", str(member.pk),
                    str(stranger.pk))
    assert result.exit_code == 1 and f"node(s) {stranger.pk} are not in" in error_line(result)
    assert source.count() == 1 and target.is_empty


def test_move_nodes_unknown_target_group():
    source = Group(label=unique("from")).store()
    result = invoke("group", "move-nodes", "-s", source.label, "-t", unique("ghost"), "-a", "-f")
    assert result.exit_code == 2 and "no group found" in error_line(result)
