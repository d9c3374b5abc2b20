"""Draw the dashboard's icons from its SVG: the 192 and 512 px PNGs of the web-app manifest
and favicon.ico (16, 32 and 48 px PNGs in one ICO), with Chromium (playwright).

    .venv/bin/python scripts/make_icons.py   # after editing src/miserymeter/web/static/icon.svg
"""

from __future__ import annotations

import argparse
import base64
import struct
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

STATIC = Path(__file__).resolve().parents[1] / "src" / "miserymeter" / "web" / "static"
CHROMIUM = "/usr/bin/chromium"
PNG_SIZES = (192, 512)
ICO_SIZES = (16, 32, 48)
ICO_HEADER = struct.Struct("<HHH")  # reserved, type (1: icon), count
# width, height, colours, reserved, planes, bits per pixel, size, offset
ICO_ENTRY = struct.Struct("<BBBBHHII")


def png_of(browser: Browser, svg: bytes, size_px: int) -> bytes:
    """`svg` drawn `size_px` wide and high, as PNG."""
    page = browser.new_page(viewport={"width": size_px, "height": size_px})
    source = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    page.set_content(
        f'<body style="margin:0"><img src="{source}" width="{size_px}" height="{size_px}"></body>'
    )
    page.wait_for_function("document.images[0].complete")
    png = page.screenshot(clip={"x": 0, "y": 0, "width": size_px, "height": size_px})
    page.close()
    return png


def ico_of(pngs: dict[int, bytes]) -> bytes:
    """An ICO file holding `pngs` (size in px: PNG), as every browser since 2007 reads it."""
    offset = ICO_HEADER.size + ICO_ENTRY.size * len(pngs)
    entries, images = [], []
    for size_px, png in sorted(pngs.items()):
        entries.append(ICO_ENTRY.pack(size_px % 256, size_px % 256, 0, 0, 1, 32, len(png), offset))
        images.append(png)
        offset += len(png)
    return ICO_HEADER.pack(0, 1, len(pngs)) + b"".join(entries) + b"".join(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--static", type=Path, default=STATIC, help="the folder of icon.svg")
    args = parser.parse_args()
    svg = (args.static / "icon.svg").read_bytes()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for size_px in PNG_SIZES:
            (args.static / f"icon-{size_px}.png").write_bytes(png_of(browser, svg, size_px))
        ico = ico_of({size_px: png_of(browser, svg, size_px) for size_px in ICO_SIZES})
        (args.static / "favicon.ico").write_bytes(ico)
        browser.close()


if __name__ == "__main__":
    main()
