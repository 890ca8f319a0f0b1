"""The README's lab command really serves JupyterLab, and stopping it leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

from helpers import leaks
from tests.conftest import ROOT, free_port


def test_lab_command_serves_jupyterlab(tmp_path) -> None:
    port, token, marker = free_port(), uuid.uuid4().hex, uuid.uuid4().hex
    env = {
        **os.environ,
        "LAB_TEST_MARKER": marker,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    server = subprocess.Popen(
        [sys.executable, "course.py", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        status = None
        deadline = time.monotonic() + 90
        while status is None and time.monotonic() < deadline and server.poll() is None:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/status",
                headers={"Authorization": f"token {token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    status = json.load(response)
            except OSError:
                time.sleep(0.5)
        assert status is not None, f"no answer from /api/status (exit code {server.poll()})"
        assert "started" in status
        with urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/lab",
                                   headers={"Authorization": f"token {token}"}),
            timeout=10,
        ) as page:
            assert "JupyterLab" in page.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()
    assert leaks.wait_until_gone(leaks.marked_processes("LAB_TEST_MARKER", marker), 10) == []
