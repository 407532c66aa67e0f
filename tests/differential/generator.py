"""Seeded scenario generator: the same seed always writes the same modules, programs and rc file.

A scenario is plain files (intercepted Python modules or stand-in programs, the program using them,
the rc file) so both implementations run exactly the same bytes; everything random is drawn from
``random.Random(seed)``, never from the clock, so a failing seed is reproduced by its number.
Features are small independent fragments (a module part plus the program lines using it) so a
difference can be narrowed down to the one fragment that shows it.
"""
from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass, field
from typing import Callable

PYTHON_KINDS = ("module", "package", "submodule", "partial")


@dataclass
class Scenario:
    """One generated case. ``files`` paths are relative to the run directory; ``bin/*`` are executables."""

    name: str
    kind: str  # "python" or "cmdline"
    files: dict[str, str]
    mixed_files: dict[str, str]  # replaces files for the mixed-mode run (a program asking one thing more)
    replay_keeps_real: bool  # partial interception patches the real module, so it must stay importable
    concurrent: bool = False  # interactions may be recorded in either order
    timeout: int = 20  # a replayed kill waits for its signal: a hang must end the run, not the session
    features: list[str] = field(default_factory=list)


def literal(rng: random.Random, depth: int = 0) -> str:
    """Source text of a random literal whose repr is stable (no sets: their order depends on hashing)."""
    choice = rng.randrange(9 if depth < 2 else 6)
    if choice == 0:
        return str(rng.randint(-50, 1000))
    if choice == 1:
        return repr(rng.choice([0.5, 2.25, -1.0, 3.125, 1e-05]))
    if choice == 2:
        return repr(rng.choice(["a", "hello world", "it's", 'say "hi"', "tab\there", "line1\nline2", "",
                                "ünïcode", "x" * 90]))
    if choice == 3:
        return rng.choice(["None", "True", "False"])
    if choice == 4:
        return repr(rng.choice([b"bytes", "\\back"]))
    if choice == 5:
        return str(rng.randint(0, 9))
    items = [literal(rng, depth + 1) for _ in range(rng.randint(0, 4 if choice != 8 else 25))]
    if choice == 6:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if choice == 7:
        return "{" + ", ".join(f"'k{i}': {item}" for i, item in enumerate(items)) + "}"
    return "[" + ", ".join(items) + "]"


Fragment = tuple[str, str]  # (module source, program source); the program names the module ``M``


def feature_call(rng: random.Random, i: int) -> Fragment:
    args = ", ".join(literal(rng) for _ in range(rng.randint(0, 3)))
    kwarg = f", key={literal(rng)}" if args and rng.random() < 0.3 else ""
    return (f"def f_{i}(*args, **kwargs):\n    return {literal(rng)}\n",
            f"print('f_{i}', repr(M.f_{i}({args}{kwarg})))\n")


def feature_constant(rng: random.Random, i: int) -> Fragment:
    return f"CONST_{i} = {literal(rng)}\n", f"print('CONST_{i}', repr(M.CONST_{i}))\n"


def feature_instance(rng: random.Random, i: int) -> Fragment:
    module = f"""\
        class Thing_{i}:
            kind = {literal(rng)}

            def __init__(self, name):
                self.name = name

            def describe(self, value):
                return self.name + ':' + repr(value)

            def child(self):
                return Thing_{i}(self.name + '-child')
        """
    program = f"""\
        t{i} = M.Thing_{i}({literal(rng)!r})
        print(t{i}.describe({literal(rng)}))
        print(t{i}.name, repr(t{i}.kind))
        print(t{i}.child().describe({literal(rng)}))
        """
    return textwrap.dedent(module), textwrap.dedent(program)


def feature_graph(rng: random.Random, i: int) -> Fragment:
    module = f"""\
        class Node_{i}:
            def __init__(self, label, children=()):
                self.label = label
                self.children = list(children)

            def size(self):
                return 1 + sum(child.size() for child in self.children)

        def tree_{i}(width):
            return Node_{i}('root', [Node_{i}('n%d' % k, [Node_{i}('leaf')]) for k in range(width)])
        """
    program = f"""\
        root{i} = M.tree_{i}({rng.randint(1, 3)})
        print(root{i}.label, root{i}.size(), [c.label for c in root{i}.children])
        """
    return textwrap.dedent(module), textwrap.dedent(program)


def feature_exception(rng: random.Random, i: int) -> Fragment:
    builtin = rng.random() < 0.5
    module = (f"def fail_{i}(x):\n    raise ValueError('bad value %r' % (x,))\n" if builtin else
              f"class Error_{i}(Exception):\n    pass\n\n"
              f"def fail_{i}(x):\n    raise Error_{i}('custom failure', x)\n")
    caught = "ValueError" if builtin else f"M.Error_{i}"
    program = f"""\
        try:
            M.fail_{i}({literal(rng)})
        except {caught} as e:
            print('caught', type(e).__name__, e)
        """
    return module, textwrap.dedent(program)


