"""The load generators: make sure wrk and hey exist (apt-get install them when missing)."""

from __future__ import annotations

import shutil
import subprocess

TOOLS = {"wrk": "wrk", "hey": "hey"}  # command -> Debian package
APT_TIMEOUT_S = 240


class ToolError(RuntimeError):
    """A load generator is missing and could not be installed."""


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["apt-get", *args],
        capture_output=True,
        text=True,
        timeout=APT_TIMEOUT_S,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        check=False,
    )


def ensure_tools() -> None:
    missing = [cmd for cmd in TOOLS if shutil.which(cmd) is None]
    if not missing:
        return
    packages = [TOOLS[cmd] for cmd in missing]
    print(f"bench: {', '.join(missing)} missing; installing Debian packages {packages}", flush=True)
    if shutil.which("apt-get") is None:
        raise ToolError(f"{missing} missing and no apt-get here: install {packages} by hand")
    result = _apt("install", "-y", "--no-install-recommends", *packages)
    if result.returncode != 0:
        print("bench: apt-get install failed; running apt-get update and retrying", flush=True)
        _apt("update")
        result = _apt("install", "-y", "--no-install-recommends", *packages)
    still = [cmd for cmd in missing if shutil.which(cmd) is None]
    if still:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ToolError(
            f"could not install {still} with apt-get (are you root? is a Debian mirror "
            f"reachable?):\n  " + "\n  ".join(tail)
        )
    print(f"bench: installed {', '.join(missing)}", flush=True)


def wrk_version() -> str:
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].split(" [")[0] if text else "wrk ?"
