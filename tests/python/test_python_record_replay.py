"""Record real calls, replay them with the real module gone, hand-edited mocks, modes (§2, §5, §6)."""
from __future__ import annotations

import importlib
import os
import traceback

import pytest

from capturemock import RECORD, REPLAY, REPLAY_OLD_RECORD_NEW, CaptureMockReplayError
from capturemock.errors import MockFileError

WEATHER = """
    class ForecastError(Exception):
        pass

    class Station:
        def __init__(self, name):
            self.name = name

        def reading(self, unit="C"):
            return {"temp": 3.14159, "unit": unit}

    def forecast(days):
        if days > 2:
            raise ForecastError("no data beyond 2 days")
        return ["sun", "rain"][:days]
"""

WEATHER_MOCK = """
    <-PYT:import weather
    <-PYT:weather.__name__
    ->RET:'weather'
    <-PYT:weather.__path__
    ->RET:raise AttributeError("module 'weather' has no attribute '__path__'")
    <-PYT:weather.Station('Uppsala')
    ->RET:Instance('Station', 'station_uppsala')
    <-PYT:station_uppsala.reading(unit='C')
    ->RET:{'temp': 3.14, 'unit': 'C'}
    <-PYT:weather.forecast(2)
    ->RET:['sun', 'rain']
    <-PYT:weather.forecast(3)
    ->RET:raise Instance('ForecastError(Exception)', 'forecasterror1')
    <-PYT:forecasterror1.__str__()
    ->RET:'no data beyond 2 days'
"""


def use_weather():
    weather = importlib.import_module("weather")
    station = weather.Station("Uppsala")
    results = [station.reading(unit="C"), weather.forecast(2)]
    try:
        weather.forecast(3)
    except weather.ForecastError as exc:
        results.append(str(exc))
    return results


def test_record_writes_the_exact_transcript(sandbox):
    sandbox.module("weather", WEATHER)
    with sandbox.intercept(RECORD, ["weather"]):
        results = use_weather()
    assert results == [{"temp": 3.14159, "unit": "C"}, ["sun", "rain"], "no data beyond 2 days"]
    assert sandbox.recorded() == sandbox.lines(WEATHER_MOCK)


def test_replay_with_the_real_module_gone_rerecords_the_same_text(sandbox):
    sandbox.module("weather", WEATHER)
    replay = sandbox.mock(WEATHER_MOCK)
    sandbox.remove("weather")
    with sandbox.intercept(REPLAY, ["weather"], replay=replay):
        results = use_weather()
    assert results == [{"temp": 3.14, "unit": "C"}, ["sun", "rain"], "no data beyond 2 days"]
    assert sandbox.recorded() == sandbox.lines(WEATHER_MOCK)


def test_replay_of_a_hand_edited_mock(sandbox):
    replay = sandbox.mock(WEATHER_MOCK.replace("'sun', 'rain'", "'snow'").replace("no data beyond", "edited"))
    with sandbox.intercept(REPLAY, ["weather"], replay=replay):
        results = use_weather()
    assert results[1:] == [["snow"], "edited 2 days"]


def test_replay_mode_without_a_replay_file_intercepts_nothing(sandbox):
    sandbox.module("weather", WEATHER)
    with sandbox.intercept(REPLAY, ["weather"], replay=str(sandbox.root / "missing.mock")):
        assert use_weather()[1] == ["sun", "rain"]
    assert not sandbox.record.exists()


def test_mixed_mode_with_a_missing_replay_file_records(sandbox):
    sandbox.module("weather", WEATHER)
    with sandbox.intercept(REPLAY_OLD_RECORD_NEW, ["weather"], replay=str(sandbox.root / "missing.mock")):
        use_weather()
    assert sandbox.recorded() == sandbox.lines(WEATHER_MOCK)


def test_mixed_mode_replays_known_functions_and_runs_the_rest(sandbox):
    sandbox.module("quotes", """
        MARKET = "real-market"
        def price(symbol):
            return 1.5
        def volume(symbol):
            return len(symbol) * 1000
    """)
    replay = sandbox.mock("""
        <-PYT:import quotes
        <-PYT:quotes.price('ACME')
        ->RET:99.5
    """)
    with sandbox.intercept(REPLAY_OLD_RECORD_NEW, ["quotes"], replay=replay):
        import quotes
        assert (quotes.price("ACME"), quotes.price("NEW"), quotes.volume("AB"), quotes.MARKET) == \
            (99.5, 99.5, 2000, "real-market")
    assert sandbox.recorded().endswith(sandbox.lines("""
        <-PYT:quotes.price('ACME')
        ->RET:99.5
        <-PYT:quotes.price('NEW')
        ->RET:99.5
        <-PYT:quotes.volume('AB')
        ->RET:2000
        <-PYT:quotes.MARKET
        ->RET:'real-market'
    """))


