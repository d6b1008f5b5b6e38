#!/usr/bin/env bash
# Runs the Kubernetes manifests for real on this machine, without a cluster or a registry: builds the image
# (deploy/container/build-local.sh --build-only), renders overlays/podman-local (the CPU overlay with that
# image, the tiny model inside it, one replica, the port on 127.0.0.1:18481) with kubectl kustomize, and runs
# it with `podman kube play`. Then: time to ready, what podman made of the pod spec (user, read-only root,
# limits, volumes), a JPEG, PNG, WebP, GIF and BMP classified through the port, and the drain on stop
# (readiness and a classify every 0.25 s while the container gets SIGTERM). Loopback only; bounded in time;
# removes what it made (pod, its two volumes) on exit.
# Needs root, podman (4.3.1 from Debian here), and a kubectl of 1.27 or later (.ci/run installs one).
# Usage: deploy/kubernetes/play-local.sh   (VITSERVE_SKIP_BUILD=1: use the localhost/vitserve:local there is)
#
# What podman 4.3 does with the pod spec, seen here: runAsUser/runAsGroup, readOnlyRootFilesystem,
# capabilities, the CPU and memory limits, env, args and hostPort are applied; each emptyDir becomes a named
# volume (hf-cache, tmp); the Service, PodDisruptionBudget and HorizontalPodAutoscaler are ignored; the
# startup and readiness probes are not run (the script polls /health/ready itself) and the liveness probe
# becomes a health check that podman would schedule through systemd (absent here), with the named port
# "http" left unresolved; preStop is not run and terminationGracePeriodSeconds is not used as the stop
# timeout, so the script stops the container with `podman stop -t 60` (the manifests' 60 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${VITSERVE_IMAGE_WORK:-/tmp/vitserve-image}
mkdir -p "$work"
port=18481   # the hostPort of overlays/podman-local
base=http://127.0.0.1:$port

fail() { echo "FAILED: $*" >&2; exit 1; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}'; }

command -v kubectl >/dev/null || fail "kubectl is not installed (bash .ci/run installs one)"
kubectl kustomize deploy/kubernetes/overlays/podman-local >"$work/play.yaml" 2>"$work/kustomize.log" \
  || { cat "$work/kustomize.log" >&2; fail "kubectl kustomize (kubectl 1.27 or later is needed)"; }

if [ "${VITSERVE_SKIP_BUILD:-}" != 1 ]; then
  bash deploy/container/build-local.sh --build-only
fi
podman=(podman --runtime runc --cgroup-manager cgroupfs)
"${podman[@]}" image exists localhost/vitserve:local || fail "no image localhost/vitserve:local"

# As build-local.sh: inside an unprivileged container rlimits can only be lowered; kube play takes no
# --ulimit, so containers.conf gives them
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
EOF
export CONTAINERS_CONF=$work/containers.conf
pod=vitserve-pod-0
container=$pod-vitserve
volumes=()
for v in hf-cache tmp; do "${podman[@]}" volume exists "$v" || volumes+=("$v"); done
cleanup() {
  "${podman[@]}" kube down "$work/play.yaml" >/dev/null 2>&1 || true
  [ ${#volumes[@]} -eq 0 ] || "${podman[@]}" volume rm -f "${volumes[@]}" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"${podman[@]}" pod exists "$pod" && fail "a pod $pod is there already (podman pod rm -f $pod)"

start=$(date +%s.%N)
"${podman[@]}" kube play "$work/play.yaml" >"$work/kube-play.log" 2>&1 \
  || { tail -n 40 "$work/kube-play.log" >&2; fail "podman kube play"; }
ready=""
for _ in $(seq 240); do
  if curl -fsS -m 2 -o /dev/null "$base/health/ready" 2>/dev/null; then ready=yes; break; fi
  [ "$("${podman[@]}" inspect "$container" --format '{{.State.Running}}' 2>/dev/null)" = true ] || break
  sleep 0.5
done
[ -n "$ready" ] || { "${podman[@]}" logs "$container" 2>&1 | tail -n 40 >&2; fail "the pod did not get ready on $base"; }
echo "pod ready $(since "$start") s after podman kube play: $(curl -fsS "$base/health/ready")"
echo "container: $("${podman[@]}" inspect "$container" --format 'user {{.Config.User}}, read-only root {{.HostConfig.ReadonlyRootfs}}, memory limit {{.HostConfig.Memory}} B, CPU quota {{.HostConfig.CpuQuota}}/{{.HostConfig.CpuPeriod}}, image {{.ImageName}}')"
echo "volumes: $("${podman[@]}" inspect "$container" --format '{{range .Mounts}}{{.Name}} -> {{.Destination}}; {{end}}')"
"${podman[@]}" exec "$container" sh -c 'touch /x' 2>/dev/null && fail "the root file system is writable"

failed=0
for image in testkit/fixtures/images/coffee.jpg:image/jpeg testkit/fixtures/images/chelsea.png:image/png \
    testkit/fixtures/images-extra/lossy-photo.webp:image/webp testkit/fixtures/images-extra/animated.gif:image/gif \
    testkit/fixtures/images-extra/rgb24.bmp:image/bmp; do
  file=${image%%:*} type=${image#*:}
  answer=$(curl -sS -m 30 -w ' HTTP %{http_code}' --data-binary "@$file" -H "Content-Type: $type" \
    "$base/v1/classify?top_k=1" 2>&1 || true)
  label=$(sed -n 's/.*"label":"\([^"]*\)".*/\1/p' <<<"$answer")
  echo "classify $(basename "$file") ($type): ${answer##* HTTP } ${label:+($label)}"
  [[ "$answer" == *" HTTP 200" ]] || { failed=1; echo "  ${answer:0:300}"; }
done

# Drain: readiness and a classify every 0.25 s (10 s at most) while the container is stopped
poll() {
  for _ in $(seq 40); do
    echo "$(date +%s.%N) $(curl -s -o /dev/null -w '%{http_code}' -m 1 "$base/health/ready") $(curl -s -o /dev/null \
      -w '%{http_code}' -m 5 --data-binary @testkit/fixtures/images/coffee.jpg -H 'Content-Type: image/jpeg' "$base/v1/classify")"
    sleep 0.25
  done
}
poll >"$work/drain.log" &
poller=$!
sleep 1
stop=$(date +%s.%N)
"${podman[@]}" stop -t 60 "$container" >"$work/stop.log" 2>&1 || { cat "$work/stop.log" >&2; fail "podman stop"; }
stopped=$(since "$stop")
wait "$poller" || true
exit_code=$("${podman[@]}" inspect "$container" --format '{{.State.ExitCode}}')
echo "stopped with SIGTERM in $stopped s: exit status $exit_code;" \
  "$(grep -o '"message":"stopping[^"]*"' <("${podman[@]}" logs "$container" 2>&1) | cut -d'"' -f4)"
echo "while stopping (readiness, classify: count of polls every 0.25 s, from 1 s before SIGTERM):"
awk -v stop="$stop" '{ key = ($1 < stop ? "before SIGTERM" : "after SIGTERM ") "  ready " $2 ", classify " $3;
  if (key != last) { if (last != "") printf "  %3d x %s\n", n, last; last = key; n = 0 } n++ }
  END { if (last != "") printf "  %3d x %s\n", n, last }' "$work/drain.log"
"${podman[@]}" logs "$container" 2>&1 | tail -1 | grep -q '"stopped"' || { failed=1; echo "the last log line is not \"stopped\""; }
[ "$exit_code" = 0 ] || failed=1
[ "$failed" -eq 0 ] || fail "see above"
echo "ok"
