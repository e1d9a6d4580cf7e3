# What bench/analyze.sh and bench/upload.sh share; sourced, not run. Needs $TMP (a scratch
# folder) and GNU time at /usr/bin/time.

# median: the median of the numbers on stdin.
median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_measured TIMES SETUP CMD...: runs SETUP (a shell string, unmeasured) then CMD, once to
# warm up and TIMES times measured. Sets MEDIAN_WALL (s) and MEDIAN_RSS_MB, or FAILED to the
# last line CMD printed on stderr when it failed (then returns 1).
run_measured() {
    local times=$1 setup=$2 i walls=() rss=()
    shift 2
    FAILED=
    MEDIAN_WALL=0
    MEDIAN_RSS_MB=0
    for ((i = 0; i <= times; i++)); do
        if ! eval "$setup"; then
            FAILED="setup failed"
            return 1
        fi
        if ! /usr/bin/time -o "$TMP/time" -f '%e %M' "$@" >"$TMP/stdout" 2>"$TMP/stderr"; then
            FAILED=$(tail -n 1 "$TMP/stderr")
            return 1
        fi
        if [ "$i" -gt 0 ]; then
            walls+=("$(awk 'END { print $1 }' "$TMP/time")")
            rss+=("$(awk 'END { print $2 }' "$TMP/time")")
        fi
    done
    MEDIAN_WALL=$(printf '%s\n' "${walls[@]}" | median)
    MEDIAN_RSS_MB=$(printf '%s\n' "${rss[@]}" | median | awk '{ printf "%.0f", $1 / 1024 }')
}

# scratch: a new scratch folder $TMP, removed on exit, with the server $SERVER when one runs.
scratch() {
    TMP=$(mktemp -d)
    SERVER=
    trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
}

# start_server DATA: `flakiness serve` ($FLAKINESS) for the data folder DATA on a free port of
# 127.0.0.1; sets SERVER (its pid) and BASE (its URL), or returns 1.
start_server() {
    "$FLAKINESS" serve --data "$1" --bind 127.0.0.1:0 2>"$TMP/serve.log" &
    SERVER=$!
    for _ in $(seq 100); do
        grep -q 'http://' "$TMP/serve.log" 2>/dev/null && break
        sleep 0.1
    done
    BASE=$(grep -o 'http://[0-9.:]*' "$TMP/serve.log" | head -n 1)
    [ -n "$BASE" ]
}
