"""The NodeRegistryConfig DaemonSet's script, run by the real busybox (Debian's, whose applets the
DaemonSet's busybox image provides) against a node directory laid out as the pod sees it.

Guards: a DaemonSet that deletes a node's own hosts.toml files, leaves files of a removed mirror
behind, rewrites unchanged files (containerd would read half-written ones), installs a
hosts.toml before the CA it names, or follows a path out of the certs directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from airlock.nodes.spec import FILE_LIST, MANAGED_LIST, SYNC_SCRIPT, tree_data

pytestmark = pytest.mark.realserver

APPLETS = ("sh", "cp", "cmp", "grep", "mv", "rm", "rmdir", "mkdir", "dirname", "chmod", "sleep", "cat")


@pytest.fixture
def busybox_bin(tmp_path: Path) -> Path:
    """A PATH holding only busybox applets, so GNU tools cannot stand in for them."""
    busybox = shutil.which("busybox")
    assert busybox, "busybox is not installed; run 'make system-deps'"
    directory = tmp_path / "bin"
    directory.mkdir()
    for applet in APPLETS:
        (directory / applet).symlink_to(busybox)
    return directory


def mount_config_map(root: Path, files: dict[str, str]) -> Path:
    """The projected volume: the ConfigMap's and the Secret's items, each key at its item path,
    plus the file list."""
    data = tree_data(files, private=[path for path in files if "login" in files[path]])
    desired = root / "desired"
    for items, content in ((data.config_items, data.config_map), (data.secret_items, data.secret)):
        for item in items:
            target = desired / str(item["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content[str(item["key"])])
    return desired


STATE = f"{MANAGED_LIST}nodes"


def sync(bin_dir: Path, desired: Path, host: Path, name: str = "nodes") -> subprocess.CompletedProcess[str]:
    env = {
        "AIRLOCK_NAME": name,
        "PATH": str(bin_dir),
        "AIRLOCK_DESIRED": str(desired),
        "AIRLOCK_HOST_DIR": str(host),
        "AIRLOCK_ONCE": "1",
    }
    return subprocess.run(
        [str(bin_dir / "sh"), "-c", SYNC_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


TREE = {
    "mirror.corp/ca.crt": "CA\n",
    "docker.io/hosts.toml": 'server = "https://mirror.corp"  # login\n',
    "ghcr.io/hosts.toml": 'server = "https://mirror.corp/v2/ghcr"\n',
    "mirror.corp/hosts.toml": 'server = "https://mirror.corp"\n',
}


def test_first_pass_writes_every_file_and_leaves_the_nodes_own_alone(tmp_path, busybox_bin):
    host = tmp_path / "host"
    (host / "quay.io").mkdir(parents=True)
    (host / "quay.io" / "hosts.toml").write_text("# the node's own\n")
    result = sync(busybox_bin, mount_config_map(tmp_path / "v1", TREE), host)
    assert result.returncode == 0, result.stderr
    for path, text in TREE.items():
        assert (host / path).read_text() == text
        # hosts.toml may carry a login (root only); CA certificates are public
        assert (host / path).stat().st_mode & 0o777 == (0o600 if path.endswith(".toml") else 0o644)
    assert (host / "quay.io" / "hosts.toml").read_text() == "# the node's own\n"
    assert (host / STATE).read_text().splitlines() == list(TREE)
    # CA before the hosts.toml that names it
    written = [line.removeprefix("airlock: wrote ") for line in result.stdout.splitlines()]
    assert written == list(TREE)
    assert not list(host.rglob("*.airlock-tmp"))


def test_later_passes_update_changed_files_remove_only_their_own_and_skip_unchanged(tmp_path, busybox_bin):
    host = tmp_path / "host"
    (host / "quay.io").mkdir(parents=True)
    (host / "quay.io" / "hosts.toml").write_text("# the node's own\n")
    assert sync(busybox_bin, mount_config_map(tmp_path / "v1", TREE), host).returncode == 0
    changed = {path: text for path, text in TREE.items() if not path.startswith("ghcr.io/")}
    changed["docker.io/hosts.toml"] = 'server = "https://mirror.corp:5443"\n'
    result = sync(busybox_bin, mount_config_map(tmp_path / "v2", changed), host)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "airlock: wrote docker.io/hosts.toml",
        "airlock: removed ghcr.io/hosts.toml",
    ]
    assert not (host / "ghcr.io").exists()  # its now-empty directory too
    assert (host / "docker.io" / "hosts.toml").read_text() == 'server = "https://mirror.corp:5443"\n'
    assert (host / "quay.io" / "hosts.toml").read_text() == "# the node's own\n"
    again = sync(busybox_bin, mount_config_map(tmp_path / "v3", changed), host)
    assert again.returncode == 0 and again.stdout == ""


def test_a_tampered_state_file_cannot_remove_anything_outside_the_directory(tmp_path, busybox_bin):
    host = tmp_path / "host"
    host.mkdir()
    outside = tmp_path / "precious"
    outside.write_text("keep")
    (host / STATE).write_text("../precious\n/etc/hostname\ndocker.io/../../precious\n")
    result = sync(busybox_bin, mount_config_map(tmp_path / "v1", TREE), host)
    assert result.returncode == 0, result.stderr
    assert outside.read_text() == "keep"
    assert "removed" not in result.stdout


def test_the_file_list_is_part_of_the_config_map_and_never_written_to_the_node(tmp_path, busybox_bin):
    host = tmp_path / "host"
    assert sync(busybox_bin, mount_config_map(tmp_path / "v1", TREE), host).returncode == 0
    assert not (host / FILE_LIST).exists()
    assert sorted(p.relative_to(host).as_posix() for p in host.rglob("*") if p.is_file()) == sorted(
        [*TREE, STATE]
    )
    assert os.access(host / "docker.io" / "hosts.toml", os.R_OK)


def test_a_nodes_own_file_at_a_path_the_tree_writes_is_kept_and_restored(tmp_path, busybox_bin):
    host = tmp_path / "host"
    (host / "docker.io").mkdir(parents=True)
    (host / "docker.io" / "hosts.toml").write_text("# the node's own docker.io\n")
    first = sync(busybox_bin, mount_config_map(tmp_path / "v1", TREE), host)
    assert first.returncode == 0, first.stderr
    assert "kept the node's docker.io/hosts.toml as docker.io/hosts.toml.airlock-orig" in first.stdout
    assert (host / "docker.io" / "hosts.toml").read_text() == TREE["docker.io/hosts.toml"]
    emptied = sync(busybox_bin, mount_config_map(tmp_path / "v2", {}), host)
    assert emptied.returncode == 0, emptied.stderr
    assert (host / "docker.io" / "hosts.toml").read_text() == "# the node's own docker.io\n"
    assert not (host / "docker.io" / "hosts.toml.airlock-orig").exists()
    assert not (host / "ghcr.io").exists() and not (host / "mirror.corp").exists()


def test_two_daemonsets_keep_separate_lists(tmp_path, busybox_bin):
    host = tmp_path / "host"
    assert (
        sync(
            busybox_bin, mount_config_map(tmp_path / "a", {"a.io/hosts.toml": "a\n"}), host, "one"
        ).returncode
        == 0
    )
    assert (
        sync(
            busybox_bin, mount_config_map(tmp_path / "b", {"b.io/hosts.toml": "b\n"}), host, "two"
        ).returncode
        == 0
    )
    # "one" runs again with the same tree: it must not remove what "two" wrote
    again = sync(busybox_bin, mount_config_map(tmp_path / "c", {"a.io/hosts.toml": "a\n"}), host, "one")
    assert again.returncode == 0 and "removed" not in again.stdout
    assert (host / "b.io" / "hosts.toml").read_text() == "b\n"
