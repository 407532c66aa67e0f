"""The replay index's key table: it must give the ids a dict would, whatever the keys and growth."""
from hypothesis import given
from hypothesis import strategies as st

from capturemock.keytable import KeyTable


def table_over(keys: list[str], expected: int = 0) -> KeyTable:
    """A table whose owner keeps the key texts in a list, as the replay index keeps them in its file."""
    return KeyTable(lambda key_id, key: keys[key_id] == key, expected)


@given(st.lists(st.text(max_size=6), max_size=300), st.lists(st.text(max_size=6), max_size=50),
       st.sampled_from([0, 10, 1000]))
def test_ids_are_those_of_first_appearance(added, probes, expected):
    known: list[str] = []
    table = table_over(known, expected)
    reference: dict[str, int] = {}
    for key in added:
        key_id = table.add(key)
        if key_id == len(known):
            known.append(key)
        assert key_id == reference.setdefault(key, len(reference))
    assert len(table) == len(reference)
    for key in added + probes:
        assert table.find(key) == reference.get(key)


def test_growing_keeps_every_key_findable():
    known = [f"<-PYT:f({n})" for n in range(5000)]
    table = table_over(known)  # starts at 8 slots: grows ten times on the way
    assert [table.add(key) for key in known] == list(range(5000))
    assert [table.find(key) for key in known] == list(range(5000))
    assert table.find("<-PYT:f(5000)") is None