def feature_iterator(rng: random.Random, i: int) -> Fragment:
    n = rng.randint(0, 4)
    module = f"def gen_{i}(n):\n    for k in range(n):\n        yield k * k\n"
    program = f"for x in M.gen_{i}({n}):\n    print('item', x)\n"
    return module, program


def feature_list(rng: random.Random, i: int) -> Fragment:
    """``list()`` asks the iterator for ``__len__`` first, which 2.10 cannot answer (see comparer)."""
    return f"def gen_{i}(n):\n    yield from range(n)\n", f"print(list(M.gen_{i}({rng.randint(0, 3)})))\n"


def feature_callback(rng: random.Random, i: int) -> Fragment:
    module = f"""\
        def apply_{i}(fn, values):
            return [fn(v) for v in values]

        def notify_{i}(callback, message):
            callback(message)
            return 'notified'
        """
    values = [rng.randint(0, 9) for _ in range(rng.randint(0, 3))]
    program = f"""\
        print(M.apply_{i}(lambda v: v * {rng.randint(2, 5)}, {values!r}))

        def on_message_{i}(text):
            print('callback got', text)
            return len(text)

        print(M.notify_{i}(on_message_{i}, {rng.choice(["'ping'", "'two words'"])}))
        """
    return textwrap.dedent(module), textwrap.dedent(program)


PYTHON_FEATURES: dict[str, Callable[[random.Random, int], Fragment]] = {
    "call": feature_call, "constant": feature_constant, "instance": feature_instance, "graph": feature_graph,
    "exception": feature_exception, "iterator": feature_iterator, "list": feature_list,
    "callback": feature_callback,
}

SITE_EXTRA = "def extra(x):\n    return [x, x]\n"


def python_scenario(seed: int, kind: str | None = None, features: list[str] | None = None) -> Scenario:
    """Intercepted module ``calc`` or package ``shop`` (with sub-module ``shop.tools``) and a program using it.

    ``module``: whole module; ``package``: whole package, the program also uses the sub-module;
    ``submodule``: only ``shop.tools`` is intercepted; ``partial``: ``calc.<name>`` entries only.
    """
    rng = random.Random(seed)
    kind = kind or rng.choice(PYTHON_KINDS)
    names = features or [rng.choice(sorted(PYTHON_FEATURES)) for _ in range(rng.randint(1, 4))]
    module_parts, program_parts = [], []
    for i, name in enumerate(names):
        module_source, program_source = PYTHON_FEATURES[name](rng, i)
        module_parts.append(module_source)
        program_parts.append(program_source)
    module_text = "\n".join([*module_parts, SITE_EXTRA])
    files: dict[str, str] = {}
    if kind in ("module", "partial"):
        files["lib/calc.py"] = module_text
        header = "import calc as M\n"
        if kind == "partial":
            defined = [line.split()[1].split("(")[0].rstrip(":") for line in module_text.splitlines()
                       if line.startswith(("def ", "class "))]
            intercepts = sorted({rng.choice(defined) for _ in range(2)} | {"extra"})
            rc = "[python]\nintercepts = " + ", ".join(f"calc.{name}" for name in intercepts) + "\n"
        else:
            rc = "[python]\nintercepts = calc\n"
    else:
        files["lib/shop/__init__.py"] = "from . import tools\n\nVERSION = '1.0'\n" + SITE_EXTRA
        files["lib/shop/tools.py"] = module_text
        if kind == "package":
            header = "import shop\nfrom shop import tools as M\nprint('version', shop.VERSION)\n"
            rc = "[python]\nintercepts = shop\n"
        else:
            header = "import shop.tools as M\n"
            rc = "[python]\nintercepts = shop.tools\n"
    program = header + "".join(program_parts)
    files["rc"] = rc
    files["prog.py"] = program
    extra = "calc.extra" if kind in ("module", "partial") else "shop.extra" if kind == "package" else "M.extra"
    module_var = extra.split(".")[0]
    mixed = program + (f"import {module_var}\n" if module_var != "M" else "") + f"print('extra', {extra}(7))\n"
    return Scenario(name=f"py{seed}-{kind}", kind="python", files=files, mixed_files={"prog.py": mixed},
                    replay_keeps_real=kind in ("submodule", "partial"), features=names)


TOOL = "#!/bin/sh\n"


