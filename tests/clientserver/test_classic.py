"""Classic plain-text TCP and the custom client protocol through the real traffic server (§8.3, §8.4)."""
from __future__ import annotations

import capturemock
from capturemock.clientserver.location import parse_host_port
from capturemock.clientserver.script import ClientScript
from capturemock.mockfile import parse

CLIENT_RC = "[general]\nserver_protocol = classic\nrecord_for_client = true\n"


def test_record_client_forwards_and_records_both_sides(rig):
    real = rig.real_classic(lambda text: text.upper())
    address = rig.start(capturemock.RECORD, CLIENT_RC)
    assert rig.send(address, f"SUT_SERVER:shouter on {real.address}") == ""
    assert rig.send(address, "hello") == "HELLO"
    assert rig.send(address, "two\nlines") == "TWO\nLINES"
    rig.stop()
    assert real.received == ["hello", "two\nlines"]
    assert rig.read("rec.mock") == "<-CLI:hello\n->SRV:HELLO\n<-CLI:two\nlines\n->SRV:TWO\nLINES\n"


def test_record_without_destination_records_the_message_only(rig):
    address = rig.start(capturemock.RECORD, CLIENT_RC)
    assert rig.send(address, "anyone?") == ""
    rig.stop()
    assert rig.read("rec.mock") == "<-CLI:anyone?\n"


def test_replay_with_the_real_server_gone_answers_from_a_hand_edited_mock(rig):
    rig.write("stored.mock", """\
        <-CLI:What is 6 times 7?
        ->SRV:42 (edited)
        <-CLI:What is 6 times 7?
        ->SRV:second
        """)
    address = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock")
    rig.send(address, "SUT_SERVER:quiz on 127.0.0.1:1")
    answers = [rig.send(address, "What is 6 times 7?") for _ in range(3)]
    best = rig.send(address, "What is 6 times 8?")
    unknown = rig.send(address, "zzz")
    rig.stop()
    assert answers == ["42 (edited)", "second", "42 (edited)"]  # §5.5: wraps to the first
    assert best == "42 (edited)"  # §5.4 best match
    assert unknown == ""
    assert rig.read("rec.mock") == (
        "<-CLI:What is 6 times 7?\n->SRV:42 (edited)\n<-CLI:What is 6 times 7?\n->SRV:second\n"
        "<-CLI:What is 6 times 7?\n->SRV:42 (edited)\n<-CLI:What is 6 times 8?\n->SRV:42 (edited)\n<-CLI:zzz\n")


def test_exact_matching_answers_a_mismatch_and_still_records_matched_items(rig):
    rig.write("stored.mock", "<-CLI:ping\n->SRV:pong\n")
    address = rig.start(capturemock.REPLAY, CLIENT_RC + "use_exact_matching = true\n", replay="stored.mock")
    assert rig.send(address, "pong?") == ("CAPTUREMOCK MISMATCH: Could not find any replay request "
                                              "matching '<-CLI:pong?'")
    assert rig.send(address, "ping") == "pong"
    rig.stop()
    assert rig.read("rec.mock") == "<-CLI:ping\n->SRV:pong\n"


def test_server_as_sut_records_location_and_flips_directions(rig):
    real = rig.real_classic(lambda text: f"re: {text}")
    address = rig.start(capturemock.RECORD, "[general]\nserver_protocol = classic\n")
    rig.send(address, f"SUT_SERVER:listening on {real.address}")
    assert rig.send(address, "hi") == "re: hi"
    rig.stop()
    assert rig.read("rec.mock") == f"<-SRV:listening on {real.address}\n->CLI:hi\n<-SRV:re: hi\n"


def test_server_as_sut_replay_plays_the_recorded_client_once(rig):
    real = rig.real_classic(lambda text: f"re: {text}")
    rig.write("stored.mock", "<-SRV:listening on 127.0.0.1:1\n->CLI:one\n->CLI:two\n<-SRV:x\n->CLI:three\n")
    address = rig.start(capturemock.REPLAY, "[general]\nserver_protocol = classic\n", replay="stored.mock")
    rig.send(address, f"SUT_SERVER:listening on {real.address}")
    rig.stop()
    # the reply to 'one' releases the batch ['three']; later replies release nothing (no wrap-around)
    assert real.received == ["one", "three", "two"]
    assert rig.read("rec.mock") == (f"<-SRV:listening on {real.address}\n->CLI:one\n<-SRV:re: one\n"
                                    "->CLI:three\n<-SRV:re: three\n->CLI:two\n<-SRV:re: two\n")


