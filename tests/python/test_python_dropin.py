"""Drop-in fidelity with CaptureMock 2.10 (issue 12): what is recorded and printed equals what the
original recorded and printed for the same program; the expected texts were observed from 2.10.0."""
from __future__ import annotations

from capturemock import RECORD, REPLAY

HEADER = """
    <-PYT:import {0}
    <-PYT:{0}.__name__
    ->RET:'{0}'
    <-PYT:{0}.__path__
    ->RET:raise AttributeError("module '{0}' has no attribute '__path__'")"""

SCALES = """
    class Scale:
        def __init__(self, factor):
            self.factor = factor

        def __call__(self, x):
            return x * self.factor

    def make():
        return Scale(3)
"""

# recorded by CaptureMock 2.10.0 for use_scales: calling an intercepted instance is ``scale1(2)``
SCALING = HEADER.format("scal") + """
    <-PYT:scal.make()
    ->RET:Instance('Scale', 'scale1')
    <-PYT:scale1(2)
    ->RET:6
    <-PYT:scale1(x=3)
    ->RET:9
    <-PYT:scal.Scale(4)
    ->RET:Instance('Scale', 'scale2')
    <-PYT:scale2(5)
    ->RET:20
"""


def use_scales(scal) -> list:
    scale = scal.make()
    return [scale(2), scale(x=3), callable(scale), scal.Scale(4)(5)]


def test_a_callable_instance_is_called_by_its_name_in_record_and_replay(sandbox):
    sandbox.module("scal", SCALES)
    with sandbox.intercept(RECORD, ["scal"]):
        import scal
        assert use_scales(scal) == [6, 9, True, 20]
    assert sandbox.recorded() == sandbox.lines(SCALING)
    sandbox.remove("scal")
    with sandbox.intercept(REPLAY, ["scal"], replay=sandbox.mock(SCALING)):
        import scal
        assert use_scales(scal) == [6, 9, True, 20]
    assert sandbox.recorded() == sandbox.lines(SCALING)


CARS = """
    class Engine:
        def start(self):
            return "vroom"

    class Car:
        def __init__(self, name):
            self.name = name
            self.engine = None

    def describe(thing):
        return type(thing).__name__

    extra = None
"""

# recorded by CaptureMock 2.10.0 for drive: after ``car.engine = engine`` reads of ``car.engine`` are not
# recorded and give a proxy named ``car_a.engine`` (not ``engine`` itself); a plain value assigned to an
# object is read as traffic again; a module's assigned attribute is the value itself, unrecorded.
# (2.10 hands that proxy itself to the real ``describe``, which answers 'PythonProxy': we hand it the
# real object, so the one RET text differs.)
DRIVING = HEADER.format("car") + """
    <-PYT:car.Car('a')
    ->RET:Instance('Car', 'car_a')
    <-PYT:car.Engine()
    ->RET:Instance('Engine', 'engine1')
    <-PYT:car_a.engine = engine1
    <-PYT:car_a.engine.start()
    ->RET:'vroom'
    <-PYT:car_a.engine.start()
    ->RET:'vroom'
    <-PYT:car.describe(car_a.engine)
    ->RET:'Engine'
    <-PYT:car_a.name = 'b'
    <-PYT:car_a.name
    ->RET:'b'
    <-PYT:car.extra = engine1
    <-PYT:engine1.start()
    ->RET:'vroom'
"""


def drive(car) -> list:
    auto, engine = car.Car("a"), car.Engine()
    auto.engine = engine
    started = [auto.engine.start(), auto.engine.start(), car.describe(auto.engine), auto.engine is engine]
    auto.name = "b"
    started.append(auto.name)
    car.extra = engine
    return [*started, car.extra is engine, car.extra.start()]


def test_an_assigned_proxy_is_read_back_unrecorded_under_its_owners_name(sandbox):
    sandbox.module("car", CARS)
    expected = ["vroom", "vroom", "Engine", False, "b", True, "vroom"]
    with sandbox.intercept(RECORD, ["car"]):
        import car
        assert drive(car) == expected
    assert sandbox.recorded() == sandbox.lines(DRIVING)
    sandbox.remove("car")
    with sandbox.intercept(REPLAY, ["car"], replay=sandbox.mock(DRIVING)):
        import car
        assert drive(car) == expected
    assert sandbox.recorded() == sandbox.lines(DRIVING)


# recorded by CaptureMock 2.10.0 for use_package: the sub-module the package imported itself is no new
# import, however the application reaches it (its __path__ is read by ``from pkg.sub import f``)
PACKAGE = """
    <-PYT:import pkg
    <-PYT:pkg.__name__
    ->RET:'pkg'
    <-PYT:pkg.__path__
    ->RET:['Fake value just to mark that it exists']
    <-PYT:pkg.top()
    ->RET:1
    <-PYT:pkg.sub.f()
    ->RET:1
    <-PYT:pkg.sub.f()
    ->RET:1
    <-PYT:pkg.sub.__path__
    ->RET:raise AttributeError("module 'pkg.sub' has no attribute '__path__'")
    <-PYT:pkg.sub.f()
    ->RET:1
"""


