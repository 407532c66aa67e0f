"""The walk out of capturemock's own frames (``callstack.caller_verdict``), in C and in Python alike: the
cached verdict of the first caller that is not capturemock's own, else the frame to classify first."""
from __future__ import annotations

import sys

import pytest

from capturemock.python import callstack
from tests.conftest import built_speedups

OWN = "own"


@pytest.fixture(params=["c", "python"])
def walk(request):
    return built_speedups().caller_verdict if request.param == "c" else callstack.caller_verdict


def frames(walk, cache):
    """What ``walk`` answers asked from ``inner``, called by ``middle``, called by ``outer``."""
    def inner():
        return walk(cache, OWN)

    def middle():
        return inner()

    def outer():
        return middle()

    return outer, middle, inner


def test_the_first_frame_without_a_verdict_is_handed_back(walk):
    cache = {}
    outer, middle, inner = frames(walk, cache)
    assert outer().f_code is inner.__code__


def test_own_frames_are_walked_out_of_to_the_first_verdict(walk):
    cache = {}
    outer, middle, inner = frames(walk, cache)
    cache[id(inner.__code__)] = (inner.__code__, OWN)
    cache[id(middle.__code__)] = (middle.__code__, True)
    assert outer() is True
    cache[id(middle.__code__)] = (middle.__code__, OWN)
    cache[id(outer.__code__)] = (outer.__code__, False)
    assert outer() is False
    del cache[id(outer.__code__)]
    assert outer().f_code is outer.__code__


def test_an_entry_of_another_code_object_under_the_same_id_is_no_verdict(walk):
    cache = {}
    outer, middle, inner = frames(walk, cache)
    cache[id(inner.__code__)] = (middle.__code__, True)  # a stale id: the code it was taken from is gone
    assert outer().f_code is inner.__code__


def test_a_given_frame_is_where_the_walk_starts_and_none_is_past_the_outermost(walk):
    cache = {}
    frame = sys._getframe()
    assert walk(cache, OWN, frame) is frame
    while frame is not None:
        cache[id(frame.f_code)] = (frame.f_code, OWN)
        frame = frame.f_back
    assert walk(cache, OWN, sys._getframe()) is None
    assert walk(cache, OWN) is None  # from this test's own frame


def test_c_refuses_a_cache_that_is_not_a_dict():
    with pytest.raises(TypeError, match=r"^caller_verdict\(cache: dict, own\[, frame\]\)$"):
        built_speedups().caller_verdict([], OWN)
