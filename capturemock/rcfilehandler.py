"""2.10.0's ``capturemock.config.RcFileHandler`` and ``isActive``, for test rigs that read rc files
through them. A thin layer over ``config.RcConfig`` with the original's method names and return values
(observed from 2.10.0: missing settings are None, lists keep empty entries between commas)."""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence

from .config import RcConfig
from .logconfig import set_up_logging
from .modes import REPLAY

ADDRESS_VARIABLE = "${CAPTUREMOCK_SERVER}"


def isActive(mode: Any, replayFile: Optional[str]) -> bool:  # 2.10.0 named it so
    """Whether CaptureMock has anything to do: any mode but replay, or a replay file that exists."""
    return mode != REPLAY or (replayFile is not None and os.path.isfile(replayFile))


class RcFileHandler(RcConfig):
    """The merged rc files; ``address`` is the server address that ``getWithAddress`` fills in."""

    def __init__(self, rcFiles: Optional[Sequence[str]]):
        super().__init__(rcFiles)
        self._use_configparser()  # its rigs use configparser's own interface (``parser``, ``set``...)
        self.address: Optional[str] = None
        self.diag: Any = None

    @property
    def parser(self):
        return self._parser

    def addFile(self, rcFile: str) -> None:
        if os.path.isfile(rcFile):  # 2.10.0 skipped a missing file here without a word
            self.add_file(rcFile)

    def getPersonalPath(self, fileName: str) -> str:
        return os.path.join(os.path.expanduser(os.path.join("~", ".capturemock")), fileName)

    def getIntercepts(self, section: str) -> list[str]:
        return self.getList("intercepts", [section])

    def getWithAddress(self, setting: str, sections: Sequence[str],
                       defaultVal: Optional[str] = None) -> Optional[str]:
        value = self.get(setting, sections, defaultVal)
        if value is not None and self.address is not None:
            value = value.replace(ADDRESS_VARIABLE, self.address)
        return value

    def getboolean(self, setting: str, sections: Sequence[str], defaultVal: Any = None) -> Any:
        return self._typed(self._parser.getboolean, setting, sections, defaultVal)

    def getfloat(self, setting: str, sections: Sequence[str], defaultVal: Any = None) -> Any:
        return self._typed(self._parser.getfloat, setting, sections, defaultVal)

    def getint(self, setting: str, sections: Sequence[str], defaultVal: Any = None) -> Any:
        return self._typed(self._parser.getint, setting, sections, defaultVal)

    def getList(self, setting: str, sections: Sequence[str]) -> list[str]:
        """Comma-separated values from every section, in order; blanks between commas kept."""
        result: list[str] = []
        for section in sections:
            value = self.get(setting, [section])
            if value:
                result.extend(part.strip() for part in value.split(","))
        return result

    def getSection(self, section: str) -> dict[str, str]:
        return self.options(section)

    def addToList(self, setting: str, sections: Sequence[str], newItem: str) -> None:
        """Append to the list setting, written to the first of ``sections``."""
        self.set(sections[0], setting, ",".join([*self.getList(setting, sections), newItem]))

    def add_section(self, section: str) -> bool:
        """Add a section unless it exists; whether it was added."""
        if self._parser.has_section(section):
            return False
        self._parser.add_section(section)
        return True

    def set(self, section: str, setting: str, value: str) -> None:
        self._parser.set(section, setting, value)

    def setUpLogging(self, mainLogName: str) -> Any:
        """Apply ``log_config_file`` (if it exists) and keep the named logger as ``diag``."""
        import logging

        set_up_logging(self)
        self.diag = logging.getLogger(mainLogName)
        return self.diag

    def _typed(self, method, setting: str, sections: Sequence[str], default: Any) -> Any:
        for section in sections:
            if self._parser.has_option(section, setting):
                return method(section, setting)
        return default