def test_alterations_timestamps_and_preserved_line_breaks(rig):
    real = rig.real_classic(lambda text: f"at 12:34:56\n{text}\n")
    rc = CLIENT_RC + ("alterations = clock\nrecord_timestamps = true\npreserve_lf = true\n"
                      "[clock]\nmatch_pattern = [0-9]{2}:[0-9]{2}:[0-9]{2}\nreplacement = <TIME>\n")
    address = rig.start(capturemock.RECORD, rc)
    rig.send(address, f"SUT_SERVER:{real.address}")
    assert rig.send(address, "now 01:02:03\n") == "at 12:34:56\nnow 01:02:03\n\n"
    rig.stop()
    request, timestamp, reply = rig.read("rec.mock").splitlines()
    assert request == "<-CLI:now <TIME><LF>"
    assert timestamp.startswith("--TIM:20")
    assert reply == "->SRV:at <TIME><LF>now <TIME><LF><LF>"
    rig.write("stored.mock", "<-CLI:hello<LF>\n->SRV:two<LF><LF>\n")
    address = rig.start(capturemock.REPLAY, rc.replace("record_timestamps = true", ""), replay="stored.mock")
    assert rig.send(address, "hello\n") == "two\n\n"


def test_custom_client_records_and_replays(rig):
    address = rig.start(capturemock.RECORD, "[general]\nserver_protocol = classic\n")
    assert rig.env["CAPTUREMOCK_MODE"] == "1"
    rig.send(address, "SUT_CUSTOM:lookup sky:SUT_SEP:blue")
    rig.stop()
    assert rig.read("rec.mock") == "<-CAL:lookup sky\n->RET:blue\n"
    rig.write("stored.mock", "<-CAL:lookup sky\n->RET:grey\nand cloudy\n")
    address = rig.start(capturemock.REPLAY, "[general]\nserver_protocol = classic\n", replay="stored.mock",
                        record="replayed.mock")
    assert rig.send(address, "SUT_CUSTOM:lookup sky") == "grey\nand cloudy"
    rig.stop()
    assert rig.read("replayed.mock") == "<-CAL:lookup sky\n->RET:grey\nand cloudy\n"


def test_replay_for_server_with_classic_host_port(rig):
    real = rig.real_classic(lambda text: text[::-1])
    rig.write("stored.mock", "<-CLI:abc\n--TIM:2024-01-01T00:00:00\n->SRV:old\n<-CLI:xyz\n")
    capturemock.replay_for_server(rcFile=rig.write("rc", CLIENT_RC), replayFile=str(rig.root / "stored.mock"),
                                  recordFile=str(rig.root / "out.mock"), serverAddress=real.address)
    assert real.received == ["abc", "xyz"]
    assert rig.read("out.mock") == "<-CLI:abc\n->SRV:cba\n<-CLI:xyz\n->SRV:zyx\n"


def test_location_parsing_and_script_batches():
    assert parse_host_port("quiz server on 127.0.0.1:4000") == ("127.0.0.1", 4000)
    assert parse_host_port("http://localhost:81/base") == ("localhost", 81)
    assert parse_host_port("ready") is None
    assert parse_host_port("on host:port") is None
    script = ClientScript(parse("<-SRV:a\n->CLI:1\n->CLI:2\n<-SRV:b\n<-SRV:c\n->CLI:3\n"))
    assert [[item.text for item in script.next_batch()] for _ in range(4)] == [["1", "2"], [], ["3"], []]


def test_on_best_match_error_answers_a_mismatch_naming_the_closest(rig):
    rig.write("stored.mock", "<-CLI:ping\n->SRV:pong\n")
    address = rig.start(capturemock.REPLAY, CLIENT_RC + "on_best_match = error\n", replay="stored.mock")
    answer = rig.send(address, "ping again")
    rig.stop()
    assert answer.startswith("CAPTUREMOCK MISMATCH: '<-CLI:ping again' is not recorded in ")
    assert answer.endswith("stored.mock:1: <-CLI:ping\n    <-CLI:ping{+ again+}")


def test_server_as_sut_location_message_ending_in_a_newline_is_recorded_as_2_10_does(rig):
    real = rig.real_classic(lambda text: f"re: {text}")
    address = rig.start(capturemock.RECORD, "[general]\nserver_protocol = classic\n")
    rig.send(address, f"SUT_SERVER:listening on {real.address}\n")
    rig.send(address, "hi")
    rig.send(address, "SUT_SERVER:ready\n\n")
    rig.stop()
    assert rig.read("rec.mock") == f"<-SRV:listening on {real.address}\n->CLI:hi\n<-SRV:re: hi\n<-SRV:ready\n\n"
