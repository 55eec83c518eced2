#!/usr/bin/env bash
# The Django REST framework + simplejwt server that `make bench` compares `GET /me` with.
#   scripts/django-bench.sh start <port> <token-file>
#       Makes or reuses the virtualenv .venv-django (reinstalled only when
#       bench/django/requirements.txt changes), starts a private PostgreSQL cluster under
#       .local/django/pg (unix socket only, installing PostgreSQL when it is missing),
#       migrates it, makes the bench user, writes a fresh 1 h ES256 access token to
#       <token-file>, starts gunicorn on 127.0.0.1:<port> in the background and returns
#       once `GET /me` with that token answers 200 (at most 60 s). gunicorn keeps running.
#   scripts/django-bench.sh stop
#       Stops that gunicorn and its workers, then the PostgreSQL cluster.
#   scripts/django-bench.sh argon2-floor
#       Prints the median milliseconds of one argon2-cffi verify (argon2id, m=19456 KiB, t=2,
#       p=1: the parameters of both servers), on one thread, as Django's login pays it, then
#       the verifies per second of one process per core for 3 s: the most any login on this
#       machine could do with argon2-cffi.
# Env: DJANGO_WORKERS (gunicorn worker count, default 2 * cores + 1).
# Logs: .local/django/gunicorn.log (errors and start/stop only; no access log),
#       .local/django/postgres.log.
set -euo pipefail
set +m # no job control: the background gunicorn below must be $! itself (see setsid)
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD
venv="$root/.venv-django"
app="$root/bench/django"
state="$root/.local/django"
pidfile="$state/gunicorn.pid"
logfile="$state/gunicorn.log"
pgdata="$state/pg"
pgrun="$state/pg-run"
pglog="$state/postgres.log"
pgport=5432
requirements="$app/requirements.txt"

die() {
  echo "django-bench: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start <port> <token-file> | $0 stop | $0 argon2-floor" >&2
  exit 2
}

ensure_venv() {
  command -v python3 >/dev/null || scripts/apt-install.sh python3 python3-venv
  local stamp="$venv/.requirements.sha256" want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/bin/pip" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  if [ ! -x "$venv/bin/pip" ]; then
    # Debian and Ubuntu ship venv's ensurepip separately (python3-venv / python3.X-venv);
    # without it `python3 -m venv` fails and leaves a venv without pip behind.
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      scripts/apt-install.sh python3-venv
      python3 -m venv "$venv" || die "python3 -m venv failed even after installing python3-venv"
    fi
  fi
  echo "django-bench: installing $requirements into .venv-django" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" \
    || die "pip install -r bench/django/requirements.txt failed"
  echo "$want" >"$stamp"
}

# PostgreSQL's server programs (initdb, pg_ctl): Debian keeps them in its versioned
# directory, off PATH.
pg_bin() {
  local initdb
  initdb=$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$initdb" ] || return 1
  dirname "$(readlink -f "$initdb")"
}

# Runs a PostgreSQL program as the cluster's owner: initdb and postgres refuse root, so as
# root the cluster belongs to the `postgres` user the package made.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A private cluster for the run: trust auth on a unix socket in .local/django/pg-run, no TCP.
# synchronous_commit=off: commits do not wait for the WAL flush, as DynamoDB Local (run
# -inMemory) does not write to disk at all; the data stays crash-consistent.
pg_start() {
  local bin
  bin=$(pg_bin) || { scripts/apt-install.sh postgresql >&2; bin=$(pg_bin); } || die "PostgreSQL's initdb not found"
  mkdir -p "$pgrun"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$pgdata"
    chown postgres "$pgdata" "$pgrun"
    chmod 700 "$pgdata"
    touch "$pglog" && chown postgres "$pglog"
  fi
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$pgdata" -U bench --auth=trust -E UTF8 --no-sync >"$state/initdb.log" 2>&1 \
      || { tail -n 20 "$state/initdb.log" >&2; die "initdb failed"; }
  fi
  if ! as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pglog" -w -t 60 \
      -o "-k $pgrun -p $pgport -c listen_addresses= -c synchronous_commit=off" start >/dev/null \
      || { tail -n 20 "$pglog" >&2; die "PostgreSQL did not start"; }
  fi
  if ! psql -h "$pgrun" -p "$pgport" -U bench -d postgres -Atc "select 1 from pg_database where datname = 'bench'" | grep -q 1; then
    psql -h "$pgrun" -p "$pgport" -U bench -d postgres -qc "create database bench" >/dev/null || die "create database failed"
  fi
  export DJANGO_BENCH_PG_HOST="$pgrun" DJANGO_BENCH_PG_PORT="$pgport"
}

