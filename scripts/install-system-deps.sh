#!/usr/bin/env bash
# Install the Debian packages whose real binaries the tests start on 127.0.0.1.
# Idempotent: does nothing when every binary is already there.
set -euo pipefail
declare -A package_of=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [containerd]=containerd  # the node tests pull through generated hosts.toml (ctr --hosts-dir)
  [podman]=podman          # and through a generated registries.conf
  [busybox]=busybox        # the NodeRegistryConfig DaemonSet's script runs on busybox
  [shellcheck]=shellcheck  # actionlint checks the workflows' run: scripts with it (make lint)
)
missing=()
for binary in "${!package_of[@]}"; do
  command -v "$binary" >/dev/null 2>&1 || missing+=("${package_of[$binary]}")
done
# GNU time (peak RSS in the benchmarks); 'command -v time' would find the shell keyword.
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "missing Debian packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
