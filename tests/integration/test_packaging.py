"""airlock installed the way a consumer installs it, and the way `pulumi install` installs it.

Guards: the package installing a top-level ``components`` package (a consumer's own
``components/`` then broke with ModuleNotFoundError), ``py.typed`` only in a subpackage (a
consumer's mypy saw Any), and a requirements.txt the Pulumi CLI cannot turn into a working
program. Both install from this repository into fresh environments (pip's cache and PyPI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_consumer_with_its_own_components_package_imports_both(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "wheels", ROOT)
    [wheel] = (tmp_path / "wheels").glob("airlock-*.whl")
    target = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel)
    assert sorted(path.name for path in target.iterdir() if not path.name.endswith(".dist-info")) == [
        "airlock",
        "bin",
    ]
    assert (target / "airlock" / "py.typed").is_file()

    consumer = tmp_path / "consumer"
    (consumer / "components").mkdir(parents=True)
    (consumer / "components" / "__init__.py").write_text("")
    (consumer / "components" / "platform.py").write_text("NAME = 'the consumer own platform'\n")
    (consumer / "main.py").write_text(
        "import components.platform, airlock\n"
        "from airlock import ImageConfig, Platform, VirtualCluster, ImagePolicy\n"
        "print(components.platform.NAME)\n"
        "print(airlock.__file__)\n"
        "print(ImagePolicy(pin='off').pin)\n"
    )
    # The base interpreter: this venv's editable install (components/ on sys.path) stays out.
    dependencies = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": f"{target}{os.pathsep}{dependencies}", "PYTHONNOUSERSITE": "1"}
    output = run(BASE_PYTHON, "main.py", cwd=consumer, env=env).splitlines()
    assert output[0] == "the consumer own platform"
    assert output[1] == str(target / "airlock" / "__init__.py")
    assert output[2] == "off"


def test_requirements_txt_installs_a_working_program(tmp_path):
    """What `pulumi install` does (toolchain pip): a venv, then pip install -r requirements.txt."""
    venv = tmp_path / "venv"
    run(BASE_PYTHON, "-m", "venv", venv)
    run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
        "requirements.txt",
        cwd=ROOT,
    )
    frozen = run(venv / "bin" / "python", "-m", "pip", "freeze", "--exclude-editable")
    pins = {line for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    assert {line for line in frozen.splitlines() if "==" in line} <= pins  # every version from the lock
    assert "pytest==" not in frozen and "mypy==" not in frozen  # test tools are not runtime dependencies
    plan = run(venv / "bin" / "airlock", "plan", "--stack", "dev", "--format", "json", cwd=ROOT)
    assert '"stack": "dev"' in plan
    assert run(venv / "bin" / "airlock", "--version").strip() == "airlock 0.3.0"
