#!/usr/bin/env bash
# Builds the vitserve image from ./Dockerfile without any container registry, then starts it on loopback,
# classifies a photo, and stops it with SIGTERM:
#   - the two base images (a Maven + JDK 17 build image, a Debian bookworm runtime) are made here with
#     mmdebstrap from Debian's mirror and imported into podman;
#   - the Maven build inside the image uses this machine's ~/.m2/repository as its cache (mounted; package only).
# Needs root and Debian's podman, runc and mmdebstrap (installed when missing). Bounded in time; loopback only.
# Usage: deploy/container/build-local.sh   (the bases stay in podman's store for the next run)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${VITSERVE_IMAGE_WORK:-/tmp/vitserve-image}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$work"

need=()
for p in podman runc mmdebstrap; do command -v "$p" >/dev/null || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# Inside an unprivileged container (as on the development machines): crun refuses hybrid cgroups and
# raising rlimits needs CAP_SYS_RESOURCE, so use runc with cgroupfs and rlimits under the current ones.
podman=(podman --runtime runc --cgroup-manager cgroupfs)
limits=(--ulimit "nofile=4096:4096" --ulimit "nproc=4096:4096")

base() { # base NAME PACKAGES: a Debian bookworm image with these packages, made once
  local name=$1 packages=$2
  if ! "${podman[@]}" image exists "localhost/$name"; then
    echo "making base image $name (mmdebstrap bookworm + $packages)"
    timeout 900 mmdebstrap --quiet --variant=apt --include="$packages" bookworm "$work/$name.tar" "$mirror"
    "${podman[@]}" import --quiet "$work/$name.tar" "localhost/$name" >/dev/null
    rm -f "$work/$name.tar"
  fi
}
base vitserve-build-base openjdk-17-jdk-headless,maven,ca-certificates
base vitserve-runtime-base ca-certificates

echo "building localhost/vitserve:local"
start=$(date +%s)
timeout 1800 "${podman[@]}" build --quiet --format docker --network host "${limits[@]}" \
  -v "$HOME/.m2:/root/.m2" \
  --build-arg BUILD_IMAGE=localhost/vitserve-build-base \
  --build-arg RUNTIME_IMAGE=localhost/vitserve-runtime-base \
  -t localhost/vitserve:local -f Dockerfile . >/dev/null
echo "built in $(( $(date +%s) - start )) s: $("${podman[@]}" image inspect localhost/vitserve:local --format '{{.Size}}' \
  | awk '{printf "%.0f MB", $1/1e6}')"

port=${VITSERVE_IMAGE_PORT:-18480}
name=vitserve-local-$$
cleanup() { "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"${podman[@]}" run -d --name "$name" --network host "${limits[@]}" \
  -e VITSERVE_HOST=127.0.0.1 -e VITSERVE_PORT="$port" -e VITSERVE_SHUTDOWN_GRACE_MS=1000 \
  localhost/vitserve:local --model /opt/vitserve/tiny-vit >/dev/null
for _ in $(seq 120); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null && break
  sleep 1
done
echo "ready: $(curl -fsS "http://127.0.0.1:$port/health/ready")"
echo "as user $("${podman[@]}" exec "$name" id -u), HF_HOME=$("${podman[@]}" exec "$name" printenv HF_HOME)"
echo "HEALTHCHECK command: $("${podman[@]}" healthcheck run "$name" >/dev/null 2>&1 && echo healthy || echo failed)"
echo "classify: $(curl -fsS --data-binary @testkit/fixtures/images/green-palette.png -H 'Content-Type: image/png' \
  "http://127.0.0.1:$port/v1/classify?top_k=1" | head -c 200)"
"${podman[@]}" stop --time 30 "$name" >/dev/null
echo "stopped with SIGTERM: exit status $("${podman[@]}" inspect "$name" --format '{{.State.ExitCode}}'), last log line: $("${podman[@]}" logs "$name" 2>&1 | tail -1)"
