#!/bin/bash
# notify-reload.sh - what systemd 253 and later change for hellod:
# Type=notify-reload, as an administrator would set it (a drop-in with
# Type=notify-reload and an empty ExecReload=, so that `systemctl reload
# hellod` is systemd's own SIGHUP, and its end hellod's RELOADING=1 ...
# READY=1), and the $FDSTORE that 254 sets itself (step 5). Runs as root inside
# the container of tests/systemd/sandbox.sh, as e2e.sh does; installed there
# as /root/hellod-notify-reload by make check-systemd (make
# check-systemd-next runs it under systemd from bookworm-backports). Under an
# older systemd it says so and passes.
#
# Environment: as e2e.sh's (HELLOD, HELLO_CLI, HELLOD_CONF).
set -u
HELLOD=${HELLOD:-/usr/local/sbin/hellod}
HELLO_CLI=${HELLO_CLI:-/usr/local/bin/hello-cli}
CONF=${HELLOD_CONF:-/usr/local/etc/hellod.conf}
MSGID_RELOAD_FAILED=53bd9cf9f6454e0f914cecbfdbcee0b4
PORT=8080
WORKERS=4
DROPIN=/run/systemd/system/hellod.service.d/50-notify-reload.conf

. "$(dirname "$0")/tap.sh"
T0=$(date +%s.%N)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; jobs -p | xargs -r kill 2>/dev/null' EXIT
cli() { "$HELLO_CLI" -t 10s 2>&1; }
set_key() { sed -i -E "s|^;?$1 = .*|$1 = $2|" "$CONF"; }
key_line() { grep -n -E "^$1 = " "$CONF" | cut -d: -f1; }
sub() { systemctl show -p SubState --value hellod.service; }

version=$(systemctl --version | awk 'NR == 1 { print $2 }')
section "Type=notify-reload under $(systemctl --version | head -n 1), $("$HELLOD" --version)"
if [ "${version%%[!0-9]*}" -lt 253 ]; then
    echo "# systemd $version has no Type=notify-reload (253 and later): nothing to test"
    echo "0 passed, 0 failed, 0 known bugs (TODO), 0 TODO passing"
    exit 0
fi

# ---------------------------------------------------------------------------
section "1. a drop-in: Type=notify-reload, ExecReload= empty"
cp "$CONF" "$WORK/hellod.conf" # put back at the end, for e2e.sh after us
set_key workers $WORKERS
mkdir -p "${DROPIN%/*}"
printf '[Service]\nType=notify-reload\nExecReload=\n' >"$DROPIN"
systemctl daemon-reload
out=$(systemctl start hellod.socket 2>&1)
expect "systemctl start hellod.socket" "" "$out"
expect "the first client starts hellod and is answered" "Hello from server" "$(cli)"
check "hellod.service is active" poll 10 is_active hellod.service
expect "systemd runs it as Type=notify-reload, reload signal SIGHUP, no ExecReload=" \
    "notify-reload 1 " "$(systemctl show -p Type --value hellod.service) \
$(systemctl show -p ReloadSignal --value hellod.service) \
$(systemctl show -p ExecReload --value hellod.service)"
out=$(systemd-analyze verify hellod.service 2>&1)
expect "systemd-analyze verify hellod.service with the drop-in: nothing to say" "" "$out"

