#!/usr/bin/env python3
"""Runs the commands of README.md and docs/*.md that a reader would paste, against servers started from
server/target/vitserve.jar, and fails when one of them does not work as written.

A fenced block is run when the line before it is a marker `<!-- check-commands: GROUP -->`. The blocks of a
group run in order in one bash, as a reader would paste them into one terminal:

- `java -jar server/target/vitserve.jar ...` starts the server in the background, as the reader's other
  terminal would, waits until its /health/ready answers 200, and first stops the server that the group
  started before (the reader's Ctrl-C); every server is stopped (SIGTERM) when the group ends;
- every `curl` must answer with a status below 400 (curl's own failures fail too); a curl of an address
  on example.com is not sent (it needs the network) and is counted as skipped;
- `mvn` runs in the repository (with --no-build it is not run, the jar must be there);
- a python block, and `python3` in a shell block, run /usr/bin/python3 (Debian's, which has grpcio); a
  python block that imports a module not installed (tritonclient, say) is counted as skipped, saying which;
- the ports 8080, 8081 and 8082 of the docs (API, management API, gRPC) are replaced by free ports.

The commands run in a scratch folder that holds `server`, `testkit` and `core` (links to the repository's) and
`cat.jpg` and `dog.png`, the photos the examples send. It also checks that README's test command is the
one .ci/run runs.

Usage: docs/check-commands.py [--no-build] [--group NAME]...   (after `mvn -B -DskipTests package`, or
with the build the quick start runs). .ci/run runs it with --no-build after `mvn -B verify`.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^\s*<!-- check-commands: ([a-z0-9-]+) -->\s*$")
FENCE = re.compile(r"^\s*```(\w*)\s*$")
DOC_PORTS = {"8080": "api", "8081": "admin", "8082": "grpc"}

PRELUDE = r'''
set -eu   # no pipefail: a reader's shell has none (`curl | grep -q` is fine there)
check_dir=$CHECK_DIR
log() { printf '[check-commands] %s\n' "$*" >&2; }
stop_servers() {
  local pid
  for pid in $(cat "$check_dir/pids" 2>/dev/null); do
    kill -TERM "$pid" 2>/dev/null && log "stopped the server (pid $pid)" || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
  : >"$check_dir/pids"
}
trap stop_servers EXIT
java() {
  if [ "${1:-}" != -jar ]; then command java "$@"; return; fi
  stop_servers
  local n pid
  n=$(( $(cat "$check_dir/servers") + 1 )); echo "$n" >"$check_dir/servers"
  VITSERVE_PORT=${VITSERVE_PORT:-$CHECK_API_PORT} command java "$@" >"$check_dir/server-$n.log" 2>&1 &
  pid=$!
  echo "$pid" >>"$check_dir/pids"
  log "started: java $* (pid $pid, log server-$n.log)"
  for _ in $(seq 1200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "the server stopped before it was ready; the end of its log:"; tail -20 "$check_dir/server-$n.log" >&2; return 1
    fi
    if command curl -fs -o /dev/null "http://127.0.0.1:$CHECK_API_PORT/health/ready"; then
      log "ready"; return 0
    fi
    sleep 0.1
  done
  log "the server was not ready within 120 s"; return 1
}
curl() {
  case "$*" in
    *example.com*) log "skipped (needs the network): curl $*"; echo skipped >>"$check_dir/skipped"; return 0 ;;
  esac
  local status
  exec 4>&1
  status=$(command curl -w '%{stderr}%{http_code}' "$@" 2>&1 >&4) || { log "curl failed ($?): curl $*"; return 1; }
  exec 4>&-
  status=${status##*$'\n'}
  echo "$status" >>"$check_dir/statuses"
  echo   # the answers have no newline at their end
  if [ "$status" -ge 400 ]; then echo >&2; log "HTTP $status from: curl $*"; return 1; fi
}
mvn() {
  if [ -n "${CHECK_NO_BUILD:-}" ]; then
    log "not built (--no-build): mvn $*"; [ -f "$CHECK_ROOT/server/target/vitserve.jar" ]; return
  fi
  (cd "$CHECK_ROOT" && command mvn "$@")
}
python3() { /usr/bin/python3 "$@"; }   # Debian's, which has grpcio and grpc_tools
check_python() { # the block on standard input, run by Debian's Python
  local file=$check_dir/block-$RANDOM.py
  cat >"$file"
  if ! /usr/bin/python3 "$file" 2>"$file.err"; then
    local missing
    missing=$(grep -o "No module named '[^']*'" "$file.err" | head -1 || true)
    if [ -n "$missing" ]; then
      log "skipped ($missing): the python block of $1"; echo skipped >>"$check_dir/skipped"; return 0
    fi
    cat "$file.err" >&2; log "the python block of $1 failed"; return 1
  fi
  cat "$file.err" >&2
}
'''


def blocks():
    """(group, file, line, language, text) of every marked block, README first."""
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    found = []
    for path in files:
        lines = path.read_text().split("\n")
        i = 0
        while i < len(lines):
            marker = MARKER.match(lines[i])
            if marker:
                fence = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
                if not fence:
                    sys.exit(f"{path.relative_to(ROOT)}:{i + 1}: a check-commands marker must be followed by a fenced block")
                end = next(j for j in range(i + 2, len(lines)) if lines[j].strip().startswith("```"))
                text = textwrap.dedent("\n".join(lines[i + 2:end]))
                found.append((marker.group(1), path.relative_to(ROOT), i + 3, fence.group(1), text))
                i = end
            i += 1
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_matches_ci():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"Run every test:\n\n```sh\n(.+)\n```", readme)
    ci = (ROOT / ".ci" / "run").read_text().split("\n")
    at = ci.index("# The test command of README.md:")
    if not match or ci[at + 1] != match.group(1):
        sys.exit(f"README's test command ({match and match.group(1)}) is not the one .ci/run runs ({ci[at + 1]})")
    print(f"README's test command is .ci/run's: {ci[at + 1]}")


def run_group(name, members, args):
    ports = {role: free_port() for role in DOC_PORTS.values()}
    work = Path(tempfile.mkdtemp(prefix=f"vitserve-check-{name}-"))
    for link in ("server", "testkit", "core"):
        (work / link).symlink_to(ROOT / link)
    shutil.copy(ROOT / "testkit/fixtures/images/chelsea-exif6.jpg", work / "cat.jpg")
    shutil.copy(ROOT / "testkit/fixtures/images/chelsea.png", work / "dog.png")
    for f in ("pids", "statuses", "skipped"):
        (work / f).write_text("")
    (work / "servers").write_text("0")
    script = [PRELUDE]
    for _, path, line, language, text in members:
        text = re.sub(r"\b(808[012])\b", lambda m: str(ports[DOC_PORTS[m.group(1)]]), text)
        where = f"{path}:{line}"
        script.append(f"log '--- {where}'")
        if language in ("sh", "bash", ""):
            script.append(text)
        elif language == "python":
            script.append(f"check_python '{where}' <<'CHECK_PYTHON_EOF'\n{text}\nCHECK_PYTHON_EOF")
        else:
            sys.exit(f"{where}: check-commands runs sh and python blocks, not {language}")
    env = dict(os.environ, CHECK_DIR=str(work), CHECK_ROOT=str(ROOT), CHECK_API_PORT=str(ports["api"]))
    env.pop("VITSERVE_PORT", None)
    if args.no_build:
        env["CHECK_NO_BUILD"] = "1"
    (work / "script.sh").write_text("\n".join(script) + "\n")
    print(f"== {name}: {len(members)} blocks ({', '.join(f'{p}:{ln}' for _, p, ln, _, _ in members)}), in {work}")
    sys.stdout.flush()
    process = subprocess.Popen(["bash", str(work / "script.sh")], cwd=work, env=env, start_new_session=True)
    try:
        rc = process.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        rc = "timeout"
    statuses = (work / "statuses").read_text().split()
    skipped = len((work / "skipped").read_text().split())
    print(f"== {name}: {'ok' if rc == 0 else 'FAILED (' + str(rc) + ')'}: {len(statuses)} HTTP answers "
          f"({', '.join(sorted(set(statuses)))}), {skipped} skipped, "
          f"{(work / 'servers').read_text().strip()} servers started")
    if rc == 0 and not args.keep:
        shutil.rmtree(work)
    return rc == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-build", action="store_true", help="do not run mvn; server/target/vitserve.jar must exist")
    parser.add_argument("--group", action="append", help="run only this group (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a group may take (default 900)")
    args = parser.parse_args()
    test_command_matches_ci()
    groups = {}
    for member in blocks():
        groups.setdefault(member[0], []).append(member)
    failed = [name for name, members in groups.items()
              if (not args.group or name in args.group) and not run_group(name, members, args)]
    if failed:
        sys.exit(f"commands of the docs failed in: {', '.join(failed)}")
    print("every marked command of the docs worked as written")


if __name__ == "__main__":
    main()
