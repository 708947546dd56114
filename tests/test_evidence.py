"""Audit evidence: the hash chain catches tampering, and masks really hide secrets."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page

from robots.evidence import (
    AuditEvent,
    EvidenceRecorder,
    Redactor,
    scrub_trace,
    seal_run,
    verify_run,
)

SECRET = "Xq7-very-secret-9Lm"


def _write_run(run_dir: Path, lines: int = 5, key: bytes | None = None) -> None:
    """A run as the robot leaves it: step lines, summary, report and junit, closing line."""
    recorder = EvidenceRecorder(run_dir, "run-1", Redactor([SECRET]), key=key)
    for number in range(lines):
        recorder.record(
            AuditEvent(
                user=f"user{number}",
                step="device",
                action="changed",
                outcome="ok",
                before={"device": None},
                after={"device": "Generic SIP Phone"},
            )
        )
    (run_dir / "summary.json").write_text(json.dumps({"audit": recorder.head}))
    recorder.close()
    (run_dir / "report.html").write_text("<p>report</p>")
    (run_dir / "junit.xml").write_text("<testsuites/>")
    seal_run(run_dir, "run-1", recorder.head, key)


def _colours(image: Image.Image) -> set[tuple[int, ...]]:
    return {colour for _count, colour in image.getcolors(maxcolors=1 << 24) or []}


def _colours_at(image: Image.Image, page: Page, selector: str, *, inset: float = 0) -> set:
    """The colours of the screenshot where `selector` stands, `inset` pixels inside its box
    (past its border)."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    return _colours(
        image.crop(
            (
                box["x"] + inset,
                box["y"] + inset,
                box["x"] + box["width"] - inset,
                box["y"] + box["height"] - inset,
            )
        )
    )


def _lines(run_dir: Path) -> list[str]:
    return (run_dir / "audit.jsonl").read_text().splitlines()


def test_an_untouched_audit_log_verifies(tmp_path: Path) -> None:
    """A log as the robot wrote it verifies, every line counted, the closing line too."""
    _write_run(tmp_path)
    result = verify_run(tmp_path)
    assert result.ok, result.problems
    assert result.lines == 6


def test_an_edited_line_is_caught_at_that_line(tmp_path: Path) -> None:
    """Changing a value in line 3 breaks verification at line 3."""
    _write_run(tmp_path)
    lines = _lines(tmp_path)
    lines[2] = lines[2].replace("Generic SIP Phone", "Polycom VVX 450")
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n")
    result = verify_run(tmp_path)
    assert not result.ok
    assert result.problems[0].startswith("line 3:")


def test_a_deleted_line_is_caught_where_the_gap_is(tmp_path: Path) -> None:
    """Removing line 2 makes line 2 (formerly 3) fail to follow its predecessor."""
    _write_run(tmp_path)
    lines = _lines(tmp_path)
    del lines[1]
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n")
    result = verify_run(tmp_path)
    assert not result.ok
    assert result.problems[0].startswith("line 2:")
    assert "removed, reordered or inserted" in result.problems[0]


def test_reordered_lines_are_caught(tmp_path: Path) -> None:
    """Swapping two lines breaks the chain at the first of them."""
    _write_run(tmp_path)
    lines = _lines(tmp_path)
    lines[3], lines[4] = lines[4], lines[3]
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n")
    assert verify_run(tmp_path).problems[0].startswith("line 4:")


def test_a_cut_off_tail_is_caught_by_the_recorded_head(tmp_path: Path) -> None:
    """Dropping the last lines is caught because summary.json pinned where the log ended."""
    _write_run(tmp_path)
    lines = _lines(tmp_path)
    (tmp_path / "audit.jsonl").write_text("\n".join(lines[:3]) + "\n")
    result = verify_run(tmp_path)
    assert not result.ok
    assert "ends early" in result.problems[0]


def test_secrets_never_reach_the_audit_log(tmp_path: Path) -> None:
    """A secret passed in any field is written as a marker, never as itself."""
    recorder = EvidenceRecorder(tmp_path, "run-1", Redactor([SECRET]))
    recorder.record(
        AuditEvent(
            user="a",
            step="device",
            action="changed",
            outcome="ok",
            after={"password": SECRET},
            detail=f"typed {SECRET}",
        )
    )
    recorder.close()
    text = (tmp_path / "audit.jsonl").read_text()
    assert SECRET not in text
    assert Redactor.MARK in text
    assert verify_run(tmp_path).problems == []


def test_trace_archives_are_scrubbed_of_secrets(tmp_path: Path) -> None:
    """Every member of a trace zip has the secret replaced."""
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("trace.trace", f'{{"params": {{"value": "{SECRET}"}}}}')
        archive.writestr("resources/page.html", f"<input value='{SECRET}'>")
    scrub_trace(trace, Redactor([SECRET]))
    with zipfile.ZipFile(trace) as archive:
        for member in archive.namelist():
            assert SECRET.encode() not in archive.read(member)


@pytest.mark.browser
def test_screenshots_black_out_password_and_pin_fields(page: Page, tmp_path: Path) -> None:
    """The pixels where a password or PIN is shown are all mask colour in the evidence."""
    page.set_content(
        f"""
        <style>input {{ font-size: 28px; width: 420px; color: #000; background: #fff; }}</style>
        <label>Authentication Password <input id="p" type="text" value="{SECRET}"></label><br>
        <label>Security PIN <input id="s" type="text" value="4821"></label><br>
        <label>Authentication Name <input id="n" type="text" value="visible-name"></label>
        """
    )
    recorder = EvidenceRecorder(tmp_path, "run-1", Redactor([SECRET]))
    shot = recorder.screenshot(page, "dana", "device")
    recorder.close()
    assert shot is not None
    image = Image.open(tmp_path / shot).convert("RGB")
    for field_id in ("p", "s"):
        assert _colours_at(image, page, f"#{field_id}", inset=2) == {(0, 0, 0)}, (
            f"{field_id} is not fully masked"
        )
    assert len(_colours_at(image, page, "#n")) > 1, "a non-secret field must stay readable"


def test_a_support_chat_conversation_is_masked_whatever_the_portal_calls_it(
    page: Page, tmp_path: Path
) -> None:
    """A chat's conversation (a `log`) and its message box are blacked out, whatever the
    dialog is named: that is where an admin types the account's PIN to be verified."""
    page.set_content(
        """
        <style>li, textarea { font-size: 24px; } textarea { width: 420px; }</style>
        <section role="dialog" aria-label="Talk to Support">
          <ol role="log" id="log"><li>Please confirm your PIN.</li><li>My PIN is 4821</li></ol>
          <label>Message <textarea id="m">4821</textarea></label>
        </section>
        <p id="outside">Users Overview</p>
        """
    )
    recorder = EvidenceRecorder(tmp_path, "run-1", Redactor())
    shot = recorder.screenshot(page, "batch", "call recording")
    recorder.close()
    assert shot is not None
    image = Image.open(tmp_path / shot).convert("RGB")
    for element_id in ("log", "m"):
        assert _colours_at(image, page, f"#{element_id}", inset=2) == {(0, 0, 0)}, (
            f"{element_id} is not fully masked"
        )
    assert len(_colours_at(image, page, "#outside")) > 1, (
        "text outside the conversation must stay readable"
    )
