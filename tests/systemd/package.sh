#!/bin/bash
# package.sh - the Debian package of hellod under a real systemd: install,
# upgrade with an edited configuration and 10,000 clients connected
# (hold-kinds: none may notice), remove, purge, as an administrator does it
# with apt. Runs as root inside the container that tests/systemd/sandbox.sh
# boots (no network: hellod's dependencies,
# libsystemd0 and libinih1, are in its root file system); installed there as
# /root/hellod-package by `make check-package`, with the two packages beside
# it:
#
#   hellod-package FIRST.deb SECOND.deb
#
# SECOND is the same tree built with a higher version (the upgrade).
# Every step prints "ok N - what" or "not ok N - what", with what it saw when
# it fails; the last line is "N passed, N failed". Waits are polls with a
# deadline.
set -u
DEB1=${1:?usage: package.sh FIRST.deb SECOND.deb}
DEB2=${2:?usage: package.sh FIRST.deb SECOND.deb}
CONF=/etc/hellod.conf
PORT=8080
DEFAULT_GREETING='Hello from server'
NEW_GREETING='Hello from the edited configuration'
RELOADED_GREETING='Hello after systemctl reload'
HOLD_N=${HOLD_N:-10000} # connections held across the upgrade
MSGID_HANDOVER=8d36923f45c5457387d0ec2e88ae93cf # systemd/hellod.catalog
export DEBIAN_FRONTEND=noninteractive

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/hold.sh"
T0=$EPOCHREALTIME
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cli() { hello-cli -t 10s "$@" 2>&1; }
# Something listens on TCP port $PORT (any address, IPv4 or IPv6): state 0A.
listening() {
    awk -v p="$(printf ':%04X' "$PORT")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
        END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
not() { ! "$@"; }
no_hellod() { ! grep -qx hellod /proc/[0-9]*/comm 2>/dev/null; }
apt_install() { # the package files, as an administrator would, keeping edited conffiles
    apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "$@" \
        >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; return 1; }
}

section "a minimal Debian: no procps, so no /bin/kill"
# The package must need nothing but its Depends: the root file system has
# procps for the other tests, and removing it leaves what a minimal system
# (a container image) has.
if dpkg-query -W -f='${Status}' procps 2>/dev/null | grep -q 'ok installed'; then
    check "dpkg --remove procps" dpkg --remove procps
fi
check "no kill program anywhere (only bash's builtin)" \
    bash -c '! ls /bin/kill /usr/bin/kill /sbin/kill /usr/sbin/kill 2>/dev/null'

section "install $(basename "$DEB1") with apt ($(systemctl --version | head -n 1))"
cp "$DEB1" "$DEB2" "$WORK/"
check "apt-get install ./$(basename "$DEB1")" apt_install "$WORK/$(basename "$DEB1")"
expect "dpkg says it is installed" "install ok installed $(dpkg-deb -f "$DEB1" Version)" \
    "$(dpkg-query -W -f='${Status} ${Version}' hellod 2>&1)"
expect "$CONF is a conffile" "$CONF" "$(dpkg-query -W -f='${Conffiles}' hellod | awk '{ print $1 }')"
expect "hellod.socket is enabled" enabled "$(systemctl is-enabled hellod.socket 2>&1)"
expect "hellod.socket is active" active "$(systemctl is-active hellod.socket 2>&1)"
check "something listens on port $PORT" poll 5 listening
expect "hellod.service waits for the first client (socket activation)" inactive "$(state hellod.service)"
for u in hellod-inetd.socket hellod-metrics.socket; do
    expect "$u is not enabled" disabled "$(systemctl is-enabled $u 2>&1)"
done
# Not enabled itself: its [Install] section only says Also=hellod.socket.
expect "hellod.service is not enabled but through hellod.socket" indirect \
    "$(systemctl is-enabled hellod.service 2>&1)"
