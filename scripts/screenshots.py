"""README screenshots from the demo dataset: the events list, an event's Analyze tab and a
contact's timeline, taken with Chromium (Playwright) from a live `occur serve`.

Run: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
It loads `occur demo` into a throwaway data directory, so the pictures are reproducible.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import text

from occur.config import SQLITE_FILE
from occur.store.db import open_database

ROOT = Path(__file__).resolve().parents[1]
EMAIL = "demo@example.com"
PASSWORD = "demo passphrase"
VIEWPORT = {"width": 1280, "height": 860}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="occur-shots-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCCUR_")}
        env.update(OCCUR_DATA_DIR=tmp, OCCUR_SECRET_KEY="screenshots")
        portal_id = _load_demo(env)
        _occur(env, "user", "create", "--portal", str(portal_id), "--email", EMAIL,
               "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        contact_id = _busiest_contact(Path(tmp) / SQLITE_FILE)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "occur", "serve", "--port", str(port)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base)
            _shoot(options, base, portal_id, contact_id)
        finally:
            server.terminate()
            server.wait(timeout=15)
    print(f"screenshots written to {options.out}")


def _occur(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "occur", *args],
        env=env, cwd=ROOT, input=stdin, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def _load_demo(env: dict[str, str]) -> int:
    out = _occur(env, "demo", "--contacts", "3000", "--days", "180")
    found = re.search(r"Created portal (\d+)", out)
    assert found, out
    return int(found.group(1))


def _busiest_contact(sqlite_file: Path) -> int:
    db = open_database(f"sqlite:///{sqlite_file}")
    with db.read() as conn:
        contact_id = conn.execute(
            text(
                "SELECT object_id FROM events WHERE object_type_id = '0-1'"
                " GROUP BY object_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    db.dispose()
    return int(contact_id)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("occur serve did not start")


def _shoot(options: argparse.Namespace, base: str, portal_id: int, contact_id: int) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=options.chromium, headless=True)
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        page.goto(base + "/sign-in")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/events$"))
        _save(page, options.out / "events-list.png")
        event = page.locator("table.events a").filter(has_text="Viewed pricing page").first
        event.click()
        page.goto(page.url + "?range=90d&interval=week&breakdown=plan")
        page.wait_for_selector("#chart .main-svg")
        _save(page, options.out / "analyze.png")
        page.goto(f"{base}/app/{portal_id}/records/contacts/{contact_id}")
        _save(page, options.out / "contact-timeline.png")
        browser.close()


def _save(page: Page, path: Path) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=False)
    print(f"  {path.name}")


if __name__ == "__main__":
    main()