# ---------------------------------------------------------------------------
section "2. systemctl reload: 0, and the new greeting in every worker when it returns"
pid=$(main_pid)
# Which workers hold the connections: each worker has an epoll instance of
# its own, whose fdinfo lists the descriptors it watches (tfd:); a connection
# is a socket established on port $PORT (/proc/net/tcp*, state 01). Prints
# how many each epoll instance that watches any holds.
per_worker() {
    local pid=$1
    {
        awk -v p=":$(printf %04X $PORT)" '$4 == "01" && substr($2, length($2) - 4) == p { print "ino", $10 }' \
            /proc/net/tcp /proc/net/tcp6
        ls -l "/proc/$pid/fd" | awk '$NF ~ /^socket:\[/ { i = $NF; gsub(/[^0-9]/, "", i); print "fd", $(NF - 2), i }'
        awk '$1 == "tfd:" { n = split(FILENAME, p, "/"); print "tfd", p[n], $2 }' "/proc/$pid"/fdinfo/* 2>/dev/null
    } | awk '$1 == "ino" { est[$2] = 1 } $1 == "fd" && ($3 in est) { conn[$2] = 1 }
             $1 == "tfd" && ($3 in conn) { n[$2]++ } END { for (e in n) printf "%d ", n[e] }'
}
# A worker blocked in epoll_wait() takes the next client (EPOLLEXCLUSIVE),
# the same one as long as it is idle; one busy answering is passed over.
# So clients come 32 at a time, each sending at once and read only after
# the last has connected, until every worker holds some (within 2,000).
ulimit -n 4096
exec {keep}<>/dev/tcp/127.0.0.1/$PORT # held across the reloads of step 3
held=() old=0 spread=''
while [ ${#held[@]} -lt 2000 ]; do
    batch=()
    for i in $(seq 1 32); do
        exec {fd}<>/dev/tcp/127.0.0.1/$PORT || break 2
        batch+=("$fd")
        printf 'before\n' >&"$fd"
    done
    for fd in "${batch[@]}"; do
        r=''
        IFS= read -r -t 10 r <&"$fd"
        [ "$r" = "Hello from server" ] && old=$((old + 1))
    done
    held+=("${batch[@]}")
    spread=$(per_worker "$pid")
    [ "$(wc -w <<<"$spread")" -ge $WORKERS ] && break
done
expect "${#held[@]} connections held open, each answered with the old greeting" "${#held[@]}" "$old"
expect "... and held by every worker (connections per worker: ${spread% })" $WORKERS "$(wc -w <<<"$spread")"
new="Hello under notify-reload $$"
set_key greeting "$new"
c=$(mark)
t=$(date +%s.%N)
out=$(systemctl reload hellod.service 2>&1)
rc=$? took=$(elapsed "$t")
expect "systemctl reload hellod exits 0 (took ${took}s)" 0 "$rc${out:+: $out}"
# No wait: systemd ends the reload job at hellod's READY=1, which follows
# every worker's acknowledgement of the new configuration.
for fd in "${held[@]}"; do printf 'after\n' >&"$fd"; done
for i in $(seq 1 $WORKERS); do cli >"$WORK/new-$i" & done
got=0
for fd in "${held[@]}"; do
    r=''
    IFS= read -r -t 10 r <&"$fd"
    [ "$r" = "$new" ] && got=$((got + 1))
done
expect "right after it returned, the ${#held[@]} held connections get the new greeting" "${#held[@]}" "$got"
wait
newcli=$(cat "$WORK"/new-* | sort | uniq -c | awk '{ $1 = $1; print }')
expect "... and $WORKERS new clients at once" "$WORKERS $new" "$newcli"
expect "the same hellod, active running" "$pid active running" \
    "$(main_pid) $(state hellod.service) $(sub)"
# reloads_logged MARK: how many reloads hellod logged, and systemd's last word.
reloads_logged() {
    journal_after "$1" -u hellod.service -o cat | awk -v conf="$CONF" '
        $0 == "reloaded " conf { n++ } /^Reloaded hellod.service/ { ok = "Reloaded" }
        /^Reload failed for hellod.service/ { ok = "Reload failed" } END { print n + 0, ok }'
}
expect "one reload by hellod (journal), and systemd's 'Reloaded hellod.service'" "1 Reloaded" \
    "$(reloads_logged "$c")"

# ---------------------------------------------------------------------------
section "3. a broken file: what systemctl reload says; hellod keeps the old one"
set_key max_message 0
line=$(key_line max_message)
c=$(mark)
out=$(systemctl reload hellod.service 2>&1)
rc=$?
# Type=notify-reload has no way to say that a reload failed: hellod sends
# READY=1 with the running configuration kept, and systemd ends the job.
expect "systemctl reload with a broken file exits 0 (notify-reload cannot fail it)" \
    0 "$rc${out:+: $out}"
failed() {
    journal_after "$c" -u hellod.service MESSAGE_ID=$MSGID_RELOAD_FAILED -o cat |
        grep -Eq "^reload failed, keeping the running configuration: $CONF:$line: .*max_message"
}
if poll 10 failed; then
    pass "the journal has 'reload failed, keeping the running configuration: $CONF:$line: ...'"
else
    fail "the journal has 'reload failed ... $CONF:$line: ...'" "$(journal_after "$c" -u hellod.service -o cat)"
fi
status_shows() { systemctl status -l --no-pager -n 20 hellod.service 2>&1 | grep -Eq -- "$1"; }
if poll 10 status_shows "$CONF:$line: .*max_message"; then
    pass "systemctl status hellod shows $CONF:$line"
else
    fail "systemctl status hellod shows $CONF:$line" "$(systemctl status -l --no-pager -n 20 hellod.service 2>&1)"
fi
expect "the same hellod, active running" "$pid active running" \
    "$(main_pid) $(state hellod.service) $(sub)"
expect "the running greeting is still served" "$new" "$(cli)"
printf 'still\n' >&"$keep"
r=''
IFS= read -r -t 10 r <&"$keep"
expect "... also on a connection held across both reloads" "$new" "$r"
set_key max_message 1024
out=$(systemctl reload hellod.service 2>&1)
expect "the mended file: systemctl reload exits 0" 0 "$?${out:+: $out}"
for fd in "${held[@]}" "$keep"; do exec {fd}>&-; done

# ---------------------------------------------------------------------------
section "4. Type=notify-reload with the shipped ExecReload= kept: two reloads, and a broken file fails"
# systemd sends the signal and runs ExecReload= both: hellod reloads once for
# each (hellod(8) says to empty ExecReload= with Type=notify-reload).
printf '[Service]\nType=notify-reload\n' >"$DROPIN"
systemctl daemon-reload
systemctl restart hellod.service
pid=$(main_pid)
set_key greeting "$new, twice"
c=$(mark)
out=$(systemctl reload hellod.service 2>&1)
expect "systemctl reload exits 0" 0 "$?${out:+: $out}"
expect "... and the new greeting is served" "$new, twice" "$(cli)"
two() { [ "$(reloads_logged "$c")" = "2 Reloaded" ]; }
poll 5 two
expect "hellod reloaded twice for it (systemd's SIGHUP and hellod --reload's)" "2 Reloaded" \
    "$(reloads_logged "$c")"
set_key max_message 0
c=$(mark)
out=$(systemctl reload hellod.service 2>&1)
rc=$?
if [ "$rc" != 0 ]; then pass "a broken file: systemctl reload fails (exit $rc)"; else
    fail "a broken file: systemctl reload fails" "exit 0: $out"; fi
said() { journal_after "$c" -u hellod.service -o cat | grep -Eq "$1"; }
for what in "^reload refused, .*$CONF:$line: " "^reload failed, keeping the running configuration: $CONF:$line: " \
    'Control process exited, code=exited, status=78'; do
    if poll 5 said "$what"; then pass "the journal has /$what/"; else
        fail "the journal has /$what/" "$(journal_after "$c" -u hellod.service -o cat)"; fi
done
expect "the same hellod, active running, serving the running greeting" \
    "$pid active running $new, twice" "$(main_pid) $(state hellod.service) $(sub) $(cli)"
set_key max_message 1024

# ---------------------------------------------------------------------------
section "5. \$FDSTORE: systemd $version sets it too; the unit's Environment= wins"
rm -f "$DROPIN"
systemctl daemon-reload
systemctl restart hellod.service
fdstore_env() { tr '\0' '\n' <"/proc/$(main_pid)/environ" | grep '^FDSTORE=' | tr '\n' ' '; }
max=$(systemctl show -p FileDescriptorStoreMax --value hellod.service)
expect "the shipped unit: hellod's environment has FDSTORE=FileDescriptorStoreMax ($max), once" \
    "FDSTORE=$max " "$(fdstore_env)"
# FileDescriptorStoreMax= alone does not reach hellod's environment, whose
# unit sets FDSTORE= for systemd 252; hellod counts with the size ExecStop=
# finds at the stop instead (e2e.sh, 16b).
printf '[Service]\nFileDescriptorStoreMax=0\n' >"$DROPIN"
systemctl daemon-reload
systemctl restart hellod.service
expect "a drop-in of FileDescriptorStoreMax=0 alone: hellod still has the unit's FDSTORE=20002" \
    "FDSTORE=20002 " "$(fdstore_env)"
# Both set to 0: no handover either, and nothing to correct at the stop.
printf '[Service]\nFileDescriptorStoreMax=0\nEnvironment=FDSTORE=0\n' >"$DROPIN"
systemctl daemon-reload
systemctl restart hellod.service
expect "with Environment=FDSTORE=0 beside it: FDSTORE=0" "FDSTORE=0 " "$(fdstore_env)"
exec {fd}<>/dev/tcp/127.0.0.1/$PORT
printf 'before\n' >&"$fd"
r=''
IFS= read -r -t 10 r <&"$fd"
c=$(mark)
systemctl restart hellod.service
IFS= read -r -t 10 _ <&"$fd" # EOF: status 1 (a timeout would be above 128)
rc=$?
exec {fd}>&-
expect "... then a restart answers and closes the connections (no handover)" "$new, twice 0 1" \
    "$r $(journal_after "$c" -u hellod.service -o cat | grep -c 'handing the connections over\|took over') $rc"
rm -f "$DROPIN"
systemctl daemon-reload

# ---------------------------------------------------------------------------
section "the end: $(elapsed "$T0")s"
systemctl stop hellod.service hellod.socket
rm -f "$DROPIN"
rmdir "${DROPIN%/*}" 2>/dev/null
systemctl daemon-reload
cp "$WORK/hellod.conf" "$CONF"
out=$(systemctl --failed --no-legend --plain)
expect "no unit has failed" "" "$out"
echo "$passed passed, $failed failed, $todos known bugs (TODO), $todos_passing TODO passing"
[ "$failed" = 0 ]