def test_exact_matching_raises_into_the_application_and_records_the_request(sandbox):
    rc = sandbox.rc("[general]\nuse_exact_matching = true\n")
    replay = sandbox.mock("""
        <-PYT:geo.distance('Uppsala', 'Lund')
        ->RET:601
    """)
    with sandbox.intercept(REPLAY, ["geo"], rc=rc, replay=replay):
        import geo
        with pytest.raises(CaptureMockReplayError) as info:
            geo.distance("Uppsala", "Malmo")
        assert geo.distance("Uppsala", "Lund") == 601
    assert str(info.value) == "Could not find any replay request matching '<-PYT:geo.distance('Uppsala', 'Malmo')'"
    assert "<-PYT:geo.distance('Uppsala', 'Malmo')\n<-PYT:geo.distance('Uppsala', 'Lund')\n" in sandbox.recorded()


def test_repeated_calls_take_successive_answers_then_wrap_to_the_first(sandbox):
    replay = sandbox.mock("""
        <-PYT:dice.roll()
        ->RET:'first'
        <-PYT:dice.roll()
        ->RET:'second'
        <-PYT:dice.Cup()
        ->RET:Instance('Cup', 'cup1')
        <-PYT:cup1.state
        ->RET:'Initial'
        <-PYT:cup1.shake(3)
        <-PYT:cup1.state
        ->RET:'Shaken'
    """)
    with sandbox.intercept(REPLAY, ["dice"], replay=replay):
        import dice
        assert [dice.roll() for _ in range(3)] == ["first", "second", "first"]
        cup = dice.Cup()
        assert [cup.state, cup.state] == ["Initial", "Initial"]
        cup.shake(3)
        assert cup.state == "Shaken"


def test_a_failed_import_is_recorded_and_reraised(sandbox):
    with sandbox.intercept(RECORD, ["optional_backend"]):
        with pytest.raises(ModuleNotFoundError):
            import optional_backend  # noqa: F401
    assert sandbox.recorded() == sandbox.lines("""
        <-PYT:import optional_backend
        ->RET:raise ModuleNotFoundError("No module named 'optional_backend'")
    """)



def test_a_failed_import_is_replayed_as_a_failure(sandbox):
    """As 2.10.0 did (observed): the import line is looked up and its recorded raise replayed."""
    replay = sandbox.mock("""
        <-PYT:import optional_backend
        ->RET:raise ModuleNotFoundError("No module named 'optional_backend'")
    """)
    with sandbox.intercept(REPLAY, ["optional_backend"], replay=replay):
        with pytest.raises(ModuleNotFoundError, match="No module named 'optional_backend'"):
            import optional_backend  # noqa: F401
    assert sandbox.recorded() == sandbox.lines("""
        <-PYT:import optional_backend
        ->RET:raise ModuleNotFoundError("No module named 'optional_backend'")
    """)


def test_an_import_missing_from_the_mock_borrows_no_failure(sandbox):
    """2.10.0 best-matched ``import pkg.sub`` to the failed ``import optional_backend`` and failed with
    its error; ours still chooses (and uses up) the best match, but plays nothing of it."""
    replay = sandbox.mock("""
        <-PYT:import pkg
        <-PYT:pkg.__path__
        ->RET:['Fake value just to mark that it exists']
        <-PYT:import optional_backend
        ->RET:raise ModuleNotFoundError("No module named 'optional_backend'")
        <-PYT:pkg.sub.twice(4)
        ->RET:8
    """)
    with sandbox.intercept(REPLAY, ["pkg", "optional_backend"], replay=replay):
        import pkg.sub
        assert pkg.sub.twice(4) == 8
    assert sandbox.recorded() == sandbox.lines("""
        <-PYT:import pkg
        <-PYT:pkg.__path__
        ->RET:['Fake value just to mark that it exists']
        <-PYT:import pkg.sub
        <-PYT:pkg.sub.twice(4)
        ->RET:8
    """)

