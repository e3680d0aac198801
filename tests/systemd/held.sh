# held.sh - client connections of every kind held open across a restart of
# hellod.service (a package upgrade: hellod(8), RESTART AND UPGRADE), and the
# check that none was closed and each got the reply to every message it sent
# exactly once, in order, in the greeting in force when it was answered.
# Sourced after tap.sh by package.sh. Plain bash (/dev/tcp), cat, head and
# awk: a minimal Debian has no python3.
#
#   held_open PORT OLD NEW   opens the connections (hellod answers OLD now,
#                            NEW after the restart) and checks the first replies
#   held_pipeline_while PID  pipelining rounds until process PID (the upgrade)
#                            has ended, then a few more
#   held_check MARK          after the restart: everything owed arrives, in
#                            order, nothing twice, nothing closed; the journal
#                            since MARK says how many were handed over

HELD_K=${HELD_K:-40} # connections of each kind: idle, mid-message, pipelining
HELD_SLOW=${HELD_SLOW:-4} # clients that have stopped reading, with replies owed
# Lines each of those sends and never reads the replies of until the end. The
# replies (18 bytes each) must be more than the kernel holds for one
# connection on loopback (its send buffer grows to tcp_wmem's 4 MB, the
# client's receive buffer takes about 1 MB): with 300,000 lines hellod itself
# still owes about 14,000 replies, and holds 90 kB of lines unread, when the
# stop comes. (With 2,000 every reply is already in the kernel's buffers.)
HELD_SLOW_LINES=${HELD_SLOW_LINES:-300000}
HELD_DEPTH=${HELD_DEPTH:-8} # lines a pipelining client sends before it reads
HELD_MSGID_HANDOVER=8d36923f45c5457387d0ec2e88ae93cf # systemd/hellod.catalog

held_idle=() held_part=() held_pipe=() held_slow=() held_writers=()
held_sent=() held_old=() held_new=() held_bad=() held_pause_us=0

held_mark() { echo "@$EPOCHREALTIME"; }
# held_read FD: one reply line, within 10 s, on stdout.
held_read() {
    local r=''
    IFS= read -r -t 10 r <&"$1" || return 1
    printf '%s' "$r"
}
held_writers_done() {
    local p
    for p in "${held_writers[@]}"; do kill -0 "$p" 2>/dev/null && return 1; done
    return 0
}

