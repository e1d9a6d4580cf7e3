#!/usr/bin/env bash
# Replicas benchmark (issue 20): UPLOADS uploads (default 2,000) of a 1 MB report with 10
# attachments, through two `flakiness serve` replicas sharing PostgreSQL and S3-compatible
# storage (s3s-fs), on loopback; against one replica on its defaults (SQLite and the local disk).
#
#   bash bench/replicas.sh
#   UPLOADS=500 CONCURRENCY=16 RUNS=3 bash bench/replicas.sh
#   SCENARIOS="one-local two-pg-s3" bash bench/replicas.sh
#
# Builds the release binaries (in $CARGO_TARGET_DIR, else target/), generates
# bench/out/replicas/base with `flakiness-bench gen --size-mb 1 --attachments 10` when missing,
# starts PostgreSQL (.ci/postgres.sh) and s3s-fs (.ci/s3.sh), then runs RUNS rounds (default 1)
# of the scenarios, their order rotated from one round to the next (the machine is noisy):
#
#   one-local   one replica, defaults: server.db, history.db and blobs/ in its data folder
#   two-pg-s3   two replicas on one new PostgreSQL database and one new bucket prefix, the load
#               spread over both (client-side round-robin: upload i to replica i % 2)
#   one-pg-s3   one replica on PostgreSQL and S3: the cost of the shared storage alone
#
# Each run starts from fresh state (new data folders, a new database, a new bucket prefix), makes
# a token, starts the replicas (ready when GET /readyz answers 200), and runs
# `flakiness-bench upload-load` (UPLOADS distinct reports, CONCURRENCY at a time, default 16)
# over them. After the run it asks the last replica for the project's runs (every upload must
# be listed, whichever replica took it), reads each replica's peak RSS (VmHWM) and CPU time
# from /proc before stopping it, and the CPU time of the client (GNU time), of s3s-fs and of PostgreSQL
# (the postmaster and its backends). It prints medians per scenario and the ratio two-pg-s3 /
# one-local, and keeps in bench/out/replicas/logs/ each run's JSON, the replicas' logs and their
# RSS sampled every 10 s.
#
# Everything it started is stopped on exit (replicas, the RSS sampler, s3s-fs; PostgreSQL too
# if it was not running before), and its databases are dropped. Needs curl, psql, GNU time at
# /usr/bin/time, and what .ci/postgres.sh and .ci/s3.sh need (Debian's PostgreSQL; cargo for
# s3s-fs). One replica takes 256 connections per client address by default: an upload opens up
# to 9 at once, so keep CONCURRENCY under about 28.

set -uo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

UPLOADS=${UPLOADS:-2000}
CONCURRENCY=${CONCURRENCY:-16}
RUNS=${RUNS:-1}
read -r -a SCENARIO_LIST <<<"${SCENARIOS:-one-local two-pg-s3 one-pg-s3}"
PROJECT=bench/replicas
OUT=bench/out/replicas
BASE_DIR=$OUT/base
LOGS=$OUT/logs
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
FLAKINESS=$BIN/flakiness
LOAD=$BIN/flakiness-bench
TICKS=$(getconf CLK_TCK)

for s in "${SCENARIO_LIST[@]}"; do
    case $s in
    one-local | two-pg-s3 | one-pg-s3) ;;
    *)
        echo "unknown scenario $s (one-local, two-pg-s3, one-pg-s3)" >&2
        exit 2
        ;;
    esac
done

cargo build --release -p flakiness-cli -p flakiness-bench >&2 || exit 1
mkdir -p "$OUT" "$LOGS"
if [ ! -f "$BASE_DIR/report.json" ]; then
    "$LOAD" gen --size-mb 1 --attachments 10 --out "$BASE_DIR" >&2 || exit 1
fi

# shellcheck source=bench/measure.sh
source "$(dirname "${BASH_SOURCE[0]}")/measure.sh"
scratch

PIDS=()          # the replicas running now
URLS=()          # their URLs
DATABASES=()     # databases created and not dropped yet
S3_PID=          # s3s-fs
S3_DIR=          # its temporary folder
PG_STOP=         # the PostgreSQL cluster to stop on exit ("VERSION NAME"), if we started it
ADMIN_URL=

# stop_replicas: stops the replicas (and the load generator of a run cut short) and waits for
# them.
stop_replicas() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    PIDS=()
    URLS=()
}

