"""Screenshots of the notebook widget in a real browser: JupyterLab served on 127.0.0.1, headless Chromium
(Debian's `chromium`) driven over the DevTools protocol, the lesson notebook run cell by cell in its kernel.

    .venv/bin/python scripts/notebook_screenshot.py [OUT_FOLDER]    (default docs/)

Writes notebook_widget.png (part 2's two-layer net, the slider moved back to iteration 30: that iteration
drawn with its own numbers) and notebook_doctor.png (part 3: the forgotten zero_grad() found). Nothing is
downloaded: JupyterLab and the widget's code come from this venv and this checkout.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client, installed with jupyter_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH, HEIGHT = 1500, 1150
NOTEBOOK = "[...jupyterapp.shell.widgets('main')].find(w => w.sessionContext)"  # the lesson's panel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 90) -> str:
    end = time.time() + seconds
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"nothing answers at {url}")


class Browser:
    """One page of headless Chromium, driven over the DevTools protocol."""

    def __init__(self, folder: str):
        port = free_port()
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            sys.exit("needs Debian's chromium: apt-get install -y chromium")
        self.proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                      f"--remote-debugging-port={port}", f"--user-data-dir={folder}/chromium",
                                      f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pages = json.loads(wait_http(f"http://127.0.0.1:{port}/json"))
        page = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.seq = 0

    def call(self, method: str, **params) -> dict:
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.seq:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, seconds: float = 240) -> None:
        end = time.time() + seconds
        while time.time() < end:
            if self.js(f"(() => {{ try {{ return {expression}; }} catch (e) {{ return false; }} }})()"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out waiting for {expression}")

    def screenshot(self, out: str) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(out, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)


def main() -> int:
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs"))
    folder = tempfile.mkdtemp(prefix="bps-lab-")
    os.symlink(ROOT, os.path.join(folder, "backprop_studio"))  # the kernel imports this checkout
    shutil.copy(os.path.join(ROOT, "examples", "lesson.ipynb"), folder)
    port = free_port()
    settings = os.path.join(folder, "settings", "@jupyterlab", "apputils-extension")
    os.makedirs(settings)
    with open(os.path.join(settings, "notification.jupyterlab-settings"), "w", encoding="utf-8") as f:
        json.dump({"fetchNews": "false"}, f)  # no "get news?" toast over the page
    env = {**os.environ, "PYTHONPATH": folder, "OMP_NUM_THREADS": "1", "JUPYTER_CONFIG_DIR": f"{folder}/config",
           "JUPYTER_RUNTIME_DIR": f"{folder}/runtime", "JUPYTERLAB_SETTINGS_DIR": f"{folder}/settings"}
    lab = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                            "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root",
                            f"--ServerApp.root_dir={folder}", "--LabApp.expose_app_in_browser=True",
                            "--ServerApp.disable_check_xsrf=True"],
                           env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=open(f"{folder}/lab.log", "w"))
    browser = None
    try:
        wait_http(f"http://127.0.0.1:{port}/api")
        browser = Browser(folder)
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/lab/tree/lesson.ipynb")
        browser.wait("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell') !== null")
        browser.wait(f"{NOTEBOOK}.sessionContext.kernelDisplayStatus === 'idle'")
        browser.js(f"jupyterapp.shell.activateById({NOTEBOOK}.id)")
        browser.js("jupyterapp.shell.collapseLeft()")
        browser.js("jupyterapp.commands.execute('notebook:run-all-cells')")
        browser.wait("document.querySelectorAll('.bps-run').length === 3 && [...document.querySelectorAll('.bps-head')]"
                     ".every(h => h.textContent.includes('finished'))")
        browser.wait(f"{NOTEBOOK}.sessionContext.kernelDisplayStatus === 'idle'")
        browser.js("document.querySelectorAll('.bps-run')[1].scrollIntoView()")  # part 2: the two-layer net
        browser.js("(() => { const s = document.querySelectorAll('.bps-run')[1].querySelector('.bps-slider');"
                   " s.value = 30; s.dispatchEvent(new Event('input')); })()")
        browser.wait("document.querySelectorAll('.bps-run')[1].querySelector('.bps-caption').textContent"
                     ".includes('iteration 30, its own')")
        browser.js("document.querySelectorAll('.jp-Cell')[5].scrollIntoView()")
        time.sleep(1)
        os.makedirs(out, exist_ok=True)
        browser.screenshot(os.path.join(out, "notebook_widget.png"))
        browser.js("document.querySelectorAll('.jp-Cell')[8].scrollIntoView()")  # part 3: the doctor
        time.sleep(1)
        browser.screenshot(os.path.join(out, "notebook_doctor.png"))
        print(f"wrote {out}/notebook_widget.png and {out}/notebook_doctor.png")
    except RuntimeError:
        if browser is not None:
            browser.screenshot(os.path.join(folder, "failed.png"))
            print(f"the page when it failed: {folder}/failed.png; JupyterLab's log: {folder}/lab.log", file=sys.stderr)
        raise
    finally:
        if browser is not None:
            browser.close()
        lab.terminate()
        try:
            lab.wait(30)
        except subprocess.TimeoutExpired:
            lab.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
