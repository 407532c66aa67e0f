"""NameRegistry hands out the names of the original's suffix rules (lowest free number first) however names were
taken, added directly and released, now counting on from where it last found a free one."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from capturemock.python.naming import NameRegistry


def lowest_free(used: set[str], base: str, hint: str | None, bare_suffix: bool) -> tuple[str, bool]:
    """The rule as §4.2 states it, by counting from 1 every time."""
    stem = f"{base}_{hint}" if hint else base
    if (hint or not bare_suffix) and stem not in used:
        return stem, False
    number = 1
    while f"{stem}{number}" in used:
        number += 1
    return f"{stem}{number}", True


_names = st.sampled_from(["item", "item1", "item2", "item3", "item_a", "item_a1", "cb", "cb1", "item12"])
_operations = st.lists(st.one_of(
    st.tuples(st.just("take"), st.sampled_from(["item", "cb"]), st.sampled_from([None, "a"]), st.booleans()),
    st.tuples(st.just("add"), _names), st.tuples(st.just("release"), _names)), max_size=60)


@settings(max_examples=300)
@given(operations=_operations)
def test_names_are_the_lowest_free_ones_whatever_came_before(operations):
    registry, used = NameRegistry(), set()
    for operation, *args in operations:
        if operation == "take":
            base, hint, bare_suffix = args
            expected = lowest_free(used, base, hint, bare_suffix)
            assert registry.free(base, hint, bare_suffix=bare_suffix) == expected
            assert registry.take(base, hint, bare_suffix=bare_suffix) == expected
            used.add(expected[0])
        elif operation == "add":  # as ObjectRegistry does for a name the mock gave
            registry.used.add(args[0])
            used.add(args[0])
        else:
            registry.release(args[0])
            used.discard(args[0])
    assert registry.used == used


def test_the_nth_unhinted_name_costs_one_look_up():
    """2000 instances of one class used to scan item1 .. item<n> for each: quadratic in a long recording."""
    looked_up = []

    class Counted(set):
        def __contains__(self, name):
            looked_up.append(name)
            return super().__contains__(name)

    registry = NameRegistry()
    registry.used = Counted()
    names = [registry.take("item", None, bare_suffix=True)[0] for _ in range(2000)]
    assert names == [f"item{n}" for n in range(1, 2001)]
    assert len(looked_up) < 2 * 2000
