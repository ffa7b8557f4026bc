"""`make run`: SITE_URL follows PORT unless it is set (the commands are stubbed: a fake venv
whose python prints the SITE_URL each command would see)."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_make(tmp_path, **env) -> list[str]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text('#!/bin/sh\necho "SITE_URL=$SITE_URL :: $*"\n')
    python.chmod(0o755)
    (venv / ".installed").touch()
    environment = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT"}}
    result = subprocess.run(
        ["make", "-s", "run", f"VENV={venv}"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line.startswith("SITE_URL=")]


def test_site_url_follows_port(tmp_path):
    lines = run_make(tmp_path, PORT="8960")
    # The worker starts in the background beside the server: their order is not fixed.
    assert "SITE_URL=http://127.0.0.1:8960 :: manage.py runserver 127.0.0.1:8960" in lines
    assert all(line.startswith("SITE_URL=http://127.0.0.1:8960 ") for line in lines)


def test_default_port_is_8000(tmp_path):
    assert all(line.startswith("SITE_URL=http://127.0.0.1:8000 ::") for line in run_make(tmp_path))


def test_a_set_site_url_wins(tmp_path):
    lines = run_make(tmp_path, PORT="8960", SITE_URL="https://press.example.org")
    assert "SITE_URL=https://press.example.org :: manage.py runserver 127.0.0.1:8960" in lines
