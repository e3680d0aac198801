# tap.sh - what the container tests (e2e.sh, package.sh, notify-reload.sh)
# share: TAP lines, the closing count, polls with a deadline, a unit's state,
# and the journal since a mark. Sourced from
# the directory the test script is in.

passed=0 failed=0 n=0 todos=0 todos_passing=0

section() { printf '\n# %s\n' "$*"; }
pass() {
    n=$((n + 1)) passed=$((passed + 1))
    printf 'ok %d - %s\n' "$n" "$1"
}
# fail WHAT SAW: SAW is printed indented, one "#   saw: " line per line.
fail() {
    n=$((n + 1)) failed=$((failed + 1))
    printf 'not ok %d - %s\n' "$n" "$1"
    printf '%s\n' "${2:-(nothing)}" | head -n 30 | cut -c1-400 | sed 's/^/#   saw: /'
}
# todo WHAT WHY COMMAND...: a known bug, as TAP's "# TODO WHY": run and
# reported, but not counted as passed or failed. While COMMAND fails it is
# "not ok ... # TODO"; when it passes (fixed, or lucky) it says so, and the
# closing line counts it, so that the TODO is dropped with the fix.
todo() {
    local what=$1 why=$2
    shift 2
    n=$((n + 1))
    if "$@"; then
        todos_passing=$((todos_passing + 1))
        printf 'ok %d - %s # TODO %s\n' "$n" "$what" "$why"
        printf '#   a known bug passes now: if it is fixed, drop the TODO\n'
    else
        todos=$((todos + 1))
        printf 'not ok %d - %s # TODO %s\n' "$n" "$what" "$why"
    fi
}
# expect WHAT WANT GOT
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "'$3' (wanted '$2')"; fi
}
# expect_match WHAT EXTENDED-REGEX TEXT
expect_match() {
    if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "$3"; fi
}
# check WHAT COMMAND...: passes when COMMAND succeeds; shows its output if not.
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$what"; else fail "$what" "$out"; fi
}
# poll SECONDS COMMAND...: true as soon as COMMAND is, false at the deadline.
poll() {
    local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000))
    shift
    until "$@"; do
        [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}
state() { systemctl show -p ActiveState --value "$1"; }
is_active() { [ "$(state "$1")" = active ]; }
is_state() { [ "$(state "$1")" = "$2" ]; }
main_pid() { systemctl show -p MainPID --value hellod.service; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# The journal: a mark is "now"; later searches read only what journald got
# after it. (Not a cursor: on systemd 252, --after-cursor with matches skips
# the first match when the cursor's own entry does not match.)
mark() { echo "@$EPOCHREALTIME"; }
# journal_after MARK [journalctl ARGS...]
journal_after() {
    local since=$1
    shift
    journalctl -q --no-pager --since="$since" "$@"
}
