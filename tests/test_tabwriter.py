"""The tabwriter port against kubectl's own byte-exact fixtures."""

from ktopui.batch.tabwriter import render


def test_node_fixture_from_kubectl_printer_test():
    rows = [
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"],
        ["node1", "1000m", "10%", "1024Mi", "10%"],
    ]
    assert render(rows) == (
        "NAME    CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)   \n"
        "node1   1000m        10%      1024Mi          10%         \n"
    )


def test_sum_fixture_from_kubectl_printer_test():
    rows = [
        ["NAME", "CPU(cores)", "MEMORY(bytes)"],
        ["test", "400m", "2048Mi"],
        ["test-1", "400m", "5120Mi"],
        ["", "________", "________"],
        ["", "800m", "7168Mi"],
    ]
    assert render(rows) == (
        "NAME     CPU(cores)   MEMORY(bytes)   \n"
        "test     400m         2048Mi          \n"
        "test-1   400m         5120Mi          \n"
        "         ________     ________        \n"
        "         800m         7168Mi          \n"
    )


def test_columns_are_at_least_six_wide():
    assert render([["a", "b"]]) == "a     b     \n"


def test_ragged_row_ends_the_block_and_remembered_widths_carry_over():
    # SPEC §2.9 "node not in node list": the short row starts new blocks for
    # the columns it lacks; RememberWidths keeps later blocks at least as wide.
    rows = [
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"],
        ["ip-10-0-1-12.ec2.internal", "1595m", "40%", "3859Mi", "52%"],
        ["ip-10-0-2-7.ec2.internal", "99m", "1205Mi"],
    ]
    assert render(rows).replace(" ", "·") == (
        "NAME························CPU(cores)···CPU(%)···MEMORY(bytes)···MEMORY(%)···\n"
        "ip-10-0-1-12.ec2.internal···1595m········40%······3859Mi··········52%·········\n"
        "ip-10-0-2-7.ec2.internal····99m··········1205Mi···\n"
    )


def test_no_headers_sum_misalignment_is_reproduced():
    rows = [
        ["default", "web-7d4b9c6f5-abcde", "3m", "11Mi"],
        ["kube-system", "coredns-5d78c9869d-xyz12", "3m", "15Mi"],
        ["", "________", "________"],
        ["", "6m", "26Mi"],
    ]
    assert render(rows).replace(" ", "·") == (
        "default·······web-7d4b9c6f5-abcde········3m·········11Mi···\n"
        "kube-system···coredns-5d78c9869d-xyz12···3m·········15Mi···\n"
        "··············________···················________···\n"
        "··············6m·························26Mi·······\n"
    )


def test_cell_width_counts_characters_not_bytes():
    assert render([["ü", "x"], ["abcdefg", "y"]]) == "ü         x     \nabcdefg   y     \n"


def test_empty_table_renders_nothing():
    assert render([]) == ""
