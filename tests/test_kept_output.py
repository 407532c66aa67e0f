"""The traffic server's output kept for showing at its stop is bounded: start and end kept, the middle
counted (a peer sending junk makes the server warn once per message)."""
from capturemock.keptoutput import HALF, KeptOutput


def test_output_under_the_limit_is_kept_whole():
    kept = KeptOutput("")
    for part in ["a" * 10, "b\n", "c" * (HALF - 5)]:
        kept.add(part)
    assert kept.joined() == "a" * 10 + "b\n" + "c" * (HALF - 5)


def test_a_flood_keeps_its_start_and_its_end_and_says_how_much_was_left_out():
    kept = KeptOutput(b"")
    lines = [b"WARNING: junk %07d\n" % i for i in range(200000)]  # ~4 MB
    for line in lines:
        kept.add(line)
    text = kept.joined()
    whole = b"".join(lines)
    head, _, rest = text.partition(b"\n... (")
    count, _, tail = rest.partition(b" more characters of server output not kept) ...\n")
    assert len(head) == HALF and whole.startswith(head)
    assert whole.endswith(tail) and len(tail) >= HALF
    assert len(head) + int(count) + len(tail) == len(whole)
    assert len(text) < 2 * HALF + 100 + len(lines[0])
