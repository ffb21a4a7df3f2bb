"""Supply-chain benchmarks against skopeo, measured in the same run (prints numbers).

Two real distribution registries on 127.0.0.1 with TLS and htpasswd (bcrypt cost 5, as in
the tests). Every timed command is a fresh process, the way users run them.

1. Copy of a two-platform image (~50 MB of random layers): `airlock images copy` vs
   `skopeo copy --all`, each into a fresh destination registry, skopeo with a fresh blob-info
   cache; median of 5. Target airlock/skopeo <= 1.0.
2. Re-copy when everything is present: target <= 0.25x airlock's first copy, zero blob bytes
   uploaded; first-copy bytes equal the unique missing blob bytes exactly.
3. Lock of 50 tags: `airlock images lock` (concurrent) vs 50 sequential `skopeo inspect --raw`.
   Target >= 5x faster.
4. Peak RSS of the 50 MB copy (streaming, not buffering layers), and skopeo's.
"""

from __future__ import annotations

import compileall
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson  # noqa: E402
from airlock.images.reference import parse  # noqa: E402
from airlock.oci.client import RegistryClient, RegistryTransport  # noqa: E402
from tests.support.oci_layout import build_layout  # noqa: E402
from tests.support.pki import make_ca  # noqa: E402
from tests.support.registry import start_registry  # noqa: E402

AIRLOCK = ROOT / ".venv" / "bin" / "airlock"
RUNS = 5
SKOPEO_CACHE = Path("/var/lib/containers/cache")


def timed(command: list[str], *, env: dict[str, str] | None = None) -> tuple[float, str, int]:
    """Wall time, stdout and peak RSS (KiB) of one fresh process."""
    start = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, check=False, env=env
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr[-2000:]}")
    peak = int(result.stderr.strip().splitlines()[-1])
    return elapsed, result.stdout, peak


