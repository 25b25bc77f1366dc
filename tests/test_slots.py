"""Numbers per pod and per container, kept from one metrics list to the next."""

import sys

from ktopui.model.slots import ContainerRings, Slots


def test_a_slot_per_key_kept_until_freed_then_handed_out_again():
    slots = Slots()
    assert slots.of([("a", "p1"), ("a", "p2"), ("a", "p1")]) == [0, 1, 0]
    assert slots.take_added() == [0, 1] and slots.take_added() == []
    assert slots.of([("a", "p2")]) == [1]
    assert slots.free([("a", "p1"), ("no", "such")]) == [0]
    assert ("a", "p1") not in slots.index and slots.keys[0] is None
    assert slots.of([("b", "new")]) == [0]  # the freed slot
    assert slots.keys[0] == ("b", "new") and len(slots) == 2
    assert slots.take_added() == [0]


def test_the_kept_key_is_interned_not_the_decoded_one():
    slots = Slots()
    decoded = ("".join(["n", "s"]), "".join(["p", "od"]))
    slots.of([decoded])
    kept = slots.keys[0]
    assert kept == decoded and kept[1] is not decoded[1] and kept[1] is sys.intern("pod")


def test_container_rings_follow_names_in_any_order_and_are_let_go_with_their_pod():
    slots = Slots()
    a, b = slots.of([("ns", "a"), ("ns", "b")])
    rings = ContainerRings(slots)
    got, let_go = rings.rings([a, b], [("app", "proxy"), ("x", "y", "z")])
    assert got == [0, 1, 2, 3, 4] and let_go == []
    assert rings.locate(("container", "ns", "a", "proxy")) == (1, a)
    assert rings.locate(("container", "ns", "b", "z")) == (4, b)
    assert rings.locate(("container", "ns", "a", "nope")) is None
    assert rings.locate(("container", "ns", "gone", "app")) is None
    # The next list gives a's containers the other way round: same rings, by name.
    got, let_go = rings.rings([a], [("proxy", "app")])
    assert got == [1, 0] and let_go == []
    assert rings.locate(("container", "ns", "a", "app")) == (0, a)
    # b's containers changed: new rings; the old ones go back, to be cleared first.
    got, let_go = rings.rings([b], [("x", "w")])
    assert let_go == [2, 3, 4] and len(set(got)) == 2 and not set(got) & {0, 1}
    assert rings.rings_of(a) == [0, 1] and rings.rings_of(len(slots) + 5) == []
    # a is gone: its rings go back and are handed out again.
    assert rings.live() == 4
    assert sorted(rings.release_held([b, a])) == [0, 1, 5, 6] and rings.live() == 0
    assert rings.release_held([a, b]) == []
    assert rings.locate(("container", "ns", "a", "app")) is None
    c = slots.of([("ns", "c")])[0]
    got, _ = rings.rings([c], [("one", "two")])
    assert set(got) <= {0, 1, 2, 3, 4}