# held_queues FD PORT: "CLIENT_RX HELLOD_TX HELLOD_RX", the bytes the kernel
# holds for the connection on FD (the client's end, to 127.0.0.1, by its
# inode in /proc/net/tcp; hellod's end by the two ports, in /proc/net/tcp,
# or /proc/net/tcp6 when it listens on [::]).
held_queues() {
    local ino
    ino=$(readlink "/proc/self/fd/$1") && ino=${ino#socket:[} && ino=${ino%]}
    awk -v ino="$ino" -v lport="$(printf ':%04X' "$2")" '
        function q(s, i,   a) { split(s, a, ":"); return a[i] }
        function hex(s,   n, i) { n = 0; for (i = 1; i <= length(s); i++)
            n = n * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return n }
        FNR == 1 { f++ }
        f == 1 && $10 == ino { port = substr($2, length($2) - 4); crx = hex(q($5, 2)) }
        f > 1 && substr($2, length($2) - 4) == lport && substr($3, length($3) - 4) == port {
            stx = hex(q($5, 1)); srx = hex(q($5, 2)) }
        END { printf "%d %d %d", crx, stx, srx }' /proc/net/tcp /proc/net/tcp /proc/net/tcp6
}

held_open() { # PORT OLD NEW
    local port=$1 i fd opened=0 answered=0
    held_greet_old=$2 held_greet_new=$3
    ulimit -n 4096
    trap '' PIPE # a write to a connection hellod closed fails, and is counted
    yes x | head -n "$HELD_SLOW_LINES" >"$WORK/held-slow"
    for ((i = 0; i < HELD_K; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$port" && held_idle+=("$fd") && opened=$((opened + 1))
        printf 'idle %d\n' "$i" >&"$fd"
        [ "$(held_read "$fd")" = "$held_greet_old" ] && answered=$((answered + 1))
        exec {fd}<>"/dev/tcp/127.0.0.1/$port" && held_part+=("$fd") && opened=$((opened + 1))
        printf 'first\n' >&"$fd"
        [ "$(held_read "$fd")" = "$held_greet_old" ] && answered=$((answered + 1))
        printf 'half a mess' >&"$fd" # the rest comes after the restart
        exec {fd}<>"/dev/tcp/127.0.0.1/$port" && held_pipe+=("$fd") && opened=$((opened + 1))
        held_sent+=(0) held_old+=(0) held_new+=(0) held_bad+=(0)
    done
    for ((i = 0; i < HELD_SLOW; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$port" && held_slow+=("$fd") && opened=$((opened + 1))
        cat "$WORK/held-slow" >&"$fd" &
        held_writers+=($!)
    done
    expect "$opened connections open: $HELD_K idle, $HELD_K in the middle of a message, $HELD_K pipelining, $HELD_SLOW not reading" \
        $((3 * HELD_K + HELD_SLOW)) "$opened"
    expect "the idle and the mid-message ones answered in the greeting in force" $((2 * HELD_K)) "$answered"
    check "the $HELD_SLOW that do not read have sent their $HELD_SLOW_LINES lines each" \
        poll 60 held_writers_done
    held_pipeline_round
    # What hellod itself owes them is what it answered less what the kernel
    # holds on both ends: an estimate (lines hellod has read and not yet
    # answered count as answered), printed to show the case is exercised.
    local c t r owed=''
    for fd in "${held_slow[@]}"; do
        read -r c t r <<<"$(held_queues "$fd" "$port")"
        owed+=" $((HELD_SLOW_LINES - r / 2 - (c + t) / (${#held_greet_old} + 1)))"
    done
    echo "# before the upgrade, replies hellod itself owes each client that does not read, about:$owed"
}

# One round: each pipelining client sends HELD_DEPTH lines, then reads as
# many replies; each reply is the old greeting until the first new one.
held_pipeline_round() {
    local i j r fd t0=${EPOCHREALTIME/./} t
    for ((i = 0; i < ${#held_pipe[@]}; i++)); do
        fd=${held_pipe[i]}
        printf 'p\n%.0s' $(seq 1 "$HELD_DEPTH") >&"$fd" 2>/dev/null
        held_sent[i]=$((held_sent[i] + HELD_DEPTH))
        for ((j = 0; j < HELD_DEPTH; j++)); do
            r=$(held_read "$fd") || break
            if [ "$r" = "$held_greet_old" ] && [ "${held_new[i]}" = 0 ]; then
                held_old[i]=$((held_old[i] + 1))
            elif [ "$r" = "$held_greet_new" ]; then
                held_new[i]=$((held_new[i] + 1))
            else
                held_bad[i]=$((held_bad[i] + 1))
            fi
        done
    done
    t=$((${EPOCHREALTIME/./} - t0))
    [ "$t" -le "$held_pause_us" ] || held_pause_us=$t
}

held_pipeline_while() { # PID
    held_rounds=0
    while kill -0 "$1" 2>/dev/null; do
        held_pipeline_round
        held_rounds=$((held_rounds + 1))
    done
    for _ in 1 2 3; do held_pipeline_round; done
}

# held_end FD: the last exchange: a message, then one too long, which hellod
# answers with the error line and a close. Whatever else comes before the
# close (a reply twice, one left over) shows.
held_end() {
    printf 'last\n%02000d\n' 0 >&"$1" 2>/dev/null
    timeout 10 cat <&"$1"
}

held_check() { # MARK
    local mark=$1 fd i got out seen o nn b total=$((3 * HELD_K + HELD_SLOW)) closed=0
    local sent=0 old=0 new=0 bad=0 replies=$((2 * HELD_K))
    local want="$held_greet_new"$'\n''ERROR message too long'
    got=0
    for fd in "${held_idle[@]}"; do
        printf 'again\n' >&"$fd" 2>/dev/null
        [ "$(held_read "$fd")" = "$held_greet_new" ] && got=$((got + 1))
    done
    expect "the $HELD_K idle clients are answered, in the new greeting" "$HELD_K" "$got"
    replies=$((replies + got))
    got=0
    for fd in "${held_part[@]}"; do
        printf 'age\n' >&"$fd" 2>/dev/null # "half a message\n", begun before the upgrade
        [ "$(held_read "$fd")" = "$held_greet_new" ] && got=$((got + 1))
    done
    expect "the $HELD_K in the middle of a message get its one reply, in the new greeting" "$HELD_K" "$got"
    replies=$((replies + got))
    for ((i = 0; i < ${#held_pipe[@]}; i++)); do
        sent=$((sent + held_sent[i])) old=$((old + held_old[i])) new=$((new + held_new[i]))
        bad=$((bad + held_bad[i]))
    done
    expect "the $HELD_K pipelining clients: every reply once, in order (old greeting, then new; $held_rounds rounds during the upgrade)" \
        "$sent replies, 0 out of order" "$((old + new)) replies, $bad out of order"
    if [ "$old" -gt 0 ] && [ "$new" -gt 0 ]; then
        pass "... $old in the old greeting, $new in the new; the longest round across the upgrade: $((held_pause_us / 1000)) ms"
    else
        fail "... both greetings seen" "$old old, $new new"
    fi
    out=''
    for fd in "${held_slow[@]}"; do
        seen=$(timeout 30 head -n "$HELD_SLOW_LINES" <&"$fd" | awk -v o="$held_greet_old" -v n="$held_greet_new" '
            $0 == o && !nn { oo++; next } $0 == n { nn++; next } { bad++ }
            END { printf "%d %d %d", oo, nn, bad }')
        out+="$seen; "
        read -r o nn b <<<"$seen"
        old=$((old + o)) new=$((new + nn)) bad=$((bad + b))
        [ "$((o + nn))" = "$HELD_SLOW_LINES" ] && [ "$b" = 0 ] && [ "$o" -gt 0 ] || closed=$((closed + 1))
    done
    expect "the $HELD_SLOW that stopped reading get their $HELD_SLOW_LINES replies each, in order" "" \
        "$([ "$closed" = 0 ] || echo "old new wrong: $out")"
    closed=0
    for fd in "${held_idle[@]}" "${held_part[@]}" "${held_pipe[@]}" "${held_slow[@]}"; do
        [ "$(held_end "$fd")" = "$want" ] || closed=$((closed + 1))
        exec {fd}>&-
    done
    expect "0 of $total connections closed, no reply twice or left over" 0 "$closed"
    replies=$((replies + old + new + total - closed))
    echo "# upgrade: $total connections, $replies replies checked (pipelined and owed: $old in the old greeting, $new in the new), $closed closed"
    took() {
        journalctl -q --no-pager --since="$mark" -u hellod.service MESSAGE_ID=$HELD_MSGID_HANDOVER -o cat |
            grep -E "^took over $total connections .* \(0 closed"
    }
    if poll 10 took >/dev/null; then
        pass "the new hellod's journal line ($HELD_MSGID_HANDOVER): $(took)"
    else
        fail "the new hellod's journal line says it took over $total connections" \
            "$(journalctl -q --no-pager --since="$mark" -u hellod.service -o cat | tail -n 8)"
    fi
    expect_match "the old hellod handed $total over" "handed $total connections over" \
        "$(journalctl -q --no-pager --since="$mark" -u hellod.service -o cat)"
}
