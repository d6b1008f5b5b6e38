#!/usr/bin/env bash
# Three vitserve replicas on loopback behind Debian's haproxy (health check GET /health/ready every 300 ms,
# 2 failures take a replica out; haproxy retries only connections that could not be made, never an answer,
# so a 503 would reach the client). 8 clients send POST /v1/classify to 127.0.0.1 only.
#   phase 1: restart the replicas one at a time (SIGTERM, wait for it to exit, start it, wait until haproxy
#            has it back) under load: the failed requests are counted (the goal is zero);
#   phase 2: SIGKILL one replica under load: the requests it held fail, haproxy takes it out.
# Bounded in time (each phase at most 180 s) and stops everything it started.
# Usage: deploy/scale-out/run.sh [MODEL_DIR]     (default: the tiny test model; build the jar first)
# Env: BASE_PORT (default 18500: haproxy there, replicas on the next three), GRACE_MS (default 1500).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-testkit/fixtures/tiny-vit}
jar=server/target/vitserve.jar
base_port=${BASE_PORT:-18500}
grace_ms=${GRACE_MS:-1500}
image=testkit/fixtures/images/green-palette.png
work=$(mktemp -d /tmp/vitserve-scale-out.XXXXXX)
[ -f "$jar" ] || { echo "build the jar first: mvn -q -B -DskipTests package" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "needs Debian's haproxy: apt-get install haproxy" >&2; exit 2; }

declare -a pids
cleanup() {
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done
  [ -f "$work/haproxy.pid" ] && kill "$(cat "$work/haproxy.pid")" 2>/dev/null || true
  [ -n "${load_pid:-}" ] && kill "$load_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

start_replica() { # start_replica I
  local i=$1 port=$((base_port + $1))
  java -Xmx256m -jar "$jar" --model "$model" --host 127.0.0.1 --port "$port" --threads 1 --preprocess-threads 1 \
    --shutdown-grace-ms "$grace_ms" --drain-timeout-ms 10000 >>"$work/replica$i.log" 2>&1 &
  pids[$i]=$!
}
await_ready() { # await_ready I: the replica answers ready
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$((base_port + $1))/health/ready" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "replica $1 did not get ready; its log:" >&2; tail -20 "$work/replica$1.log" >&2; exit 1
}
haproxy_stat() { # haproxy_stat SERVER FIELD: a field of haproxy's "show stat" for that server
  python3 - "$work/haproxy.sock" "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
lines = data.decode().splitlines()
header = lines[0].lstrip("# ").split(",")
for line in lines[1:]:
    row = dict(zip(header, line.split(",")))
    if row.get("pxname") == "replicas" and row.get("svname") == sys.argv[2]:
        print(row[sys.argv[3]])
PY
}
await_up() { # await_up I: haproxy sends to the replica again
  for _ in $(seq 300); do
    [ "$(haproxy_stat "r$1" status)" = "UP" ] && return 0
    sleep 0.1
  done
  echo "haproxy never took replica $1 back" >&2; exit 1
}
retries() { # connection retries and redispatches haproxy made, all replicas together
  local total=0
  for i in 1 2 3; do total=$((total + $(haproxy_stat "r$i" wretr) + $(haproxy_stat "r$i" wredis))); done
  echo "$total"
}

cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 1024
  stats socket $work/haproxy.sock mode 600 level admin
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 10s
  # only a connection that could not be made is tried again (on another replica); never an answer
  retries 2
  retry-on conn-failure
  option redispatch 1
frontend api
  bind 127.0.0.1:$base_port
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  default-server inter 300ms fall 2 rise 2
  server r1 127.0.0.1:$((base_port + 1)) check
  server r2 127.0.0.1:$((base_port + 2)) check
  server r3 127.0.0.1:$((base_port + 3)) check
CFG

for i in 1 2 3; do start_replica "$i"; done
for i in 1 2 3; do await_ready "$i"; done
haproxy -f "$work/haproxy.cfg" -D -p "$work/haproxy.pid"
for i in 1 2 3; do await_up "$i"; done
echo "3 replicas of $model ready behind haproxy on 127.0.0.1:$base_port (grace ${grace_ms} ms)"

load() { # load PHASE: 8 clients until $work/stop-PHASE exists
  python3 deploy/scale-out/load.py "$base_port" 8 "$image" "$work/stop-$1" 180 >"$work/load-$1.json" &
  load_pid=$!
}
finish_load() { # finish_load PHASE: stop the clients and print what they saw
  touch "$work/stop-$1"
  wait "$load_pid"
  load_pid=
  echo "  load: $(cat "$work/load-$1.json")"
}

echo "phase 1: rolling restart under load"
before=$(retries)
load rolling
sleep 3
for i in 1 2 3; do
  t0=$(date +%s.%N)
  kill -TERM "${pids[$i]}"
  wait "${pids[$i]}" || true
  start_replica "$i"
  await_ready "$i"
  await_up "$i"
  printf '  replica %d: SIGTERM to back in rotation in %.1f s\n' "$i" "$(echo "$(date +%s.%N) - $t0" | bc)"
done
sleep 3
finish_load rolling
echo "  haproxy connection retries during the restarts: $(( $(retries) - before ))"

echo "phase 2: SIGKILL of one replica under load"
before=$(retries)
load kill
sleep 3
kill -KILL "${pids[2]}"
wait "${pids[2]}" 2>/dev/null || true
pids[2]=
t0=$(date +%s.%N)
# haproxy's status is "UP" while the replica is in rotation, "UP 1/2" after its first failed check (still in
# rotation: it takes "fall 2" failures), and "DOWN" once it is out
for _ in $(seq 200); do case "$(haproxy_stat r2 status)" in DOWN*) break ;; esac; sleep 0.05; done
status=$(haproxy_stat r2 status)
case "$status" in
  DOWN*) printf '  haproxy took replica 2 out of rotation %.2f s after the SIGKILL (status %s)\n' \
    "$(echo "$(date +%s.%N) - $t0" | bc)" "$status" ;;
  *) printf '  replica 2 was still in rotation %.2f s after the SIGKILL (haproxy status %s)\n' \
    "$(echo "$(date +%s.%N) - $t0" | bc)" "$status" ;;
esac
sleep 4
finish_load kill
echo "  haproxy connection retries (connections to the killed replica refused, sent to another): $(( $(retries) - before ))"
for i in 1 3; do kill -TERM "${pids[$i]}"; done
wait "${pids[1]}" "${pids[3]}" 2>/dev/null || true
pids=()
echo "logs in $work"
