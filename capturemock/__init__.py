"""capturemock: capture-replay mocking of Python modules, command-line programs and network traffic.

The command-line family lives in ``capturemock.cmdline`` (not ``commandline``) because the public
API already has a function ``capturemock.commandline()``, which a subpackage would shadow.

Only the public API lives here. Everything heavy is imported lazily on first use, so that a
command-line shim or a ``sitecustomize`` start-up hook that merely imports ``capturemock`` pays for
nothing it does not call.
"""
# No ``from __future__ import annotations`` here (its import costs every process ~0.7 M instructions, and
# TextTest's sitecustomize imports this package in every Python process of a suite): annotations are quoted.
TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    from typing import Any

# Our own release line, a major version above the CaptureMock 2.10.0 on PyPI (same package name), so
# `pip show capturemock` and `capturemock --version` tell the two apart. pyproject.toml reads it from here.
version = "3.0.0"
__version__ = version
ID_ALTERATIONS_RC_FILE = "id_alterations.rc"

# public name -> module that defines it (imported on first access: even the errors and the modes, ~1.6 M
# instructions that a process TextTest's sitecustomize does not intercept never needs)
_LAZY = {
    "CaptureMockError": "capturemock.errors",
    "CaptureMockReplayError": "capturemock.errors",
    "ConfigError": "capturemock.errors",
    "MockFileError": "capturemock.errors",
    "RECORD": "capturemock.modes",
    "REPLAY": "capturemock.modes",
    "REPLAY_OLD_RECORD_NEW": "capturemock.modes",
    "interceptPython": "capturemock.python.api",
    "setUpPython": "capturemock.python.api",
    "capturemock": "capturemock.decorator",
    "CaptureMockDecorator": "capturemock.decorator",
    "set_defaults": "capturemock.decorator",
    "setUpServer": "capturemock.launcher",
    "terminate": "capturemock.launcher",
    "CaptureMockManager": "capturemock.launcher",
    "start_server_from_texttest": "capturemock.launcher",
    "texttest_is_recording": "capturemock.launcher",
    "replay_for_server": "capturemock.launcher",
    "interceptCommand": "capturemock.cmdline.shim",
    "remove_dir_with_retry": "capturemock.launcher",
    "commandline": "capturemock.cli",
    # 2.10.0's helpers for test rigs
    "FileEditTraffic": "capturemock.fileedittraffic",
    "DefaultTimestamper": "capturemock.timestamps",
    "add_timestamp_data": "capturemock.timestamps",
    "create_map_by_timestamp": "capturemock.timestamps",
    "add_prefix_by_timestamp": "capturemock.timestamps",
    "add_prefixes_from_timestamp_map": "capturemock.timestamps",
    "transform_to_amqp_client_replay": "capturemock.timestamps",
    "add_prefix_by_matching_replay": "capturemock.timestamps",
    "find_replay_files": "capturemock.timestamps",
    "find_recorded_position": "capturemock.timestamps",
    "get_traffic_count": "capturemock.timestamps",
    "get_text_count": "capturemock.timestamps",
    "read_first_traffic": "capturemock.timestamps",
    "open_new_record_file": "capturemock.timestamps",
    # submodules 2.10.0 imported eagerly, so rigs reach them as attributes without importing them
    "cmdlineutils": "capturemock.cmdlineutils",
    "config": "capturemock.config",
}

__all__ = ["version", "ID_ALTERATIONS_RC_FILE", "process_startup", *_LAZY]


def process_startup() -> "Any":
    """Intercept this process as ``setUpPython`` described in the environment, if it did (§2.7).

    Called by TextTest's ``sitecustomize`` in every Python process of a suite: one that intercepts
    nothing must not import the interception modules (~25 ms) to find that out."""
    import os  # imported already by site: no cost

    if not os.environ.get("CAPTUREMOCK_PROCESS_START"):
        return None
    import gc  # built in: no cost

    collecting = gc.isenabled()
    gc.disable()  # what start-up makes (modules, the replay index) all lives on: nothing to collect
    try:
        from .python.api import process_startup as start

        return start()
    finally:
        # out of the collector's sight for the rest of the process: its collections, and the ones at
        # exit, would walk every object start-up made (~10 M instructions, a third of our start-up)
        gc.freeze()
        if collecting:
            gc.enable()


def __getattr__(name: str) -> "Any":
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'capturemock' has no attribute '{name}'")
    import importlib  # here, not at the top: the traffic server and shims import this package too

    module = importlib.import_module(module_name)
    if module_name == f"capturemock.{name}":
        value = module
    else:
        value = getattr(module, "main" if name == "commandline" else name)
    globals()[name] = value
    return value


def __dir__() -> "list[str]":
    """The public names loaded on first use are listed before that use too (completion, ``help``)."""
    return sorted({*globals(), *_LAZY})