def test_a_sub_module_the_package_imported_is_not_imported_again(sandbox):
    sandbox.module("pkg.sub", "def f():\n    return 1\n")
    sandbox.root.joinpath("pkg", "__init__.py").write_text("from . import sub\n\ndef top():\n    return sub.f()\n")
    with sandbox.intercept(RECORD, ["pkg"]):
        import pkg
        assert pkg.top() == 1
        import pkg.sub
        assert pkg.sub.f() == 1
        from pkg import sub
        assert sub.f() == 1
        from pkg.sub import f
        assert f() == 1
    assert sandbox.recorded() == sandbox.lines(PACKAGE)


# printed by CaptureMock 2.10.0 when ``pkg`` is intercepted after ``holder`` did ``import pkg.sub as early``
# and ``import pkg.sub as early2``: one warning per holding module, naming the intercepted name
LATE_WARNING = """\
WARNING: having to reset the variable 'holder.early'.
This implies you are intercepting the module 'pkg' after importing it.
While this might work, it may well be very slow and is not recommended.

"""


def late_interception(sandbox, capsys, name: str) -> tuple[str, str]:
    sandbox.module("pkg.sub", "def f():\n    return 1\n")
    sandbox.module("holder", "import pkg.sub as early\nimport pkg.sub as early2\n")
    import holder
    capsys.readouterr()
    with sandbox.intercept(RECORD, [name]):
        printed = capsys.readouterr().out
        assert holder.early.f() == 1
    return printed, sandbox.recorded()


def test_a_module_imported_before_interception_is_warned_about_once_by_its_intercepted_name(sandbox, capsys):
    printed, recorded = late_interception(sandbox, capsys, "pkg")
    assert printed == LATE_WARNING
    assert recorded == sandbox.lines("""
        <-PYT:import pkg.sub
        <-PYT:pkg.sub.f()
        ->RET:1
    """)


def test_a_sub_module_named_in_the_intercepts_and_imported_before_is_left_alone(sandbox, capsys):
    """As in 2.10.0: no warning, and the variable keeps the real module; a later import is intercepted."""
    printed, recorded = late_interception(sandbox, capsys, "pkg.sub")
    assert (printed, recorded) == ("", "")


ACKS = """
    def ack(x):
        return "ack " + x

    def fail(x):
        raise KeyError(x)

    def run(callback, arg):
        return callback(arg)

    def twice(callback):
        return [callback("p"), callback("q")]

    class Box:
        def label(self, x):
            return "box " + x
"""

# recorded by CaptureMock 2.10.0 for pass_functions: an intercepted function or bound method passed as an
# argument is a callback named anew each time it is passed; intercepted code calling it is traffic
PASSING = HEADER.format("mod") + """
    <-PYT:mod.run(mod.ack, 'x')
    --->PYT:mod.ack('x')
    <---RET:'ack x'
    ->RET:'ack x'
    <-PYT:mod.run(mod.ack1, 'y')
    --->PYT:mod.ack1('y')
    <---RET:'ack y'
    ->RET:'ack y'
    <-PYT:mod.twice(mod.ack2)
    --->PYT:mod.ack2('p')
    <---RET:'ack p'
    --->PYT:mod.ack2('q')
    <---RET:'ack q'
    ->RET:['ack p', 'ack q']
    <-PYT:mod.Box()
    ->RET:Instance('Box', 'box1')
    <-PYT:mod.run(box1.label, 'v')
    --->PYT:box1.label('v')
    <---RET:'box v'
    ->RET:'box v'
    <-PYT:mod.run(box1.label1, 'u')
    --->PYT:box1.label1('u')
    <---RET:'box u'
    ->RET:'box u'
    <-PYT:mod.run(mod.fail, 'f')
    --->PYT:mod.fail('f')
    ->RET:raise KeyError("'f'")
    ->RET:raise KeyError("'f'")
"""


def pass_functions(mod) -> list:
    ack = mod.ack
    results = [mod.run(ack, "x"), mod.run(ack, "y"), mod.twice(mod.ack)]
    box = mod.Box()
    results += [mod.run(box.label, "v"), mod.run(box.label, "u")]
    try:
        mod.run(mod.fail, "f")
    except KeyError:
        results.append("KeyError")
    return results


def test_an_intercepted_function_passed_as_an_argument_is_a_named_callback(sandbox):
    sandbox.module("mod", ACKS)
    expected = ["ack x", "ack y", ["ack p", "ack q"], "box v", "box u", "KeyError"]
    with sandbox.intercept(RECORD, ["mod"]):
        import mod
        assert pass_functions(mod) == expected
    assert sandbox.recorded() == sandbox.lines(PASSING)
    sandbox.remove("mod")
    with sandbox.intercept(REPLAY, ["mod"], replay=sandbox.mock(PASSING)):
        import mod
        assert pass_functions(mod) == expected
    assert sandbox.recorded() == sandbox.lines(PASSING)