def main() -> None:
    # An installed package has its bytecode compiled (pip does it); an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would recompile every module at every start instead.
    compileall.compile_dir(ROOT / "components", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="airlock-bench-"))
    ca = make_ca()
    ca_file = work / "ca.pem"
    ca_file.write_text(ca.certificate_pem)
    source = start_registry(work / "src", ca=ca, username="src", password="pw-src")
    destinations = []
    try:
        layout = build_layout(
            work / "layout", tag="1.0", platforms=("linux/amd64", "linux/arm64"), layer_size=25 * 1024 * 1024
        )
        subprocess.run(
            [
                "skopeo",
                "copy",
                "--all",
                "--dest-cert-dir",
                str(source.cert_dir),
                "--dest-creds",
                "src:pw-src",
                f"oci:{layout.path}:1.0",
                f"docker://{source.endpoint}/bench/big:1.0",
            ],
            check=True,
            capture_output=True,
        )

        def fresh_destination() -> object:
            registry = start_registry(
                work / f"dst{len(destinations)}", ca=ca, username="dst", password="pw-dst"
            )
            destinations.append(registry)
            return registry

        airlock_times, skopeo_times, recopy_times, peaks, skopeo_peaks = [], [], [], [], []
        skopeo_recopy_times: list[float] = []
        first_bytes = recopy_bytes = -1
        for _ in range(RUNS):
            dst = fresh_destination()
            auth = work / "auth.json"
            auth.write_text(
                render_dockerconfigjson(
                    {
                        source.endpoint: RegistryCredential("src", "pw-src"),
                        dst.endpoint: RegistryCredential("dst", "pw-dst"),
                    }
                )
            )
            command = [
                str(AIRLOCK),
                "images",
                "copy",
                f"{source.endpoint}/bench/big:1.0",
                f"{dst.endpoint}/bench/big:1.0",
                "--authfile",
                str(auth),
                "--ca-file",
                f"{source.endpoint}={ca_file}",
                "--ca-file",
                f"{dst.endpoint}={ca_file}",
                "--format",
                "json",
            ]
            elapsed, output, peak = timed(command)
            airlock_times.append(elapsed)
            peaks.append(peak)
            first_bytes = json.loads(output)["bytes_uploaded"]
            elapsed, output, _ = timed(command)
            recopy_times.append(elapsed)
            recopy_bytes = json.loads(output)["bytes_uploaded"]

            other = fresh_destination()
            shutil.rmtree(SKOPEO_CACHE, ignore_errors=True)
            skopeo_command = [
                "skopeo",
                "copy",
                "--all",
                "--src-cert-dir",
                str(source.cert_dir),
                "--dest-cert-dir",
                str(other.cert_dir),
                "--src-creds",
                "src:pw-src",
                "--dest-creds",
                "dst:pw-dst",
                f"docker://{source.endpoint}/bench/big:1.0",
                f"docker://{other.endpoint}/bench/big:1.0",
            ]
            elapsed, _, peak = timed(skopeo_command)
            skopeo_times.append(elapsed)
            skopeo_recopy_times.append(timed(skopeo_command)[0])
            skopeo_peaks.append(peak)

        airlock_copy, skopeo_copy = statistics.median(airlock_times), statistics.median(skopeo_times)
        print(
            f"copy 2-platform {layout.blob_bytes / 1e6:.1f} MB: airlock {airlock_copy:.3f}s, skopeo {skopeo_copy:.3f}s, "
            f"ratio {airlock_copy / skopeo_copy:.2f} (median of {RUNS}; target <= 1.0)"
        )
        recopy = statistics.median(recopy_times)
        skopeo_recopy = statistics.median(skopeo_recopy_times)
        print(
            f"re-copy with everything present: {recopy:.3f}s = {recopy / airlock_copy:.2f}x first copy "
            f"(target <= 0.25), {recopy_bytes} blob bytes uploaded (target 0); "
            f"skopeo re-copy {skopeo_recopy:.3f}s = {skopeo_recopy / skopeo_copy:.2f}x its first copy, "
            f"airlock/skopeo {recopy / skopeo_recopy:.2f}"
        )
        print(
            f"first-copy bytes uploaded {first_bytes} vs unique missing blob bytes {layout.blob_bytes}: "
            f"{'equal' if first_bytes == layout.blob_bytes else 'DIFFERENT'}"
        )
        print(
            f"peak RSS of the 50 MB copy: airlock {max(peaks) / 1024:.1f} MiB, skopeo {max(skopeo_peaks) / 1024:.1f} MiB"
        )

        # -- lock of 50 tags -------------------------------------------------------------
        with RegistryClient(
            {source.endpoint: RegistryCredential("src", "pw-src")},
            {source.endpoint: RegistryTransport(ca_bundle=ca.certificate_pem)},
        ) as client:
            small = build_layout(work / "small", tag="t", platforms=("linux/amd64",), layer_size=1024)
            subprocess.run(
                [
                    "skopeo",
                    "copy",
                    "--dest-cert-dir",
                    str(source.cert_dir),
                    "--dest-creds",
                    "src:pw-src",
                    f"oci:{small.path}:t",
                    f"docker://{source.endpoint}/bench/tags:t0",
                ],
                check=True,
                capture_output=True,
            )
            manifest = client.get_manifest(parse(f"{source.endpoint}/bench/tags:t0"))
            for index in range(1, 50):
                client.put_manifest(parse(f"{source.endpoint}/bench/tags:t{index}"), f"t{index}", manifest)
        project = work / "project"
        project.mkdir()
        (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
        (project / "Pulumi.bench.yaml").write_text(
            yaml.safe_dump(
                {
                    "config": {
                        "airlock:environment": "bench",
                        "airlock:namespaces": {"apps": {}},
                        "airlock:images": {
                            "pin": "off",
                            "registries": {source.endpoint: {"caBundle": ca.certificate_pem}},
                        },
                        "airlock:workloadImages": {
                            f"apps/t{i}": {"image": f"{source.endpoint}/bench/tags:t{i}", "namespace": "apps"}
                            for i in range(50)
                        },
                    }
                }
            )
        )
        auth = work / "auth-src.json"
        auth.write_text(render_dockerconfigjson({source.endpoint: RegistryCredential("src", "pw-src")}))
        lock_times, inspect_times = [], []
        for _ in range(RUNS):
            elapsed, _, _ = timed(
                [
                    str(AIRLOCK),
                    "images",
                    "lock",
                    "--stack",
                    "bench",
                    "--project-dir",
                    str(project),
                    "--authfile",
                    str(auth),
                ]
            )
            lock_times.append(elapsed)
            start = time.perf_counter()
            for i in range(50):
                subprocess.run(
                    [
                        "skopeo",
                        "inspect",
                        "--raw",
                        "--cert-dir",
                        str(source.cert_dir),
                        "--creds",
                        "src:pw-src",
                        f"docker://{source.endpoint}/bench/tags:t{i}",
                    ],
                    check=True,
                    capture_output=True,
                )
            inspect_times.append(time.perf_counter() - start)
        lock_time, inspect_time = statistics.median(lock_times), statistics.median(inspect_times)
        print(
            f"lock of 50 tags: airlock {lock_time:.3f}s, 50 sequential skopeo inspect --raw {inspect_time:.3f}s, "
            f"{inspect_time / lock_time:.1f}x faster (target >= 5)"
        )
    finally:
        for registry in destinations:
            registry.stop()
        source.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
