"""A headed run worth watching: captions and outlines for the admin, none in the evidence."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import BrowserContext

from robots.evidence import EvidenceRecorder, Redactor
from robots.narrator import CAPTION_ID, TARGET_CLASS, Narrator
from tests.conftest import Portal
from tests.robot_runs import ONBOARD, incomplete_users, robot_env, roster_rows, write_roster

pytestmark = pytest.mark.browser


def test_captions_and_outlines_show_on_the_page_but_never_in_evidence(
    context: BrowserContext, portal: Portal, tmp_path: Path
) -> None:
    """The caption bar and the outline are drawn, yet evidence screenshots match a page
    without them pixel for pixel."""
    narrator = Narrator(enabled=True)
    narrator.install(context)
    page = context.new_page()
    page.goto(portal.url)
    # The sign-in screen autofocuses its first field when the browser next renders, which on
    # a busy machine comes after `goto` returns: blurring before then left one of the two
    # pictures with a focus ring (exactly the field's 197x36 box) the other lacked. After
    # two rendered frames the autofocus has happened; blurring then gives both pictures the
    # same focus, so they differ only in what the narrator adds.
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    recorder = EvidenceRecorder(tmp_path, "run-1", Redactor())
    blur = "document.activeElement && document.activeElement.blur()"
    page.evaluate(blur)
    plain = recorder.screenshot(page, "dana", "plain")

    narrator.caption(page, "Dana Smith: device: saving")
    narrator.point_at(page.get_by_role("textbox", name="Username or Email"))
    caption = page.locator(f"#{CAPTION_ID}")
    assert caption.is_visible()
    assert "Dana Smith: device: saving" in caption.inner_text()
    page.evaluate(blur)
    shown = tmp_path / "as-the-admin-sees-it.png"
    page.screenshot(path=str(shown), full_page=True)
    evidence = recorder.screenshot(page, "dana", "captioned")
    recorder.close()

    assert plain and evidence
    plain_image = Image.open(tmp_path / plain).convert("RGB")
    evidence_image = Image.open(tmp_path / evidence).convert("RGB")
    assert ImageChops.difference(plain_image, evidence_image).getbbox() is None
    assert ImageChops.difference(plain_image, Image.open(shown).convert("RGB")).getbbox()


@pytest.mark.headed
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is a Linux display")
def test_a_headed_run_under_xvfb_shows_the_caption_and_completes(
    portal: Portal, tmp_path: Path
) -> None:
    """`onboard run --headed` on a virtual display onboards the user, with the caption and
    the outline on the page as it works (seen in the trace's page snapshots)."""
    xvfb_run = shutil.which("xvfb-run")
    assert xvfb_run, (
        "xvfb-run is missing: `make test` installs it (python -m robots.browser ensure)"
    )
    rows = roster_rows(1, prefix="h")
    write_roster(tmp_path / "roster.csv", rows)
    env = robot_env(portal, tmp_path)
    env.pop("DISPLAY", None)
    result = subprocess.run(
        [xvfb_run, "-a", str(ONBOARD), "run", "roster.csv", "--headed", "--trace", "on"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running headless" not in result.stderr
    assert incomplete_users(portal.state(), [rows[0]["username"]]) == {}
    trace = next((tmp_path / "recordings").glob(f"*/traces/{rows[0]['username']}.zip"))
    with zipfile.ZipFile(trace) as archive:
        snapshots = b"".join(
            archive.read(name) for name in archive.namelist() if name.endswith(".trace")
        )
    assert CAPTION_ID.encode() in snapshots
    assert TARGET_CLASS.encode() in snapshots, "the element about to be used was outlined"
    assert f"{rows[0]['first_name']} {rows[0]['last_name']}: device".encode() in snapshots