expect "hello-cli gets the greeting" "$DEFAULT_GREETING" "$(cli)"
# READY=1 follows the workers' start, and a client may be answered just
# before it: wait for the state, within a bound.
check "hellod.service is now active" poll 10 is_active hellod.service
pid1=$(main_pid)
check "journalctl knows hellod's catalog (systemd's trigger ran)" \
    bash -c 'journalctl --list-catalog 2>/dev/null | grep -q "hellod started"'
check "man hellod finds the page" bash -c 'man -w hellod.conf && man -w hellod'

section "edit $CONF, upgrade to $(basename "$DEB2") with $HOLD_N clients connected"
# hold-kinds (tests/systemd/hold-kinds.c) holds connections of every kind
# across the upgrade's restart: idle, in the middle of a message, in the
# middle of a PROXY header, after a PROXY v1 or v2 header, pipelining, not
# reading with replies owed; none may notice (hellod(8), RESTART AND
# UPGRADE). Their unfinished messages and headers must outlast the upgrade:
# message_timeout, idle_timeout, and no proxy_timeout of its own.
for kv in 'message_timeout = 10min' 'idle_timeout = 10min' 'proxy_protocol = any' \
    'proxy_from = 127.0.0.1 ::1' 'proxy_timeout = 0' "max_connections = $((HOLD_N + 100))"; do
    sed -i -E "s|^;?${kv%% = *} = .*|$kv|" "$CONF"
done
check "systemctl reload hellod (the PROXY protocol on, long timeouts)" systemctl reload hellod.service
sed -i -E "s|^;?greeting = .*|greeting = $NEW_GREETING|" "$CONF"
cp "$CONF" "$WORK/edited.conf"
socket_since=$(systemctl show -p ActiveEnterTimestampMonotonic --value hellod.socket)
# The running hellod still answers in the default greeting; the upgrade's
# restart puts the edited one in force.
hold_start "$WORK/hold.out" -p "$PORT" -n "$HOLD_N" -s 100 -P "$DEFAULT_GREETING" "$NEW_GREETING"
c=$(mark)
if apt_install "$WORK/$(basename "$DEB2")"; then pass "apt-get install ./$(basename "$DEB2") (an upgrade)"; else
    fail "apt-get install ./$(basename "$DEB2") (an upgrade)" "see above"; fi
took() {
    journalctl -q --no-pager --since="$c" -u hellod.service MESSAGE_ID=$MSGID_HANDOVER -o cat |
        grep -E "^took over ($HOLD_N|$((HOLD_N + 1))) connections .* \(0 closed"
}
if poll 30 took >/dev/null; then pass "the new hellod's journal line ($MSGID_HANDOVER): $(took)"; else
    fail "the new hellod's journal line says it took over $HOLD_N connections (and the one connecting)" \
        "$(journalctl -q --no-pager --since="$c" -u hellod.service -o cat | tail -n 8)"; fi
expect_match "the old hellod handed them over" "handed ($HOLD_N|$((HOLD_N + 1))) connections over" \
    "$(journalctl -q --no-pager --since="$c" -u hellod.service -o cat)"
check "the pipelining clients are answered in the edited greeting" poll 30 hold_answered 1
hold_finish
expect "dpkg says the new version is installed" \
    "install ok installed $(dpkg-deb -f "$DEB2" Version)" "$(dpkg-query -W -f='${Status} ${Version}' hellod 2>&1)"
check "the edited $CONF survived the upgrade" cmp "$WORK/edited.conf" "$CONF"
check "no $CONF.dpkg-* was left beside it" bash -c "! ls $CONF.dpkg-* 2>/dev/null"
# hello-cli sends no PROXY header: the protocol off again for what follows.
sed -i -E "s|^proxy_protocol = .*|proxy_protocol = no|" "$CONF"
cp "$CONF" "$WORK/edited.conf"
check "systemctl reload hellod (the PROXY protocol off)" systemctl reload hellod.service
expect "hellod.socket is still enabled" enabled "$(systemctl is-enabled hellod.socket 2>&1)"
expect "hellod.socket is still active" active "$(systemctl is-active hellod.socket 2>&1)"
# debian/rules: the upgrade restarts hellod.service only; a restart of the
# socket unit would close its listener and reset the queued connections.
expect "hellod.socket was not restarted by the upgrade (active since the same instant)" \
    "$socket_since" "$(systemctl show -p ActiveEnterTimestampMonotonic --value hellod.socket)"