pg_stop() {
  local bin
  bin=$(pg_bin) || return 0
  [ -s "$pgdata/PG_VERSION" ] || return 0
  if as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null && echo "django-bench: stopped PostgreSQL" >&2
  fi
}

# The pid in the pid file, when it is a live gunicorn of ours.
running_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q gunicorn "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pidfile"
    echo "django-bench: not running" >&2
    pg_stop
    return 0
  fi
  # gunicorn was started as the leader of its own process group, so the group is the
  # master and its workers. TERM asks the master to stop its workers and exit.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 -- "-$pid" 2>/dev/null; then
    echo "django-bench: gunicorn did not stop in 10 s; killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  echo "django-bench: stopped gunicorn (pid $pid)" >&2
  pg_stop
}

start() {
  local port=$1 token_file=$2
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port: $port"
  case "$token_file" in /*) ;; *) token_file="$caller/$token_file" ;; esac
  # Sync workers each serve one request at a time. gunicorn's documented rule of thumb,
  # 2 * cores + 1, keeps every core busy while some workers wait on I/O (here PostgreSQL
  # reads and the socket); more would just queue on the same two cores.
  local cores workers
  cores=$(nproc 2>/dev/null || echo 2)
  workers=${DJANGO_WORKERS:-$((2 * cores + 1))}
  [[ "$workers" =~ ^[1-9][0-9]*$ ]] || die "DJANGO_WORKERS must be a positive integer: $workers"

  mkdir -p "$state" "$(dirname "$token_file")"
  if running_pid >/dev/null; then
    echo "django-bench: a previous gunicorn is still running; stopping it first" >&2
    stop
  fi
  ensure_venv
  pg_start

  cd "$app"
  "$venv/bin/python" manage.py bench_setup --token-file "$token_file" --lifetime 3600 >&2 \
    || die "bench_setup (migrate, user, token) failed"

  : >"$logfile"
  # setsid: gunicorn leads its own process group, so `stop` ends it and every worker.
  setsid "$venv/bin/gunicorn" benchsite.wsgi:application \
    --bind "127.0.0.1:$port" \
    --workers "$workers" \
    --worker-class sync \
    --error-logfile "$logfile" \
    --log-level info \
    --no-control-socket \
    </dev/null >>"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  cd "$root"

  # Up when `GET /me` with the token answers 200; fail fast when gunicorn dies.
  if ! "$venv/bin/python" - "$port" "$token_file" "$pid" <<'PY'; then
import os, sys, time, urllib.error, urllib.request

port, token_file, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
token = open(token_file).read().strip()
deadline = time.monotonic() + 60
last = "no answer"
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(f"gunicorn exited during start-up ({last})")
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/me",
        headers={"Authorization": f"Bearer {token}", "x-api-key": "local-dev-key"},
    )
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:
            if resp.status == 200:
                sys.exit(0)
            last = f"status {resp.status}"
    except urllib.error.HTTPError as e:
        last = f"status {e.code}: {e.read()[:200]!r}"
    except OSError as e:
        last = str(e)
    time.sleep(0.2)
sys.exit(f"GET /me did not answer 200 within 60 s ({last})")
PY
    echo "django-bench: gunicorn did not come up; last lines of $logfile:" >&2
    tail -n 20 "$logfile" >&2 || true
    stop || true
    exit 1
  fi
  echo "django-bench: gunicorn (pid $pid, $workers sync workers) serving GET /me on 127.0.0.1:$port" >&2
}

argon2_floor() {
  ensure_venv
  "$venv/bin/python" - <<'PY'
import multiprocessing, os, statistics, time
from argon2 import PasswordHasher

hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
stored = hasher.hash("bench-password")


def verify():
    try:
        hasher.verify(stored, "wrong-password")
    except Exception:
        pass


def count(seconds):
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        verify()
        done += 1
    return done


times = []
for _ in range(30):
    started = time.perf_counter()
    verify()
    times.append((time.perf_counter() - started) * 1000)
cores = os.cpu_count() or 1
with multiprocessing.Pool(cores) as pool:
    started = time.monotonic()
    done = sum(pool.map(count, [3.0] * cores))
    elapsed = time.monotonic() - started
print(f"{statistics.median(times):.2f} {done / elapsed:.1f}")
PY
}

case "${1:-}" in
  argon2-floor)
    [ $# -eq 1 ] || usage
    argon2_floor
    ;;
  start)
    [ $# -eq 3 ] || usage
    start "$2" "$3"
    ;;
  stop)
    [ $# -eq 1 ] || usage
    stop
    ;;
  *) usage ;;
esac
