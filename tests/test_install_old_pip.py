"""The README's install path without make, on the pip that ships with Python 3.11 (issue 21).

pip 23.2 resolved trafilatura's jusText with lxml >= 5.2 but without lxml_html_clean, and every HTML
article then failed. This runs the real old pip (a fresh venv made by this Python's ensurepip) against
the package index the machine is configured with: its resolution of `pip install .` must hold
lxml_html_clean, and the HTML stack it chose, installed in that venv, must read an article.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HTML_STACK = ("trafilatura", "justext", "lxml", "lxml_html_clean")
PAGE = (
    "<html><head><title>Harbour ferry returns</title></head><body><nav>Home | News</nav>"
    "<article><h1>Harbour ferry returns</h1><p>The harbour ferry returned to service on Monday after "
    "a six-week repair of its engine, the operator said, with crossings every twenty minutes.</p>"
    "<p>Passengers queued from seven in the morning, and the first crossing left on time.</p>"
    "</article><footer>Contact us</footer></body></html>"
)

pytestmark = pytest.mark.integration


def _old_pip_venv(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(folder)  # ensurepip: the pip bundled with this Python
    return folder / "bin" / "python"


def _run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def test_readme_install_path_on_the_bundled_pip_reads_html(tmp_path: Path) -> None:
    python = _old_pip_venv(tmp_path / "venv")
    version = _run([str(python), "-m", "pip", "--version"]).stdout.split()[1]
    report = tmp_path / "report.json"
    dry_run = ["--quiet", "--dry-run", "--ignore-installed", "--report", str(report)]
    resolved = _run([str(python), "-m", "pip", "install", *dry_run, str(REPO)])
    if resolved.returncode != 0:
        if (
            "connection" in resolved.stderr.lower()
            or "no matching distribution" in resolved.stderr.lower()
        ):
            pytest.skip(f"no package index reachable from pip {version}: {resolved.stderr[-300:]}")
        pytest.fail(f"pip {version} could not resolve `pip install .`:\n{resolved.stderr[-2000:]}")
    chosen = {
        item["metadata"]["name"].lower().replace("-", "_"): item["metadata"]["version"]
        for item in json.loads(report.read_text(encoding="utf-8"))["install"]
    }
    assert "lxml_html_clean" in chosen, f"pip {version} resolves without lxml_html_clean: {chosen}"
    pins = [f"{name}=={chosen[name]}" for name in HTML_STACK]
    installed = _run([str(python), "-m", "pip", "install", "--quiet", *pins])
    assert installed.returncode == 0, installed.stderr[-2000:]
    script = (
        "import sys, trafilatura\n"
        "text = trafilatura.extract(sys.stdin.read(), favor_recall=True)\n"
        "print(text or '')\n"
    )
    read = subprocess.run(
        [str(python), "-c", script], input=PAGE, capture_output=True, text=True, timeout=120
    )
    assert read.returncode == 0, read.stderr[-2000:]
    assert "returned to service on Monday" in read.stdout
    assert sys.version_info[:2] != (3, 11) or version.startswith("23.")  # the pip of the issue
