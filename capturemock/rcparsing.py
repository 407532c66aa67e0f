"""rc text the plain INI reader (``plainini``) does not take: configparser's own rules with ``%(name)s``
interpolation bounded in size, and YAML rc files turned into the equivalent INI text (§3).

Loaded only for such rc files: an intercepted process reading plain INI never imports it, nor
``configparser`` or ``yaml``.
"""
from __future__ import annotations

from .config import _one_line
from .errors import ConfigError
from .lazyregex import LazyRegex

TYPE_CHECKING = False  # typing is not imported at run time (start-up)
if TYPE_CHECKING:
    import configparser

# what rc text may expand to: ten levels of ten %(name)s references, or of YAML aliases of aliases, turn a
# few hundred bytes into 10^10 characters (configparser bounds only the depth); no real rc file comes near
_MAX_EXPANSION = 1 << 20
_REFERENCE = LazyRegex(r"%\(([^)]*)\)s")


def bounded_interpolation() -> configparser.Interpolation:
    """``%(name)s`` interpolation that refuses a value expanding past ``_MAX_EXPANSION`` characters,
    working out the length from the raw values before anything is expanded (a class made here: importing
    ``configparser`` at the top would cost every intercepted process its start-up share)."""
    import configparser

    class BoundedInterpolation(configparser.BasicInterpolation):
        def before_get(self, parser, section, option, value, defaults):
            if "%(" in value and _expanded_length(value, parser, defaults, {}, 0) > _MAX_EXPANSION:
                raise configparser.InterpolationError(
                    option, section, f"expands to more than {_MAX_EXPANSION} characters through %(...)s")
            return super().before_get(parser, section, option, value, defaults)

    return BoundedInterpolation()


def _expanded_length(value: str, parser: configparser.ConfigParser, options, lengths: dict, depth: int) -> int:
    """Characters ``value`` expands to (capped just past the limit); ``lengths`` remembers each option's."""
    total = len(value)
    import configparser

    if depth > configparser.MAX_INTERPOLATION_DEPTH:
        return total  # configparser itself refuses this as too deep
    for name in _REFERENCE.findall(value):
        name = parser.optionxform(name)
        if name not in lengths:
            raw = options.get(name)
            lengths[name] = 0 if raw is None else _expanded_length(raw, parser, options, lengths, depth + 1)
        total += lengths[name]
        if total > _MAX_EXPANSION:
            return total
    return total


def yaml_as_ini(text: str, path: str) -> str:
    """The INI text equivalent to a YAML rc file, so both forms share every rule of §3."""
    import yaml  # only rc files written as YAML pay for it

    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", path) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ConfigError(f"invalid YAML: {getattr(err, 'problem', None) or _one_line(err)}", path,
                          mark.line + 1 if mark else None) from None
    if data is None:
        return ""
    if not isinstance(data, dict) or not all(isinstance(options, dict) for options in data.values()):
        raise ConfigError("a YAML rc file must map section names to mappings of options", path)
    lines = []
    budget = [_MAX_EXPANSION]
    for section, options in data.items():
        lines.append(f"[{section}]")
        for option, value in options.items():
            lines.append(f"{option} = {_ini_value(value, budget, path)}".rstrip())
    return "\n".join(lines) + "\n"


def _ini_value(value: object, budget: list[int], path: str) -> str:
    """``value`` in INI form, counting what it costs against ``budget`` (characters left for the whole
    file): nested aliases are refused as soon as they expand past it, before they take time or memory."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_ini_value(part, budget, path) for part in value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = ""
    else:
        text = str(value).replace("\n", "\n ")  # continuation lines of a multi-line INI value
    budget[0] -= len(text) + 2
    if budget[0] < 0:
        raise ConfigError(f"the YAML rc file expands to more than {_MAX_EXPANSION} characters "
                          "(aliases of aliases?)", path)
    return text
