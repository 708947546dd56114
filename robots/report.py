"""The auditor's report: one self-contained HTML page, plus junit.xml for CI dashboards.

The page embeds small thumbnails (so it reads offline, from one file) that link to the
full-size screenshots beside it in the run folder. Every value shown passes through the
redactor and Jinja's escaping, so neither a secret nor a roster cell crafted as HTML or a
spreadsheet formula reaches the page live.
"""

from __future__ import annotations

import base64
import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image

from robots.evidence import Redactor, read_audit
from robots.results import NOT_DONE, RunResult

THUMB_WIDTH = 360


def thumbnail(path: Path) -> str | None:
    """A small JPEG of the top of a screenshot, as a data URI."""
    if not path.is_file():
        return None
    with Image.open(path) as image:
        top = image.crop((0, 0, image.width, min(image.height, int(image.width * 0.75))))
        top.thumbnail((THUMB_WIDTH, THUMB_WIDTH))
        buffer = io.BytesIO()
        top.convert("RGB").save(buffer, "JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("robots", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
    )


def write_report(result: RunResult, redactor: Redactor) -> Path:
    """report.html in the run folder; returns its path."""
    audit_steps = _audit_steps(result)
    shots: dict[str, str | None] = {}
    for events in audit_steps.values():
        for event in events:
            shot = event.get("screenshot")
            if isinstance(shot, str) and shot not in shots:
                shots[shot] = thumbnail(result.run_dir / shot)
    html = (
        _environment()
        .get_template("report.html")
        .render(result=result, counts=result.status_counts(), thumbs=shots, audit_steps=audit_steps)
    )
    path = result.run_dir / "report.html"
    path.write_text(redactor.text(html), encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def _audit_steps(result: RunResult) -> dict[str, list[dict[str, object]]]:
    """Per user, the audit lines in order: each step, its outcome and its screenshot."""
    steps: dict[str, list[dict[str, object]]] = {}
    audit = result.run_dir / "audit.jsonl"
    if audit.is_file():
        for event in read_audit(audit):
            steps.setdefault(str(event.get("user", "")), []).append(event)
    return steps


def write_junit(result: RunResult, redactor: Redactor) -> Path:
    """junit.xml: one test case per user, failures carrying the portal's words."""
    failed = [u for u in result.users if u.status in NOT_DONE]
    skipped = [u for u in result.users if u.status == "skipped"]
    suite = ET.Element(
        "testsuite",
        name=f"onboarding {result.run_id}",
        tests=str(len(result.users)),
        failures=str(len(failed)),
        skipped=str(len(skipped)),
        time=f"{sum(u.duration_ms for u in result.users) / 1000:.3f}",
        timestamp=result.started,
    )
    for user in result.users:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="onboarding",
            name=user.username,
            time=f"{user.duration_ms / 1000:.3f}",
        )
        if user in failed:
            ET.SubElement(
                case, "failure", message=redactor.text(user.error or user.status), type=user.status
            )
        elif user in skipped:
            ET.SubElement(case, "skipped", message=redactor.text(user.error or "skipped"))
    suites = ET.Element("testsuites")
    suites.append(suite)
    path = result.run_dir / "junit.xml"
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    os.chmod(path, 0o600)
    return path