def test_a_refused_expression_in_a_mock_is_a_clean_error_and_runs_nothing(sandbox, tmp_path):
    target = tmp_path / "pwned"
    replay = sandbox.mock(f"""
        <-PYT:evil.f()
        ->RET:os.system('touch {target}')
        <-PYT:evil.g()
        ->RET:__import__('os').system('touch {target}')
    """)
    with sandbox.intercept(REPLAY, ["evil"], replay=replay):
        import evil
        with pytest.raises(MockFileError) as first:
            evil.f()
        with pytest.raises(MockFileError) as second:
            evil.g()
    assert str(first.value).startswith(f"{replay}:2: refused expression \"os.system(")
    assert str(second.value).startswith(f"{replay}:4: refused expression")
    assert not target.exists()


def test_capturemock_errors_reach_the_application_without_capturemock_internals(sandbox):
    """The traceback the user sees: their own line, the intercepted call it made, the clean message."""
    rc = sandbox.rc("[general]\nuse_exact_matching = true\n")
    replay = sandbox.mock("""
        <-PYT:shop.price('tea')
        ->RET:[1,
        <-PYT:shop.CURRENCY
        ->RET:{'unclosed'
        <-PYT:shop.Basket()
        ->RET:Instance('Basket', 'basket1')
        <-PYT:basket1.total()
        ->RET:os.system('true')
    """)
    with sandbox.intercept(REPLAY, ["shop"], rc=rc, replay=replay):
        import shop
        basket = shop.Basket()
        errors = []
        for use in (lambda: shop.price("tea"), lambda: shop.CURRENCY, basket.total, lambda: shop.price("cake")):
            with pytest.raises((MockFileError, CaptureMockReplayError)) as info:
                use()
            errors.append(info)
    for info in errors:
        frames = [os.path.basename(frame.filename) for frame in traceback.extract_tb(info.tb)]
        assert frames[0] == os.path.basename(__file__) and frames[-1] == "proxies.py", frames
        assert all(name != "proxies.py" for name in frames[:-1]) and len(frames) <= 3, frames
    assert [str(info.value).split(": ")[0] for info in errors[:3]] == [f"{replay}:2", f"{replay}:4", f"{replay}:8"]


def test_a_hand_written_raise_of_the_modules_own_exception(sandbox):
    """Simulating a failure by hand: ``raise shop.OutOfStock('...')``, the module absent; the application
    catches it as ``shop.OutOfStock`` however it got hold of that name, and the transcript is unchanged."""
    text = """
        <-PYT:import shop
        <-PYT:shop.order('tea')
        ->RET:raise shop.OutOfStock('no tea today')
        <-PYT:shop.order('cake')
        ->RET:'ordered'
    """
    replay = sandbox.mock(text)
    with sandbox.intercept(REPLAY, ["shop"], replay=replay):
        import shop
        from shop import OutOfStock
        with pytest.raises(OutOfStock, match="^no tea today$") as info:
            shop.order("tea")
        assert isinstance(info.value, shop.OutOfStock) and shop.OutOfStock is OutOfStock
        assert shop.order("cake") == "ordered"
    assert sandbox.recorded() == sandbox.lines(text)


def test_a_hand_written_raise_in_mixed_mode_is_of_the_class_the_program_sees(sandbox):
    """Mixed mode loads ``shop``, so the program's ``shop.OutOfStock`` is a generated class: the hand-written
    raise is an instance of it (``except shop.OutOfStock`` catches it), made without running the real class's
    code and with no traffic of its own."""
    sandbox.module("shop", """
        class OutOfStock(Exception):
            def __init__(self, message):
                raise AssertionError("real code run from mock text")
        def order(item):
            return 'real ' + item
    """)
    text = """
        <-PYT:import shop
        <-PYT:shop.order('tea')
        ->RET:raise shop.OutOfStock('no tea today')
    """
    replay = sandbox.mock(text)
    with sandbox.intercept(REPLAY_OLD_RECORD_NEW, ["shop"], replay=replay):
        import shop
        with pytest.raises(shop.OutOfStock) as info:
            shop.order("tea")
        error = info.value
        assert (str(error), repr(error), error.args) == ("no tea today", "OutOfStock('no tea today')",
                                                         ("no tea today",))
        assert type(error).__name__ == "OutOfStock" and bool(error)
        assert not hasattr(error, "errno")  # no traffic: an attribute it lacks is just missing
    assert sandbox.recorded().endswith(sandbox.lines("""
        <-PYT:shop.order('tea')
        ->RET:raise shop.OutOfStock('no tea today')
    """))


