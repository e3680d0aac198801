#!/bin/bash
# handover-inner.sh - the inside of bench/handover: runs as root in the
# container that tests/systemd/sandbox.sh boots. See bench/handover.
set -u
HELLOD=${HELLOD:-/usr/local/sbin/hellod}
HELLO_CLI=${HELLO_CLI:-/usr/local/bin/hello-cli}
CONF=${HELLOD_CONF:-/usr/local/etc/hellod.conf}
MSGID_HANDOVER=8d36923f45c5457387d0ec2e88ae93cf
PORT=8080
PER_PROC=4000 # connections per hello-cli: under the 20,000 descriptors of a process
WORK=$(mktemp -d)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$WORK"' EXIT

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
now() { date +%s.%N; }
ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# poll SECONDS CMD...: until CMD succeeds, or fail after SECONDS.
poll() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.05
    done
}
journal_since() { journalctl -q --no-pager --since="$1" "${@:2}"; }
took_line() { journal_since "$1" -u hellod.service MESSAGE_ID=$MSGID_HANDOVER -o cat | grep -E "took over $2 connections"; }
main_pid() { systemctl show -p MainPID --value hellod.service; }

sed -i -E 's|^;?messages = .*|messages = no|' "$CONF"
sed -i -E 's|^;?level = .*|level = debug|' "$CONF"
# room for N = 10,000 and the probes beside them (the default is 10000)
sed -i -E 's|^;?max_connections = .*|max_connections = 10100|' "$CONF"
echo "# $(systemctl --version | head -n 1); $("$HELLOD" --version); $(nproc) CPUs"
echo "# hellod.service: FileDescriptorStoreMax=$(systemctl show -p FileDescriptorStoreMax --value hellod.service)" \
    "LimitNOFILE=$(systemctl show -p LimitNOFILESoft --value hellod.service):$(systemctl show -p LimitNOFILE --value hellod.service)"
systemctl start hellod.socket
"$HELLO_CLI" -t 10s >/dev/null

# hold_open N: N idle connections in processes of PER_PROC; waits until every
# process says it holds its share. Their pids in HOLDERS.
HOLDERS=()
hold_open() {
    local left=$1 k i=0
    HOLDERS=()
    while [ "$left" -gt 0 ]; do
        k=$((left < PER_PROC ? left : PER_PROC))
        "$HELLO_CLI" bench --hold "$k" -c 100 -d 1h -t 120s --json \
            >"$WORK/hold.$i.json" 2>"$WORK/hold.$i.err" &
        HOLDERS+=($!)
        left=$((left - k)) i=$((i + 1))
    done
    held_all() {
        local f
        for f in "$WORK"/hold.*.err; do [ -e "$f" ] && grep -q holding "$f" || return 1; done
    }
    poll 120 held_all
}

for N in $HANDOVER_N; do
    rm -f "$WORK"/hold.* "$WORK"/pipe.*
    systemctl restart hellod.service
    poll 10 "$HELLO_CLI" -t 10s >/dev/null
    # one pipelining client (16 in flight), the rest held idle
    "$HELLO_CLI" bench -c 1 -P 16 -d 1h -t 120s --json >"$WORK/pipe.json" 2>"$WORK/pipe.err" &
    pipe=$!
    t=$(now)
    if ! hold_open $((N - 1)); then
        echo "N=$N: could not open the connections: $(cat "$WORK"/hold.*.err | sort | uniq -c | head)"
        continue
    fi
    # held by the clients is not yet accepted by hellod: wait for that too
    accepted() { [ "$(ls /proc/"$(main_pid)"/fd | wc -l)" -gt "$N" ]; }
    poll 60 accepted
    echo "## N=$N: $N connections open in $(ms_since "$t") ms; hellod holds $(ls /proc/"$(main_pid)"/fd | wc -l) descriptors"
    for r in $(seq 1 "$HANDOVER_ROUNDS"); do
        c="@$EPOCHREALTIME"
        if [ "${HANDOVER_STRACE:-0}" = 1 ] && [ "$r" = 1 ]; then
            LD_LIBRARY_PATH=/usr/local/lib/handover /usr/local/lib/handover/strace -c -w -p 1 \
                -o "$WORK/strace1" &
            st=$!
            sleep 0.5
        fi
        t=$(now)
        systemctl restart hellod.service
        wall=$(ms_since "$t")
        if [ -n "${st:-}" ]; then
            poll 30 took_line "$c" "[0-9]+" >/dev/null
            kill -INT "$st"
            wait "$st"
            st=''
        fi
        if poll 60 took_line "$c" "[0-9]+" >/dev/null; then
            line=$(took_line "$c" "[0-9]+")
        else
            line="no handover line"
        fi
        echo "N=$N round $r: systemctl restart ${wall} ms; $line"
        # where the time went: the stop's and the start's lines, and PID 1's
        journal_since "$c" -u hellod.service -o short-monotonic |
            grep -E 'received SIG|a restart|handed|stopped after|Stopping|Stopped|Starting|Started|listening on|took over|cannot|full|Deactivated|[Ff]ailed|error|status=' | awk '!seen[$0]++ && n++ < 40' |
            sed 's/^/    /'
    done
    if [ -f "$WORK/strace1" ]; then
        echo "    PID 1 during round 1 (strace -c -w -p 1):"
        head -n 14 "$WORK/strace1" | sed 's/^/    /'
    fi
    kill -INT "$pipe"
    wait "$pipe"
    for p in "${HOLDERS[@]}"; do kill -USR1 "$p"; done
    for p in "${HOLDERS[@]}"; do wait "$p"; done
    echo "N=$N pipelining client: $(cat "$WORK/pipe.json")"
    awk '{
        if (match($0, /"replies":[0-9]+/)) r += substr($0, RSTART + 10, RLENGTH - 10)
        if (match($0, /"held":[0-9]+/)) h += substr($0, RSTART + 7, RLENGTH - 7)
        if (match($0, /"closed":[0-9]+/)) c += substr($0, RSTART + 9, RLENGTH - 9)
        if (match($0, /"errors":[0-9]+/)) e += substr($0, RSTART + 9, RLENGTH - 9)
    } END { printf "N=%s idle clients: %d held, %d answered after %s restarts, %d closed by hellod, %d errors\n", n, h, r, rounds, c, e }' \
        n="$N" rounds="$HANDOVER_ROUNDS" "$WORK"/hold.*.json
done
