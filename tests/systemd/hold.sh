# shellcheck shell=bash
# hold.sh - drives tests/systemd/hold-kinds (its own comment says what it
# holds and checks) from e2e.sh section 17 and package.sh. Sourced after
# tap.sh; hold-kinds is installed beside the scripts.
#
#   hold_start OUT ARG...   starts hold-kinds ARG... (output in OUT), and
#                           checks it holds them all within 120 s
#   hold_answered G         poll: its progress line shows a reply in greeting
#                           number G (0 the first given)
#   hold_finish             the end: every connection finishes; the checks

hold_start() { # OUT ARG...
    hold_out=$1
    shift
    : >"$hold_out" # there before the poll reads it
    "$(dirname "$0")/hold-kinds" "$@" >"$hold_out" 2>&1 &
    hold_pid=$!
    hold_holding() { grep -q '^holding' "$hold_out"; }
    if poll 120 hold_holding; then pass "hold-kinds: $(grep '^holding' "$hold_out"), each answered once"; else
        fail "hold-kinds holds its connections" "$(tail -n 5 "$hold_out")"; fi
}

# The last progress line is "replies TOTAL: G0 G1 ...; churn ...".
hold_answered() { # G
    tail -n 1 "$hold_out" | awk -v f=$(($1 + 3)) '$1 == "replies" && $f + 0 > 0 { ok = 1 } END { exit !ok }'
}

hold_finish() {
    local st result
    kill -USR1 "$hold_pid"
    wait "$hold_pid"
    st=$?
    result=$(sed -n '/^connections:/,$p' "$hold_out")
    echo "$result" | sed 's/^/# /'
    expect "hold-kinds: every reply exactly once, in order, in the greeting in force; none closed (exit status)" 0 "$st"
    expect "... no check failed" "" "$(grep '^FAIL' <<<"$result")"
}
