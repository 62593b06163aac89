"""Refresh the README's screenshots: the dashboard, a painted graph and a short error.

    python docs/screenshots.py          # writes docs/screenshots/*.png

It runs a small app against a throw-away embedded server (one worker that
fails, one topic nobody serves), renders the same HTML a notebook shows, and
photographs it with the system Chromium (Debian's ``chromium``, or
``HOTMESH_CHROMIUM``) through playwright.
"""

from __future__ import annotations

import html
import os
import shutil
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"
WIDTH = 900
"""Page width in CSS pixels: about a notebook's output area."""

APP = """\
app:
  id: shop
  version: '1'
  graphs:
    - subscribes: shop.order
      activities:
        t1:
          type: trigger
        charge:
          type: worker
          topic: shop.charge
          input:
            maps:
              card: '{t1.output.data.card}'
        notify:
          type: worker
          topic: shop.notify
      transitions:
        t1:
          - to: charge
        charge:
          - to: notify
    - subscribes: shop.ship
      activities:
        s1:
          type: trigger
        pack:
          type: worker
          topic: shop.pack
      transitions:
        s1:
          - to: pack
"""


def _pages() -> dict[str, str]:
    """Name → HTML fragment, made from a real run."""
    import hotmesh_nb
    from hotmesh_nb import HotMesh, JobNotFoundError, Worker, server
    from hotmesh_nb.notebook._monitor import Dashboard
    from hotmesh_nb.notebook._tracebacks import short_lines
    from hotmesh_nb.runtime import get_runtime

    def charge(message: object) -> dict:
        if message.data.get("card") == "declined":  # type: ignore[attr-defined]
            raise ValueError("card declined by the bank")
        return {"charged": True}

    hm = HotMesh.init(
        "shop",
        namespace="screenshots",
        workers=[Worker("shop.charge", charge), Worker("shop.notify", lambda message: {})],
    )
    try:
        hm.deploy(APP)
        hm.activate("1")
        for card in ("valid", "valid", "declined"):
            hm.pubsub("shop.order", {"card": card})
        bad = hm.jobs().dropna(subset=["failed"])["id"].iloc[0]
        for _ in range(3):
            hm.pub("shop.ship", {})  # nobody serves shop.pack: a banner says so
        board = Dashboard([hm])
        runtime = get_runtime()
        runtime.run(board._refresh_members([hm]))
        for _ in range(2):
            runtime.run(board.refresh())
        error = short_lines(JobNotFoundError("NO-SUCH-JOB"))
        block = "\n".join(html.escape(line) for line in error[1:])
        return {
            "dashboard": board.snapshot(),
            "graph": hm.graph(job_id=bad).html() or "",
            "error": (
                "<pre style='background:#fdd;padding:8px;margin:0'>"
                f"<span style='color:#b00020;font-weight:bold'>{html.escape(error[0])}</span>\n"
                f"{block}</pre>"
            ),
        }
    finally:
        hotmesh_nb.shutdown()
        server.stop()


def main() -> None:
    """Write ``docs/screenshots/{dashboard,graph,error}.png``."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("HOTMESH_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        sys.exit("no Chromium: apt-get install chromium, or set HOTMESH_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="hotmesh-shots-") as home:
        os.environ["HOTMESH_HOME"] = home
        os.environ.pop("HOTMESH_REDIS_URL", None)
        os.environ.pop("REDIS_URL", None)
        pages = _pages()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 600})
        for name, fragment in pages.items():
            page.set_content(
                "<html><body style='font-family:sans-serif;font-size:13px;margin:8px'>"
                f"<div id='shot' style='display:inline-block;max-width:{WIDTH - 16}px'>"
                f"{fragment}</div></body></html>"
            )
            page.locator("#shot").screenshot(path=str(OUT / f"{name}.png"))
            print(f"wrote {OUT / name}.png")
        browser.close()


if __name__ == "__main__":
    main()