def test_pure_replay_installs_only_rc_intercepts_the_mock_mentions(sandbox):
    sandbox.module("alpha", "def ping():\n    return 'alpha pong'\n")
    sandbox.module("beta", "def ping():\n    return 'beta pong'\n")
    rc = sandbox.rc("[python]\nintercepts = alpha, beta\n")
    replay = sandbox.mock("""
        <-PYT:alpha.ping()
        ->RET:'alpha from mock'
    """)
    with sandbox.intercept(REPLAY, rc=rc, replay=replay):
        import alpha
        import beta
        assert (alpha.ping(), beta.ping()) == ("alpha from mock", "beta pong")
    assert sandbox.recorded() == "<-PYT:import alpha\n<-PYT:alpha.ping()\n->RET:'alpha from mock'\n"


def test_threads_record_whole_items(sandbox):
    import threading

    sandbox.module("counter", "def bump(label):\n    return label * 2\n")
    with sandbox.intercept(RECORD, ["counter"]):
        import counter

        def work(label):
            for _ in range(200):
                assert counter.bump(label) == label * 2
        threads = [threading.Thread(target=work, args=(label,)) for label in "abcd"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    calls = sandbox.recorded().splitlines()[5:]
    assert len(calls) == 1600
    for request, response in zip(calls[::2], calls[1::2]):
        label = request[len("<-PYT:counter.bump('")]
        assert (request, response) == (f"<-PYT:counter.bump('{label}')", f"->RET:'{label * 2}'")


def test_a_hand_written_raise_uses_the_real_class_when_its_module_is_loaded(sandbox):
    """``raise netlib.Unreachable(...)`` with netlib loaded: the real class, so ``except OSError`` holds."""
    sandbox.module("netlib", "class Unreachable(OSError):\n    pass\ndef connect(host):\n    return host\n")
    import netlib  # noqa: F401 - loaded before interception, as socket usually is
    replay = sandbox.mock("""
        <-PYT:netlib.connect('db')
        ->RET:raise netlib.Unreachable(113, 'No route to host')
    """)
    with sandbox.intercept(REPLAY, ["netlib"], replay=replay):
        import netlib
        with pytest.raises(OSError) as info:
            netlib.connect("db")
        assert type(info.value).__name__ == "Unreachable" and info.value.errno == 113


PLAIN_ANSWERS_MOCK = """
    <-PYT:import shop
    <-PYT:shop.lookup(1)
    ->RET:{'i': 1, 'name': 'item-1', 'sq': 1}
    <-PYT:shop.count()
    ->RET:007
    <-PYT:shop.lookup(2)
    ->RET:raise ValueError('no item 2')
    <-PYT:shop.label(3)
    ->RET: 'spaced'
    <-PYT:shop.count()
    ->RET:-12
    <-PYT:shop.tags()
    ->RET:['a', (1, 2.5), None]
"""


@pytest.mark.usefixtures("replay_core")
def test_plain_answers_replay_and_rerecord_alike_with_either_replay_core(sandbox):
    """The C accelerator answers the plain one-line values whole (value and transcript line); the rest
    is played in Python. Either way the program gets the same values and the transcript is the same."""
    replay = sandbox.mock(PLAIN_ANSWERS_MOCK)
    with sandbox.intercept(REPLAY, ["shop"], replay=replay):
        import shop
        results = [shop.lookup(1), shop.count()]
        with pytest.raises(ValueError, match="^no item 2$"):
            shop.lookup(2)
        results += [shop.label(3), shop.count(), shop.tags(), shop.count()]
    assert results == [{"i": 1, "name": "item-1", "sq": 1}, 7, "spaced", -12, ["a", (1, 2.5), None], 7]
    # the third count() has used both recorded answers: the first one again (§5.5)
    assert sandbox.recorded() == sandbox.lines(PLAIN_ANSWERS_MOCK) + "<-PYT:shop.count()\n->RET:007\n"
