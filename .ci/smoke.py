"""Smoke test of an installed graphviz-bp, run from outside the checkout (issue 18).

    python .ci/smoke.py VENV        (VENV: a fresh venv with ``pip install dist/*.whl[app]``)

Checks, with VENV's own ``graphviz-bp`` from a temporary directory:
1. ``graphviz-bp grad`` on the packaged E2 example gives L = 14, ∇W = [[11, 3]] (EXERCISES.md E2);
2. ``graphviz-bp app`` starts, answers /_stcore/health, and in a headless Chromium (Debian's
   /usr/bin/chromium through the checkout's Playwright) the page offers every packaged example in
   its gallery, draws a graph, and makes no request outside 127.0.0.1.
Exit status 0 when all hold; prints what failed otherwise.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def fail(msg: str):
    print(f"smoke: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def main(venv: Path) -> None:
    exe, py = venv / "bin" / "graphviz-bp", venv / "bin" / "python"
    work = Path(tempfile.mkdtemp(prefix="gbp-smoke-"))          # not the checkout
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    # what the installed package holds
    info = subprocess.run([str(py), "-c", "import json, graphviz_bp, graphviz_bp.app.dashboard as d; "
                           "print(json.dumps({'file': graphviz_bp.__file__, 'titles': [e.title for e in d.gallery()], "
                           "'e2': str(d.EXAMPLES_DIR / 'l1_least_squares.txt')}))"],
                          cwd=work, env=env, capture_output=True, text=True)
    if info.returncode:
        fail(f"import: {info.stderr[-2000:]}")
    info = json.loads(info.stdout)
    if "site-packages" not in info["file"]:
        fail(f"graphviz_bp imported from {info['file']}, not from the installed wheel")
    if len(info["titles"]) < 20:
        fail(f"only {len(info['titles'])} examples packaged")
    print(f"smoke: {len(info['titles'])} examples packaged in {Path(info['file']).parent}")

    # 1. the CLI on a packaged example
    r = subprocess.run([str(exe), "grad", info["e2"], "--json"], cwd=work, env=env, capture_output=True, text=True)
    doc = json.loads(r.stdout) if r.returncode == 0 else None
    if not doc or doc["value"] != 14 or doc["gradients"]["W"] != [[11, 3]]:
        fail(f"graphviz-bp grad E2: exit {r.returncode}, {r.stdout[:300]} {r.stderr[-500:]}")
    print("smoke: graphviz-bp grad E2 -> L = 14, dL/dW = [[11, 3]]")

    # 2. the dashboard
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(work / "app.log", "w")
    app = subprocess.Popen([str(exe), "app", "--port", str(port)], cwd=work, env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as resp:
                    if resp.status == 200 and resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if app.poll() is not None or time.monotonic() > deadline:
                fail(f"graphviz-bp app did not start: {(work / 'app.log').read_text()[-2000:]}")
            time.sleep(0.5)
        print(f"smoke: graphviz-bp app answers {url}/_stcore/health")
        browser_check(url, info["titles"])
    finally:
        os.killpg(app.pid, 15)
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(app.pid, 9)
    text = (work / "app.log").read_text()
    if "Traceback" in text:
        fail(f"server log has a traceback:\n{text[-3000:]}")


def browser_check(url: str, titles: list[str]) -> None:
    if not Path("/usr/bin/chromium").exists():
        print("smoke: /usr/bin/chromium missing, browser check skipped")
        return
    from playwright.sync_api import sync_playwright
    requests = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = b.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        page.set_default_timeout(90_000)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        page.wait_for_selector(".gbp-graph svg g.node")
        page.locator(".st-key-example").click()
        page.wait_for_selector("[role=option]")
        shown = page.locator("[role=option]").all_inner_texts()
        b.close()
    missing = [t for t in titles if t not in shown]
    if missing or len(shown) != len(titles):
        fail(f"gallery shows {len(shown)} of {len(titles)} examples; missing: {missing[:5]}")
    outside = sorted({u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))})
    if outside:
        fail(f"requests outside 127.0.0.1: {outside}")
    print(f"smoke: Chromium shows the graph and all {len(shown)} examples in the gallery; "
          f"{len(requests)} requests, none outside 127.0.0.1")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
