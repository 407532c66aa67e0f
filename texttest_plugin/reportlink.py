"""Where ``capturemock rerecord`` will put its HTML report, as a line for a test's details in TextTest.

The report is written after TextTest's run, but TextTest's batch pages (``-coll web``) show each failed
test's details as stored during the run, and make a line ending ``URL=http...`` a link. So rerecord
tells the run where its report goes (``REPORT_DIR_VARIABLE``; empty: the run directory), and the
plugin adds the line to the details of each test whose mocks changed. TextTest links only http URLs:
the report's path is mapped with the suite's ``file_to_url``, as TextTest maps its own pages; without
a mapping the line names the file instead.
"""
from __future__ import annotations

import os
from typing import Optional
from urllib.parse import quote

REPORT_NAME = "capturemock-rerecord"
REPORT_DIR_VARIABLE = "CAPTUREMOCK_RERECORD_REPORT_DIR"


def section_id(test_path: str) -> str:
    """The HTML report's anchor for a test (its path in the suite, ``/``-separated)."""
    return "test-" + test_path.replace(os.sep, "/")


def report_line(test) -> Optional[str]:
    """``None`` outside a rerecord run."""
    from texttestlib.default.batch.batchutils import convertToUrl  # TextTest's own mapping of its pages

    report_dir = os.environ.get(REPORT_DIR_VARIABLE)
    if report_dir is None:
        return None
    page = os.path.join(report_dir or test.app.writeDirectory, REPORT_NAME + ".html")
    anchor = quote(section_id(test.getRelPath()), safe="/")
    url = convertToUrl(page, test.getConfigValue("file_to_url"))
    if url.startswith("http"):
        return f"capturemock rerecord report URL={url}#{anchor}\n"
    return f"capturemock rerecord report: {page}#{anchor}\n"
