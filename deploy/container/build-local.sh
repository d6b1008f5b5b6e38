#!/usr/bin/env bash
# Builds the vitserve image from ./Dockerfile without any container registry, then starts it on loopback,
# classifies a JPEG, PNG, WebP, GIF and BMP through its port, and stops it with SIGTERM (drain, exit 0):
#   - the two base images (a Maven + JDK 17 + git build image, a Debian bookworm runtime) are made here with
#     mmdebstrap from Debian's mirror and imported into podman;
#   - the Maven build inside the image uses this machine's ~/.m2/repository as its cache (mounted; package only).
# Needs root and Debian's podman, runc, mmdebstrap and curl (installed when missing). Bounded in time; loopback only.
# Every step's output goes to a log under $VITSERVE_IMAGE_WORK (/tmp/vitserve-image); when a step fails the
# script says which and prints the end of its log.
# Usage: deploy/container/build-local.sh [--build-only]   (the bases stay in podman's store for the next run)
#   --build-only: build localhost/vitserve:local and stop there (deploy/kubernetes/play-local.sh uses it)
# Prints: build time, image size, time to ready, each format's answer, the stop's exit status and time.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${VITSERVE_IMAGE_WORK:-/tmp/vitserve-image}
# the machine's own Debian mirror (the first URI of its apt sources that is not the security one)
mirror=${DEBIAN_MIRROR:-$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
  grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}'; } | grep -v security | head -1)}
if [ -z "$mirror" ]; then
  echo "no Debian mirror found in /etc/apt/sources.list(.d): set DEBIAN_MIRROR" >&2
  exit 1
fi
mkdir -p "$work"

step() { # step WHAT COMMAND...: runs COMMAND, its output in $work/WHAT.log; on failure shows why and stops
  local what=$1 status=0
  shift
  local out="$work/${what// /-}.log"
  "$@" >"$out" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "FAILED: $what (exit status $status: $*)" >&2
    echo "---- last 60 lines of $out ----" >&2
    tail -n 60 "$out" >&2
    exit 1
  fi
}

need=()
for p in podman runc mmdebstrap curl; do command -v "$p" >/dev/null || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "needs root to install ${need[*]} (apt-get)" >&2; exit 1; }
  echo "installing ${need[*]}"
  step "apt-get update" apt-get update -qq
  step "apt-get install" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# Inside an unprivileged container (as on the development machines): crun refuses hybrid cgroups and
# raising rlimits needs CAP_SYS_RESOURCE, so use runc with cgroupfs and rlimits under the current ones.
podman=(podman --runtime runc --cgroup-manager cgroupfs)
limits=(--ulimit "nofile=4096:4096" --ulimit "nproc=4096:4096")

base() { # base NAME PACKAGES: a Debian bookworm image with these packages, made once
  local name=$1 packages=$2
  if ! "${podman[@]}" image exists "localhost/$name"; then
    echo "making base image $name (mmdebstrap bookworm + $packages)"
    local start=$(date +%s)
    step "mmdebstrap $name" timeout 900 mmdebstrap --variant=apt --include="$packages" bookworm "$work/$name.tar" "$mirror"
    step "import $name" "${podman[@]}" import "$work/$name.tar" "localhost/$name"
    rm -f "$work/$name.tar"
    echo "  made in $(( $(date +%s) - start )) s"
  fi
}
# git: the build-number plugin runs it (the Dockerfile installs it too when a build image lacks it)
base vitserve-build-base openjdk-17-jdk-headless,maven,git,ca-certificates
base vitserve-runtime-base ca-certificates

echo "building localhost/vitserve:local (log: $work/podman-build.log)"
mkdir -p "$HOME/.m2"   # podman will not mount a folder that is not there (a machine that never ran Maven)
start=$(date +%s)
step "podman build" timeout 1800 "${podman[@]}" build --format docker --network host "${limits[@]}" \
  -v "$HOME/.m2:/root/.m2" \
  --build-arg BUILD_IMAGE=localhost/vitserve-build-base \
  --build-arg RUNTIME_IMAGE=localhost/vitserve-runtime-base \
  -t localhost/vitserve:local -f Dockerfile .
echo "built in $(( $(date +%s) - start )) s: $("${podman[@]}" image inspect localhost/vitserve:local --format '{{.Size}}' \
  | awk '{printf "%.0f MB", $1/1e6}')"
[ "${1:-}" = "--build-only" ] && exit 0

port=${VITSERVE_IMAGE_PORT:-18480}
name=vitserve-local-$$
cleanup() { "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
start=$(date +%s.%N)
step "podman run" "${podman[@]}" run -d --name "$name" --network host "${limits[@]}" \
  -e VITSERVE_HOST=127.0.0.1 -e VITSERVE_PORT="$port" -e VITSERVE_SHUTDOWN_GRACE_MS=1000 \
  localhost/vitserve:local --model /opt/vitserve/tiny-vit
ready=""
for _ in $(seq 240); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; then ready=yes; break; fi
  [ "$("${podman[@]}" inspect "$name" --format '{{.State.Running}}')" = true ] || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "FAILED: the container did not get ready on 127.0.0.1:$port; its log:" >&2
  "${podman[@]}" logs "$name" 2>&1 | tail -n 60 >&2
  exit 1
fi
echo "ready in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s: $(curl -fsS "http://127.0.0.1:$port/health/ready")"
echo "as user $("${podman[@]}" exec "$name" id -u), HF_HOME=$("${podman[@]}" exec "$name" printenv HF_HOME)"
echo "HEALTHCHECK command: $("${podman[@]}" healthcheck run "$name" >/dev/null 2>&1 && echo healthy || echo failed)"
failed=0
for image in testkit/fixtures/images/coffee.jpg:image/jpeg testkit/fixtures/images/chelsea.png:image/png \
    testkit/fixtures/images-extra/lossy-photo.webp:image/webp testkit/fixtures/images-extra/animated.gif:image/gif \
    testkit/fixtures/images-extra/rgb24.bmp:image/bmp; do
  file=${image%%:*} type=${image#*:}
  answer=$(curl -sS -w ' HTTP %{http_code}' --data-binary "@$file" -H "Content-Type: $type" \
    "http://127.0.0.1:$port/v1/classify?top_k=1" 2>&1 || true)
  echo "classify $(basename "$file") ($type): ${answer:0:200}"
  [[ "$answer" == *" HTTP 200" ]] || failed=1
done
start=$(date +%s.%N)
step "podman stop" "${podman[@]}" stop --time 30 "$name"
echo "stopped with SIGTERM in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s: exit status" \
  "$("${podman[@]}" inspect "$name" --format '{{.State.ExitCode}}'), last log line: $("${podman[@]}" logs "$name" 2>&1 | tail -1)"
if [ "$failed" -ne 0 ]; then
  echo "FAILED: not every format was classified (200)" >&2
  exit 1
fi
