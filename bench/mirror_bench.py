"""Mirror of a whole stack against skopeo sync, measured in the same run (prints numbers).

A stack of 20 two-platform images between two local TLS+htpasswd registries on 127.0.0.1
(bcrypt cost 5): one ~2 MiB base layer shared by all images, one unique ~1 MiB layer per
platform. `airlock images mirror --stack bench` (a fresh process, the stack's lock pinning
every source) against `skopeo sync --all --src yaml` of the same list into the same
repositories, each into a fresh destination registry per sample, skopeo with a fresh blob-info
cache; median of 5.

1. First mirror: target airlock/skopeo <= 0.50.
2. Re-mirror with everything present: target airlock/skopeo <= 0.20.
3. Bytes uploaded by airlock = the unique missing blob bytes exactly.
4. The in-cluster engine's shards (`airlock.oci.sync`), simulated: each shard's generated
   sync configuration run as concurrent skopeo processes, for 1, 2 and 4 shards.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson  # noqa: E402
from tests.support.oci_layout import build_layout, layer_blob  # noqa: E402
from tests.support.pki import make_ca  # noqa: E402
from tests.support.registry import RunningRegistry, start_registry  # noqa: E402

AIRLOCK = ROOT / ".venv" / "bin" / "airlock"
RUNS = 5
IMAGES = 20
PLATFORMS = ("linux/amd64", "linux/arm64")
SKOPEO_CACHE = Path("/var/lib/containers/cache")


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed: {result.stderr[-2000:]}")
    return elapsed, result.stdout


def median_of(samples: list[float]) -> float:
    return statistics.median(samples)


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.ca = make_ca()
        self.ca_file = work / "ca.pem"
        self.ca_file.write_text(self.ca.certificate_pem)
        self.source = start_registry(work / "src", ca=self.ca, username="src", password="pw-src")
        self.registries: list[RunningRegistry] = [self.source]
        self.unique_bytes = 0

    def fresh_destination(self) -> RunningRegistry:
        registry = start_registry(
            self.work / f"dst{len(self.registries)}", ca=self.ca, username="dst", password="pw-dst"
        )
        self.registries.append(registry)
        return registry

    def push_stack(self) -> None:
        base = layer_blob(2 * 1024 * 1024)
        layouts = []
        for index in range(IMAGES):
            layout = build_layout(
                self.work / f"layout-{index}",
                tag="1.0",
                platforms=PLATFORMS,
                layer_size=1024 * 1024,
                shared_layers=(base,),
            )
            layouts.append(layout)
            subprocess.run(
                [
                    "skopeo",
                    "copy",
                    "--all",
                    "--dest-cert-dir",
                    str(self.source.cert_dir),
                    "--dest-creds",
                    "src:pw-src",
                    f"oci:{layout.path}:1.0",
                    f"docker://{self.source.endpoint}/stack/app-{index}:1.0",
                ],
                check=True,
                capture_output=True,
            )
        self.unique_bytes = layouts[0].shared_bytes + sum(layout.blob_bytes for layout in layouts)

    def auth(self, destination: RunningRegistry) -> Path:
        path = self.work / f"auth-{destination.port}.json"
        path.write_text(
            render_dockerconfigjson(
                {
                    self.source.endpoint: RegistryCredential("src", "pw-src"),
                    destination.endpoint: RegistryCredential("dst", "pw-dst"),
                }
            )
        )
        return path

    def project(self, destination: RunningRegistry) -> Path:
        """A stack whose policy flattens every image into <destination>/mirror."""
        project = self.work / f"project-{destination.port}"
        project.mkdir()
        (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
        config = {
            "airlock:environment": "bench",
            "airlock:namespaces": {"apps": {}},
            "airlock:images": {
                "pin": "preferred",
                "registry": {"to": f"{destination.endpoint}/mirror", "layout": "flatten"},
                "registries": {
                    self.source.endpoint: {"caBundle": self.ca.certificate_pem},
                    destination.endpoint: {"caBundle": self.ca.certificate_pem},
                },
            },
            "airlock:workloadImages": {
                f"apps/app-{i}": {"image": f"{self.source.endpoint}/stack/app-{i}:1.0", "namespace": "apps"}
                for i in range(IMAGES)
            },
        }
        (project / "Pulumi.bench.yaml").write_text(yaml.safe_dump({"config": config}))
        subprocess.run(
            [
                str(AIRLOCK),
                "images",
                "lock",
                "--stack",
                "bench",
                "--project-dir",
                str(project),
                "--authfile",
                str(self.auth(destination)),
            ],
            check=True,
            capture_output=True,
        )
        return project

    def airlock_mirror(self, destination: RunningRegistry, project: Path) -> tuple[float, int]:
        elapsed, output = timed(
            [
                str(AIRLOCK),
                "images",
                "mirror",
                "--stack",
                "bench",
                "--project-dir",
                str(project),
                "--authfile",
                str(self.auth(destination)),
                "--format",
                "json",
            ]
        )
        return elapsed, sum(report["bytes_uploaded"] for report in json.loads(output))

    def skopeo_sync(self, destination: RunningRegistry, config: dict[str, Any], target: str) -> float:
        path = self.work / f"sync-{destination.port}.yml"
        path.write_text(yaml.safe_dump(config))
        elapsed, _ = timed(
            [
                "skopeo",
                "sync",
                "--all",
                "--src",
                "yaml",
                "--dest",
                "docker",
                "--authfile",
                str(self.auth(destination)),
                "--dest-cert-dir",
                str(destination.cert_dir),
                str(path),
                target,
            ]
        )
        return elapsed

    def sync_list(self) -> dict[str, Any]:
        return {
            self.source.endpoint: {
                "images": {f"stack/app-{i}": ["1.0"] for i in range(IMAGES)},
                "cert-dir": str(self.source.cert_dir),
            }
        }

    def stop(self) -> None:
        for registry in self.registries:
            registry.stop()


def main() -> None:
    compileall.compile_dir(ROOT / "components", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="airlock-mirror-bench-"))
    bench = Bench(work)
    try:
        bench.push_stack()
        first, again, skopeo_first, skopeo_again = [], [], [], []
        uploaded, uploaded_again = set(), set()
        for _ in range(RUNS):
            destination = bench.fresh_destination()
            project = bench.project(destination)
            elapsed, sent = bench.airlock_mirror(destination, project)
            first.append(elapsed)
            uploaded.add(sent)
            elapsed, sent_again = bench.airlock_mirror(destination, project)
            again.append(elapsed)
            uploaded_again.add(sent_again)
            other = bench.fresh_destination()
            shutil.rmtree(SKOPEO_CACHE, ignore_errors=True)
            skopeo_first.append(bench.skopeo_sync(other, bench.sync_list(), f"{other.endpoint}/mirror/stack"))
            skopeo_again.append(bench.skopeo_sync(other, bench.sync_list(), f"{other.endpoint}/mirror/stack"))
        a1, a2, s1, s2 = map(median_of, (first, again, skopeo_first, skopeo_again))
        print(
            f"stack of {IMAGES} two-platform images sharing a base, {bench.unique_bytes} unique bytes (median of {RUNS})"
        )
        print(f"first mirror: airlock {a1:.3f}s, skopeo sync {s1:.3f}s, ratio {a1 / s1:.2f} (target <= 0.50)")
        print(
            f"re-mirror, everything present: airlock {a2:.3f}s, skopeo sync {s2:.3f}s, ratio {a2 / s2:.2f} (target <= 0.20)"
        )
        verdict = "equal" if uploaded == {bench.unique_bytes} else f"DIFFERENT ({sorted(uploaded)})"
        print(
            f"airlock bytes uploaded on a first mirror vs unique missing blob bytes {bench.unique_bytes}: {verdict}"
        )
        print(f"airlock bytes uploaded on a re-mirror: {sorted(uploaded_again)}")
        shard_scaling(bench)
    finally:
        bench.stop()
        shutil.rmtree(work, ignore_errors=True)


def shard_scaling(bench: Bench) -> None:
    """The in-cluster engine simulated here: the generated shards of the same 20-image list run
    as N concurrent skopeo processes (one per Indexed Job pod), each into a fresh destination."""
    from airlock.images.reference import parse
    from airlock.oci.sync import Trust, plan_shards

    times: dict[int, list[float]] = {1: [], 2: [], 4: []}
    for _ in range(3):
        for count in times:
            destination = bench.fresh_destination()
            pairs = [
                (
                    parse(f"{bench.source.endpoint}/stack/app-{i}:1.0"),
                    parse(f"{destination.endpoint}/mirror/stack/app-{i}:1.0"),
                )
                for i in range(IMAGES)
            ]
            certs = bench.work / f"certs-{destination.port}"
            for registry in (bench.source, destination):
                (certs / registry.endpoint).mkdir(parents=True)
                (certs / registry.endpoint / "ca.crt").write_text(bench.ca.certificate_pem)
            trust = {bench.source.endpoint: Trust(ca=True), destination.endpoint: Trust(ca=True)}
            shards = plan_shards(pairs, shards=count, trust=trust, cert_root=str(certs))
            config = bench.work / f"sync-{destination.port}"
            config.mkdir()
            scripts = []
            for shard in shards:
                for name, document in shard.files().items():
                    (config / name).write_text(yaml.safe_dump(document))
                script = config / f"shard-{shard.index}.sh"
                script.write_text(
                    shard.script(
                        config_dir=str(config),
                        cert_root=str(certs),
                        authfile=str(bench.auth(destination)),
                        trust=trust,
                    )
                )
                scripts.append(script)
            shutil.rmtree(SKOPEO_CACHE, ignore_errors=True)
            start = time.perf_counter()
            running = [
                subprocess.Popen(["sh", str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                for script in scripts
            ]
            failures = [process.stderr.read().decode()[-500:] for process in running if process.wait() != 0]  # type: ignore[union-attr]
            if failures:
                raise RuntimeError(f"a shard failed: {failures[0]}")
            times[count].append(time.perf_counter() - start)
    base = median_of(times[1])
    cores = os.cpu_count()
    for count, samples in times.items():
        value = median_of(samples)
        print(
            f"sync shards as concurrent skopeo processes: {count} shard(s) {value:.3f}s, speed-up {base / value:.2f}x (median of 3, {cores} cores)"
        )


if __name__ == "__main__":
    main()
