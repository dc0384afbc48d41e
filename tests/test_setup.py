"""scripts/setup.sh: a second run does nothing (no apt-get, no output); without root it says what to run."""

from __future__ import annotations

import os
import shutil
import subprocess

from tests.util import ROOT

SETUP = os.path.join(ROOT, "scripts", "setup.sh")


def fake_apt(tmp_path) -> tuple[str, str]:
    log = tmp_path / "apt-calls"
    apt = tmp_path / "fake-apt"
    apt.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    apt.chmod(0o755)
    return str(apt), str(log)


def run_setup(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", SETUP], capture_output=True, text=True, timeout=120, env=env)


def venv_is_current() -> bool:
    """setup.sh's own stamp: the venv matches requirements.txt and pyproject.toml (test.sh runs set-up
    before the tests; a stale venv would be rebuilt under the running suite)."""
    want = subprocess.run(f'sha256sum "{ROOT}/requirements.txt" "{ROOT}/pyproject.toml" | sha256sum | cut -c1-64',
                          shell=True, capture_output=True, text=True, check=True).stdout.strip()
    stamp = os.path.join(ROOT, ".venv", ".requirements.sha")
    return os.path.exists(stamp) and open(stamp, encoding="utf-8").read().strip() == want


def test_a_second_setup_runs_no_apt_get_and_prints_nothing(tmp_path):
    assert venv_is_current(), "the venv is older than requirements.txt: run `bash scripts/setup.sh` first"
    apt, log = fake_apt(tmp_path)
    env = {**os.environ, "BPS_APT": apt}
    for _ in range(2):  # the old `fc-list | grep -q` check failed about half the time (SIGPIPE + pipefail)
        done = run_setup(env)
        assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
    assert not os.path.exists(log)


def test_without_root_or_sudo_setup_prints_the_apt_line_and_carries_on(tmp_path):
    """A user who is not root and has no sudo, with graphviz and tesseract missing: the exact line to run, exit 0."""
    assert venv_is_current(), "the venv is older than requirements.txt: run `bash scripts/setup.sh` first"
    apt, log = fake_apt(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "cat", "cut", "sha256sum", "fc-list", "ldconfig", "xvfb-run", "rm",
                 "python3", "python3.11"):
        found = shutil.which(tool) or (shutil.which(tool, path="/sbin:/usr/sbin"))
        if found:
            os.symlink(found, bin_dir / tool)
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")  # not root; no sudo, no dot on this PATH
    (bin_dir / "id").chmod(0o755)
    done = run_setup({"PATH": str(bin_dir), "BPS_APT": apt, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "apt-get update && apt-get install -y --no-install-recommends graphviz tesseract-ocr\n" in done.stderr
    assert not os.path.exists(log)