def command_output(rng: random.Random, i: int) -> tuple[str, str]:
    lines = "".join(f"echo {rng.choice(['result', 'line two', 'x=1', '<-CMD:looks like an item'])} {k}\n"
                    for k in range(rng.randint(0, 3)))
    return TOOL + 'echo "args: $*"\n' + lines, f'tool{i} {rng.choice(["plain", "two words", "-v --flag=3"])}\n'


def command_status(rng: random.Random, i: int) -> tuple[str, str]:
    code = rng.choice([1, 2, 42])
    return (TOOL + f"echo 'partial output'\necho 'problem {i}' >&2\nexit {code}\n",
            f'tool{i} go || echo "tool{i} exited $?"\n')


def command_edit(rng: random.Random, i: int) -> tuple[str, str]:
    action = rng.choice(["create", "modify", "delete"])
    body = {"create": 'echo "made by tool" > "$1/new.txt"\n',
            "modify": 'echo "changed and longer" >> "$1/old.txt"\n',
            "delete": 'rm "$1/old.txt"\n'}[action]
    program = f'mkdir -p data{i}\necho original > data{i}/old.txt\ntool{i} data{i}\nls data{i}\ncat data{i}/*\n'
    return TOOL + body + "echo edited\n", program


def command_kill(rng: random.Random, i: int) -> tuple[str, str]:
    program = f"""\
        tool{i} wait &
        pid=$!
        sleep 1
        kill -{rng.choice(['TERM', 'INT'])} $pid
        wait $pid
        echo "tool{i} status $?"
        """
    return TOOL + "echo started\nsleep 3\necho not reached\n", textwrap.dedent(program)


def command_environment(rng: random.Random, i: int) -> tuple[str, str]:
    return TOOL + 'echo "level=$DIFF_LEVEL"\n', f"DIFF_LEVEL={rng.randint(1, 9)} tool{i} env\n"


def command_cwd(rng: random.Random, i: int) -> tuple[str, str]:
    return TOOL + 'echo "in $(basename "$PWD")"\n', f"mkdir -p sub{i}\n(cd sub{i} && tool{i} here)\n"


COMMAND_FEATURES: dict[str, Callable[[random.Random, int], tuple[str, str]]] = {
    "output": command_output, "status": command_status, "edit": command_edit, "kill": command_kill,
    "environment": command_environment, "cwd": command_cwd,
}


def command_scenario(seed: int, features: list[str] | None = None, concurrent: bool | None = None) -> Scenario:
    """Stand-in programs ``bin/tool<i>`` intercepted through ``[command line] intercepts``, run by ``main.sh``.

    A concurrent scenario starts two quiet tools in the background first (their order is not fixed).
    """
    rng = random.Random(seed)
    names = features or [rng.choice(sorted(COMMAND_FEATURES)) for _ in range(rng.randint(1, 3))]
    concurrent = rng.random() < 0.3 if concurrent is None else concurrent
    files: dict[str, str] = {}
    main = ""
    for i, name in enumerate(names):
        tool, program = COMMAND_FEATURES[name](rng, i)
        files[f"bin/tool{i}"] = tool
        main += program
    tools = [f"tool{i}" for i in range(len(names))]
    if concurrent:
        files["bin/bgtool"] = TOOL + 'echo "background $1"\n'
        main = "bgtool one > bg1.txt &\nbgtool two > bg2.txt &\nwait\ncat bg1.txt bg2.txt\n" + main
        tools.append("bgtool")
    files["bin/newtool"] = TOOL + 'echo "new: $*"\n'
    tools.append("newtool")
    files["rc"] = ("[command line]\nintercepts = " + ", ".join(tools) + "\nenvironment = DIFF_LEVEL\n")
    files["main.sh"] = main + f"exit {rng.choice([0, 0, 3])}\n"
    mixed = main + 'newtool "one more"\n'
    return Scenario(name=f"cmd{seed}", kind="cmdline", files=files, mixed_files={"main.sh": mixed},
                    replay_keeps_real=False, concurrent=concurrent, features=names)


def scenario(seed: int) -> Scenario:
    """Two seeds in three are Python scenarios, one in three command-line ones."""
    return command_scenario(seed) if seed % 3 == 2 else python_scenario(seed)


def handmade_python(name: str, module: str, program: str, intercepts: str = "calc") -> Scenario:
    """A fixed Python scenario (module ``calc``, imported as ``M``): the minimal reproduction of one difference."""
    files = {"lib/calc.py": module, "prog.py": "import calc as M\n" + program,
             "rc": f"[python]\nintercepts = {intercepts}\n"}
    mixed = files["prog.py"] + "print('extra', M.extra(7))\n"
    return Scenario(name=name, kind="python", files=files, mixed_files={"prog.py": mixed},
                    replay_keeps_real="." in intercepts, timeout=5, features=["handmade"])
