"""`staffsync demo`: no configuration — a simulated Kombo, the connect round trip, a first sync, a server."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cli_harness import Cli
from fastapi.testclient import TestClient

from staffsync.api.app import create_app
from staffsync.cli.demo import DEMO_ADMIN
from staffsync.storage.db import Database
from staffsync.web.auth import SESSION_COOKIE

SIGN_IN_LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/link\?token=[\w-]+")


def test_demo_connects_the_simulated_kombo_syncs_everyone_and_prints_the_credentials_once(cli: Cli) -> None:
    first = cli.json("demo", "--once", "--employees", "60")
    assert first["run"]["status"] == "succeeded"
    assert first["run"]["counts"]["created"] == 60
    assert first["directory"]["active"] == 60
    assert first["admin_password"] and first["api_token"].startswith("ssk_")

    again = cli.json("demo", "--once")
    assert again["account_id"] == first["account_id"]
    assert again["connection_id"] == first["connection_id"]
    assert again["run"]["counts"]["created"] == again["run"]["counts"]["updated"] == 0
    assert "admin_password" not in again


def _follow(db: Database, link: str) -> int:
    """Opens a sign-in link in a fresh browser on the app over `db`; the status of the first answer, and
    for a link that worked, checks it landed signed in as the demo admin."""
    parts = urlsplit(link)
    with TestClient(create_app(db), base_url="https://testserver", follow_redirects=False) as browser:
        response = browser.get(f"{parts.path}?{parts.query}")
        if response.status_code == 303:
            assert response.headers["location"] == "/employees"
            page = browser.get("/employees")
            assert page.status_code == 200
            assert DEMO_ADMIN in page.text
        return response.status_code


def test_demo_prints_the_admin_and_a_sign_in_link_that_works_once(cli: Cli) -> None:
    first = cli.run("demo", "--once", "--no-browser", "--employees", "15")
    assert first.exit_code == 0, first.stderr
    assert DEMO_ADMIN in first.stdout
    assert "Password" in first.stdout
    links = SIGN_IN_LINK.findall(first.stdout)
    assert len(links) == 1, first.stdout
    # --once stops the server: the link points where `staffsync serve` answers by default.
    assert links[0].startswith("http://127.0.0.1:8000/login/link?token=")
    assert _follow(cli.db, links[0]) == 303
    assert _follow(cli.db, links[0]) == 400

    # A later run cannot show the password (only its hash is kept), so the link is the way in.
    again = cli.run("demo", "--once", "--no-browser")
    assert again.exit_code == 0, again.stderr
    assert "shown once, when the demo account was created" in again.stdout
    new_links = SIGN_IN_LINK.findall(again.stdout)
    assert len(new_links) == 1 and new_links[0] != links[0]
    assert _follow(cli.db, new_links[0]) == 303


def test_demo_json_carries_the_sign_in_link_and_credentials_that_sign_in(cli: Cli) -> None:
    document = cli.json("demo", "--once", "--no-browser", "--employees", "15")
    assert document["admin_email"] == DEMO_ADMIN
    assert SIGN_IN_LINK.fullmatch(document["sign_in_link"])
    with TestClient(create_app(cli.db), base_url="https://testserver", follow_redirects=False) as browser:
        signed_in = browser.post(
            "/login", data={"email": document["admin_email"], "password": document["admin_password"]}
        )
        assert signed_in.status_code == 303
        assert SESSION_COOKIE in signed_in.cookies
    assert _follow(cli.db, document["sign_in_link"]) == 303


def test_demo_opens_the_browser_signed_in_as_the_demo_admin(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The served demo hands the browser a sign-in link; this stand-in browser follows it against the live
    server, then presses Ctrl-C."""
    opened: list[str] = []

    def browser(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        with httpx.Client(timeout=10) as client:
            landed = client.get(url)
            assert landed.status_code == 303
            assert landed.headers["location"] == "/employees"
            session = landed.cookies[SESSION_COOKIE]
            base = url.split("/login/link")[0]
            page = client.get(f"{base}/employees", headers={"Cookie": f"{SESSION_COOKIE}={session}"})
            assert page.status_code == 200
            assert DEMO_ADMIN in page.text
            assert client.get(url).status_code == 400
        os.kill(os.getpid(), signal.SIGINT)
        return True

    monkeypatch.setattr(webbrowser, "open", browser)
    monkeypatch.setenv("DISPLAY", ":99")
    result = cli.run("demo", "--port", "0", "--employees", "10")
    assert result.exit_code == 0, result.stderr
    assert len(opened) == 1
    assert SIGN_IN_LINK.fullmatch(opened[0])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_serves_the_ui_and_a_sign_in_link_on_a_fresh_machine(tmp_path: Path) -> None:
    # A stand-in for the desktop's browser: --no-browser must leave it alone.
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {tmp_path / "opened.txt"}\n')
    browser.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
    env.update({"PYTHONUNBUFFERED": "1", "BROWSER": f"{browser} %s"})
    port = _free_port()
    staffsync = Path(sys.executable).with_name("staffsync")
    with (tmp_path / "stderr.txt").open("w") as stderr_file:
        demo = subprocess.Popen(
            [str(staffsync), "demo", "--employees", "25", "--port", str(port), "--json", "--no-browser"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
        )
        try:
            # The document comes once the first sync is done, while the server goes on serving.
            assert demo.stdout is not None
            lines = []
            while not lines or lines[-1].rstrip() != "}":
                line = demo.stdout.readline()
                assert line, f"the demo ended early: {(tmp_path / 'stderr.txt').read_text()}"
                lines.append(line)
            document = json.loads("".join(lines))
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert health.json() == {"status": "ok", "database": "ok"}
            assert document["url"] == f"http://127.0.0.1:{port}"
            landed = httpx.get(document["sign_in_link"], timeout=5)
            assert landed.status_code == 303
            cookie = {"Cookie": f"{SESSION_COOKIE}={landed.cookies[SESSION_COOKIE]}"}
            page = httpx.get(f"http://127.0.0.1:{port}/employees", headers=cookie, timeout=5)
            assert page.status_code == 200
            assert DEMO_ADMIN in page.text
        finally:
            demo.send_signal(signal.SIGINT)
            demo.communicate(timeout=60)
    assert demo.returncode == 0, (tmp_path / "stderr.txt").read_text()
    assert document["run"]["counts"]["created"] == 25
    assert (tmp_path / ".staffsync" / "staffsync.db").exists()
    assert oct((tmp_path / ".staffsync" / "demo.json").stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / "opened.txt").exists()