expect "hello-cli gets the edited greeting" "$NEW_GREETING" "$(cli)"
pid2=$(main_pid)
if [ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ]; then
    pass "... from a new hellod (PID $pid1 before the upgrade, $pid2 after)"
else
    fail "... from a new hellod" "PID $pid1 before the upgrade, '$pid2' after"
fi

section "systemctl reload hellod after editing $CONF"
pid=$(main_pid)
sed -i -E "s|^;?greeting = .*|greeting = $RELOADED_GREETING|" "$CONF"
check "systemctl reload hellod" systemctl reload hellod.service
expect "the new greeting is in force as soon as it returns" "$RELOADED_GREETING" "$(cli)"
expect "the same hellod (PID $pid)" "$pid" "$(main_pid)"
sed -i -E "s|^;?max_message = .*|max_message = 0|" "$CONF"
line=$(grep -n '^max_message = ' "$CONF" | cut -d: -f1)
check "systemctl reload hellod with a broken $CONF fails" not systemctl reload hellod.service
# The journal may take a moment to file the line: poll.
status_shows() { systemctl status -l --no-pager -n 20 hellod.service 2>&1 | grep -Eq -- "$1"; }
check "systemctl status hellod names $CONF:$line" poll 10 status_shows "$CONF:$line: .*max_message"
expect "hellod.service stays active" active "$(state hellod.service)"
expect "the same hellod" "$pid" "$(main_pid)"
expect "the running greeting is still served" "$RELOADED_GREETING" "$(cli)"
cp "$WORK/edited.conf" "$CONF"
check "systemctl reload hellod with the mended $CONF" systemctl reload hellod.service
expect "the edited greeting is back" "$NEW_GREETING" "$(cli)"

section "apt-get remove hellod"
# As an administrator who turned metrics on: systemd gives a socket to a
# service only when it starts, so hellod.service is stopped first.
systemctl stop hellod.service
systemctl start hellod-metrics.socket hellod-inetd.socket
expect "hello-cli is answered, with hellod-metrics.socket and hellod-inetd.socket started too" \
    "$NEW_GREETING" "$(cli)"
check "apt-get remove hellod" bash -c 'apt-get remove -y -q hellod >'"$WORK"'/apt.log 2>&1 || { cat '"$WORK"'/apt.log; exit 1; }'
for u in hellod.socket hellod.service hellod-metrics.socket hellod-inetd.socket; do
    expect "$u is stopped" inactive "$(state $u)"
done
check "no hellod process is left" poll 5 no_hellod
check "nothing listens on port $PORT any more" poll 5 not listening
check "the programs are gone" bash -c '! ls /usr/sbin/hellod /usr/bin/hello-cli 2>/dev/null'
check "$CONF is kept until the purge" cmp "$WORK/edited.conf" "$CONF"

section "apt-get purge hellod"
check "apt-get purge hellod" bash -c 'apt-get purge -y -q hellod >'"$WORK"'/apt.log 2>&1 || { cat '"$WORK"'/apt.log; exit 1; }'
check "$CONF is gone" bash -c "! ls $CONF* 2>/dev/null"
expect "dpkg no longer knows hellod" "" "$(dpkg-query -W -f='${Status}' hellod 2>/dev/null)"
check "no symbolic link enables a hellod unit any more" \
    bash -c '! find /etc/systemd/system -name "hellod*" | grep .'

section "the end: $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s"
expect "no unit has failed" "" "$(systemctl --failed --no-legend --plain)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