# drop_database NAME: drops it (closing its connections) and forgets it. An autovacuum worker
# busy on it after a run is not ours to end (FORCE then fails): tried again for up to 30 s.
drop_database() {
    local try
    for try in $(seq 30); do
        psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>"$TMP/drop.err" && break
        if [ "$try" -eq 30 ]; then
            echo "could not drop database $1: $(tail -n 1 "$TMP/drop.err")" >&2
        fi
        sleep 1
    done
    local kept=() d
    for d in "${DATABASES[@]}"; do [ "$d" != "$1" ] && kept+=("$d"); done
    DATABASES=("${kept[@]}")
}

cleanup() {
    local d
    stop_replicas
    for d in "${DATABASES[@]}"; do drop_database "$d"; done
    if [ -n "$S3_PID" ]; then
        kill "$S3_PID" 2>/dev/null
        # Not our child (.ci/s3.sh started it): wait until it is gone.
        for _ in $(seq 50); do kill -0 "$S3_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    [ -n "$S3_DIR" ] && rm -rf "$S3_DIR"
    # shellcheck disable=SC2086 # "VERSION NAME"
    [ -n "$PG_STOP" ] && pg_ctlcluster $PG_STOP stop >&2
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL: stopped again on exit only when this script started it.
PG_BEFORE=$(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1, $2 }')
if ! PG_ENV=$(bash .ci/postgres.sh 2>"$TMP/postgres.err"); then
    cat "$TMP/postgres.err" >&2
    exit 1
fi
eval "$PG_ENV"
ADMIN_URL=$FLAKINESS_TEST_DATABASE_URL
PG_PORT=$(printf '%s\n' "$ADMIN_URL" | sed -E 's|.*:([0-9]+)/[^/]*$|\1|')
PG_CLUSTER=$(pg_lsclusters -h | awk -v p="$PG_PORT" '$3 == p { print $1, $2 }')
grep -qxF "$PG_CLUSTER" <<<"$PG_BEFORE" || PG_STOP=$PG_CLUSTER
PG_DATA=$(pg_lsclusters -h | awk -v p="$PG_PORT" '$3 == p { print $6 }')

if ! S3_ENV=$(bash .ci/s3.sh 2>"$TMP/s3.err"); then
    cat "$TMP/s3.err" >&2
    exit 1
fi
eval "$S3_ENV"
S3_PID=$(grep -o '(pid [0-9]*)' "$TMP/s3.err" | tr -dc '0-9')
S3_DIR=$(dirname "$FLAKINESS_TEST_S3_ROOT")
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION

# cpu PID: its CPU time so far in clock ticks (user + system, with its waited-for children).
cpu() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# pg_cpu: PostgreSQL's CPU time so far in clock ticks: the postmaster with the backends it
# reaped, and the processes it runs now.
pg_cpu() {
    local pm child total
    pm=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || { echo 0; return; }
    total=$(cpu "$pm")
    for child in $(ps -o pid= --ppid "$pm"); do
        total=$((total + $(cpu "$child")))
    done
    echo "$total"
}

# hwm PID: its peak RSS in MB (VmHWM).
hwm() {
    awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

# start_replica LOG DATA [SERVE ARGS...]: a `flakiness serve` on a free port of 127.0.0.1,
# ready (GET /readyz answers 200); appends its pid to PIDS and its URL to URLS, or returns 1.
start_replica() {
    local log=$1 data=$2 url='' pid
    shift 2
    "$FLAKINESS" serve --data "$data" --bind 127.0.0.1:0 "$@" 2>"$log" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 300); do
        url=$(grep -o 'http://[0-9.:]*' "$log" | head -n 1)
        [ -n "$url" ] && curl -fs -o /dev/null --max-time 2 "$url/readyz" && break
        url=
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$url" ]; then
        echo "a replica did not become ready ($log):" >&2
        tail -n 5 "$log" >&2
        return 1
    fi
    URLS+=("$url")
}

# sample_rss FILE: appends the seconds since the run started and each replica's RSS in MB.
sample_rss() {
    local line=$1 pid
    for pid in "${PIDS[@]}"; do
        line+=" $(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)"
    done
    echo "$line" >>"$2"
}

# json KEY FILE: the value of KEY in the one-line JSON object of FILE.
json() {
    grep -o "\"$1\":[^,}]*" "$2" | head -n 1 | cut -d: -f2
}

# run NAME ROUND: one run of scenario NAME on fresh state; appends its row to $TMP/NAME.runs
# ("uploads/s p50 p95 max failed retries already runs rss | cpu... | tenths") or a note to
# $TMP/NAME.failed.
run() {
    local name=$1 round=$2 tag=$1-$2 state replicas=1 args=() db='' prefix='' token n
    local eps=() rss=() rcpu=0 pid s3_0 pg_0 s3_1 pg_1 rc load runs
    state=$TMP/$tag
    mkdir -p "$state"
    [ "$name" = two-pg-s3 ] && replicas=2
    if [ "$name" != one-local ]; then
        db=flakiness_bench_replicas_$$_${tag//-/_}
        if ! psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null; then
            echo "CREATE DATABASE failed" >>"$TMP/$name.failed"
            return
        fi
        DATABASES+=("$db")
        prefix=replicas-$$-$tag
        args=(--database-url "${ADMIN_URL%/*}/$db" --blob-url "s3://$FLAKINESS_TEST_S3_BUCKET/$prefix")
    fi
    if ! token=$("$FLAKINESS" serve --data "$state/r1" "${args[@]}" token create --project "$PROJECT" 2>"$TMP/token.err"); then
        echo "token create: $(tail -n 1 "$TMP/token.err")" >>"$TMP/$name.failed"
        return
    fi
    for ((n = 1; n <= replicas; n++)); do
        if ! start_replica "$LOGS/$tag-r$n.log" "$state/r$n" "${args[@]}"; then
            echo "replica $n did not start" >>"$TMP/$name.failed"
            stop_replicas
            return
        fi
    done
    for n in "${URLS[@]}"; do eps+=(--endpoint "$n"); done
    : >"$LOGS/$tag-rss.tsv"
    s3_0=$(cpu "$S3_PID")
    pg_0=$(pg_cpu)
    echo "$(date -u '+%F %T') UTC: $tag: $UPLOADS uploads at $CONCURRENCY over ${URLS[*]}" >&2
    FLAKINESS_ACCESS_TOKEN=$token /usr/bin/time -o "$TMP/time" -f '%e %U %S %M' \
        "$LOAD" upload-load --dir "$BASE_DIR" "${eps[@]}" --project "$PROJECT" \
        --uploads "$UPLOADS" --concurrency "$CONCURRENCY" --seed "$round" \
        >"$LOGS/$tag.json" 2>"$LOGS/$tag-load.log" &
    load=$!
    # The replicas' RSS every 10 s while the load runs (in bench/out/replicas/logs/).
    n=0
    while kill -0 "$load" 2>/dev/null; do
        sleep 1
        n=$((n + 1))
        [ $((n % 10)) -eq 0 ] && sample_rss "$n" "$LOGS/$tag-rss.tsv"
    done
    wait "$load"
    rc=$?
    # The runs the (last) replica lists: every upload must be there, through either replica.
    runs=$(curl -fs --max-time 120 "${URLS[-1]}/api/projects/$PROJECT/runs?limit=$((UPLOADS + 1000))" |
        grep -o '"uploadId":' | wc -l)
    for pid in "${PIDS[@]}"; do
        rss+=("$(hwm "$pid")")
        rcpu=$((rcpu + $(cpu "$pid")))
    done
    stop_replicas
    s3_1=$(cpu "$S3_PID")
    pg_1=$(pg_cpu)
    if [ "$rc" -ne 0 ] && [ ! -s "$LOGS/$tag.json" ]; then
        echo "upload-load: $(tail -n 1 "$LOGS/$tag-load.log")" >>"$TMP/$name.failed"
    else
        printf '%s %s %s %s %s %s %s %s %s | %s %s %s %s | %s\n' \
            "$(json uploadsPerSecond "$LOGS/$tag.json")" "$(json p50Ms "$LOGS/$tag.json")" \
            "$(json p95Ms "$LOGS/$tag.json")" "$(json maxMs "$LOGS/$tag.json")" \
            "$(json failed "$LOGS/$tag.json")" "$(json retries "$LOGS/$tag.json")" \
            "$(json alreadyUploaded "$LOGS/$tag.json")" "$runs" "$(IFS=/; echo "${rss[*]}")" \
            "$(awk -v t="$rcpu" -v k="$TICKS" 'BEGIN { printf "%.0f", t / k }')" \
            "$(awk '{ printf "%.0f", $2 + $3 }' "$TMP/time")" \
            "$(awk -v a="$s3_0" -v b="$s3_1" -v k="$TICKS" 'BEGIN { printf "%.0f", (b - a) / k }')" \
            "$(awk -v a="$pg_0" -v b="$pg_1" -v k="$TICKS" 'BEGIN { printf "%.0f", (b - a) / k }')" \
            "$(grep -o '"tenthsPerSecond":\[[^]]*\]' "$LOGS/$tag.json" | cut -d'[' -f2 | tr -d ']')" \
            >>"$TMP/$name.runs"
    fi
    # Fresh state for the next run, and the disk back.
    [ -n "$db" ] && drop_database "$db"
    [ -n "$prefix" ] && rm -rf "${FLAKINESS_TEST_S3_ROOT:?}/$FLAKINESS_TEST_S3_BUCKET/$prefix"
    rm -rf "$state"
}

STARTED=$(date -u '+%F %T')
for ((ROUND = 0; ROUND < RUNS; ROUND++)); do
    count=${#SCENARIO_LIST[@]}
    for ((i = 0; i < count; i++)); do
        run "${SCENARIO_LIST[$(((i + ROUND) % count))]}" "$((ROUND + 1))"
    done
done

# col SCENARIO N: the median of column N of its runs.
col() {
    cut -d' ' -f"$2" "$TMP/$1.runs" | median
}

echo "## replicas benchmark: $UPLOADS uploads of $(du -sb "$BASE_DIR/report.json" | awk '{ printf "%.2f", $1 / 1e6 }') MB report.json + $(find "$BASE_DIR/attachments" -type f | wc -l) attachments, $CONCURRENCY at a time, on loopback ($(nproc) CPUs, $STARTED to $(date -u '+%T') UTC, medians of $RUNS)"
echo
echo "| scenario | replicas | state | uploads/s | p50 | p95 | max | failed | retries | runs listed | peak RSS per replica | CPU s: replicas / client / s3s-fs / postgres |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
declare -A UPS=()
for s in one-local two-pg-s3 one-pg-s3; do
    case $s in
    one-local) label="1 | SQLite + local disk" ;;
    two-pg-s3) label="2 | PostgreSQL + S3 (s3s-fs)" ;;
    one-pg-s3) label="1 | PostgreSQL + S3 (s3s-fs)" ;;
    esac
    if [ -f "$TMP/$s.failed" ]; then
        printf '| %s | %s | n/a: %s | | | | | | | | |\n' "$s" "$label" "$(head -n 1 "$TMP/$s.failed")"
    fi
    [ -f "$TMP/$s.runs" ] || continue
    UPS[$s]=$(col "$s" 1)
    rss_median=$(cut -d' ' -f9 "$TMP/$s.runs" | awk -F/ '{ for (i = 1; i <= NF; i++) print i, $i }' |
        sort -k1,1n -k2,2n | awk '{ v[$1] = v[$1] " " $2; n = $1 } END {
            for (i = 1; i <= n; i++) { m = split(substr(v[i], 2), a, " "); out = out (i > 1 ? " / " : "") a[int((m + 1) / 2)] " MB" }
            print out }')
    printf '| %s | %s | %s | %s ms | %s ms | %s ms | %s | %s | %s | %s | %s / %s / %s / %s |\n' \
        "$s" "$label" "${UPS[$s]}" "$(col "$s" 2)" "$(col "$s" 3)" "$(col "$s" 4)" \
        "$(cut -d' ' -f5 "$TMP/$s.runs" | awk '{ s += $1 } END { print s }')" \
        "$(cut -d' ' -f6 "$TMP/$s.runs" | awk '{ s += $1 } END { print s }')" \
        "$(col "$s" 8)" "$rss_median" "$(col "$s" 11)" "$(col "$s" 12)" "$(col "$s" 13)" "$(col "$s" 14)"
done
ratio() {
    if [ -n "${UPS[$1]:-}" ] && [ -n "${UPS[$2]:-}" ]; then
        awk -v a="${UPS[$1]}" -v b="${UPS[$2]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
    else
        echo n/a
    fi
}
echo
echo "two-pg-s3 / one-local: $(ratio two-pg-s3 one-local); one-pg-s3 / one-local: $(ratio one-pg-s3 one-local); two-pg-s3 / one-pg-s3: $(ratio two-pg-s3 one-pg-s3) (uploads/s)"
echo
echo "Per run (uploads/s in each tenth of the run, in the order the uploads ended):"
echo
for s in one-local two-pg-s3 one-pg-s3; do
    [ -f "$TMP/$s.runs" ] || continue
    awk -v s="$s" '{ printf "- %s run %d: %s uploads/s, p50 %s ms, p95 %s ms, max %s ms, %s failed, %s retries, %s already uploaded, %s runs listed, peak RSS %s MB; by tenths: %s\n", s, NR, $1, $2, $3, $4, $5, $6, $7, $8, $9, $16 }' "$TMP/$s.runs"
done
