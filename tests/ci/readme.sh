#!/usr/bin/env bash
# readme.sh - the README's two commands, as a new user runs them: its run
# command (install, build in the source tree, run hellod) and its test
# command (bash .ci/run), one after the other in one clone, in both orders
# and twice. Both commands are read from README.md itself, so that the README
# stays their one source. .ci/run calls it after installing the packages;
# it speaks TAP, and every case counts in .ci/run's closing line.
#
#   tests/ci/readme.sh CLONE [SCRATCH]
#
# CLONE is the git clone to test (its working tree, edits included, is
# copied); SCRATCH the directory to work in (made afresh; default: a new one
# under /tmp, removed at the end). Installs nothing: the run command's
# apt-get part is not run, but every package it names must be installed.
# The test command runs as `bash .ci/run --configure-only` (every out-of-tree
# configure, no build, no tests: those are .ci/run's own steps). hellod runs
# in a network namespace of its own, on the README's port 8080, so it needs
# root (unshare --net); without, those cases are skipped, and say so.
set -uo pipefail

clone=$(cd "${1:?usage: readme.sh CLONE [SCRATCH]}" && pwd) || exit 2
scratch=${2:-}
readme=$clone/README.md
n=0 failed=0
jobs=$(nproc 2>/dev/null || echo 2)

ok() { n=$((n + 1)) && echo "ok $n - $*"; }
not_ok() { n=$((n + 1)) failed=$((failed + 1)) && echo "not ok $n - $*"; }
skip() { n=$((n + 1)) && echo "ok $n - $1 # SKIP $2"; }
note() { sed 's/^/# /'; }
# check NAME COMMAND...: one case, the command's output shown when it fails
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name"; else
        not_ok "$name"
        tail -n 30 <<<"$out" | note
        return 1
    fi
}
bail() { echo "Bail out! $*"; echo "1..$n"; exit 1; }

# --- the two commands, from README.md ------------------------------------------
# The lines of the Nth ```sh block under the heading "## SECTION".
sh_block() {
    awk -v section="## $1" -v want="$2" '
        /^## / { in_section = ($0 == section) }
        in_section && /^```sh$/ { if (++seen == want) { on = 1; next } }
        on && /^```$/ { exit }
        on { print }' "$readme"
}
run_cmd=$(sh_block "Run it" 1)
client_cmd=$(sh_block "Run it" 2)
test_cmd=$(sh_block "Test it" 1)
# The run command: apt-get update && apt-get install -y PKG... && BUILD... && DAEMON
IFS=$'\n' read -r -d '' -a parts < <(sed 's/ && /\n/g' <<<"$run_cmd" && printf '\0')
if [ ${#parts[@]} -lt 4 ] || [ "${parts[0]}" != "apt-get update" ] ||
    [[ ${parts[1]} != "apt-get install -y "* ]] || [ -z "$client_cmd" ] ||
    [ "$(wc -l <<<"$run_cmd")" != 1 ] || [ "$test_cmd" != "bash .ci/run" ]; then
    not_ok "README.md has its run command (apt-get update && apt-get install -y ... && build && run), its client command and its test command"
    printf 'run: %s\nclient: %s\ntest: %s\n' "$run_cmd" "$client_cmd" "$test_cmd" | note
    bail "cannot read the README's commands"
fi
ok "README.md: run command, client command '$client_cmd', test command '$test_cmd'"
read -r -a run_packages <<<"${parts[1]#apt-get install -y }"
daemon_cmd=${parts[-1]}
build_cmd=$(printf '%s && ' "${parts[@]:2:${#parts[@]}-3}")
build_cmd=${build_cmd% && }

# --- the machine ------------------------------------------------------------------
# The packages the run command installs are there (.ci/run installed them,
# or the test is run where the README's command ran).
missing=()
for p in "${run_packages[@]}"; do
    dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then ok "every package of the run command is installed: ${run_packages[*]}"
else not_ok "packages of the run command not installed: ${missing[*]}"; fi
# .ci/run installs debian/control's Build-Depends: they are all satisfied.
check "debian/control's Build-Depends are installed (dpkg-checkbuilddeps)" \
    bash -c 'cd "$1" && dpkg-checkbuilddeps' _ "$clone"

# --- a clone, as a user has it ---------------------------------------------------------
if [ -z "$scratch" ]; then
    scratch=$(mktemp -d /tmp/hellod-readme.XXXXXX) || bail "cannot make a scratch directory"
    trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
fi
[ ! -e "$scratch" ] || { chmod -R u+w "$scratch" && rm -rf "$scratch"; } || bail "cannot remove $scratch"
work=$scratch/hellod
# The working tree as git sees it (edits and new files, not ignored ones),
# committed in a new repository: a clone of what is being tested.
make_clone() {
    mkdir -p "$work" && cd "$clone" &&
        git -c safe.directory="$clone" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
            tar -cf - --null --no-recursion -T - | tar -C "$work" -xf - &&
        cd "$work" && git init -q && git add -A &&
        git -c user.name=readme.sh -c user.email=readme.sh@localhost commit -q -m "the tree under test"
}
check "a scratch clone of $clone in $work" make_clone || bail "no scratch clone"
cd "$work" || bail "no $work"

# The make the README runs, on every CPU: the same build, sooner.
export MAKEFLAGS=-j$jobs

# serve NAME: the daemon as the run command starts it, in a network namespace
# of its own; the client command gets the greeting; Ctrl-C (SIGINT) stops it
# with status 0.
serve() {
    if [ "$(id -u)" != 0 ] || ! unshare --net true 2>/dev/null; then
        skip "$1" "needs root, for a network namespace of its own (unshare --net)"
        return
    fi
    check "$1" unshare --net bash -c '
        set -m  # hellod gets SIGINT as from a terminal, not ignored as a background job
        ip link set lo up || exit 1
        '"$daemon_cmd"' >hellod.out 2>&1 &
        pid=$!
        for ((i = 0; i < 300; i++)); do  # README: "listening on port 8080"
            (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
            kill -0 $pid 2>/dev/null || { cat hellod.out; echo "hellod exited"; exit 1; }
            sleep 0.1
        done
        reply=$('"$client_cmd"' 2>&1)
        kill -INT $pid
        wait $pid
        status=$?
        cat hellod.out && rm -f hellod.out
        echo "client: $reply; hellod exit status after SIGINT: $status"
        [ "$reply" = "Hello from server" ] && [ $status = 0 ]'
}

# A listing of the tree outside _build (directories; files with their size
# and time of change): what the test command must leave as it is.
listing() {
    find . \( -path ./_build -o -path ./.git \) -prune -o \
        \( -type d -printf '%p/\n' \) -o -printf '%p %s %T@\n' | sort
}

# --- order 1: the run command, then the test command, twice, then the run command -------
check "run command, build: $build_cmd" bash -c "$build_cmd" || bail "the run command's build failed"
serve "run command: '$daemon_cmd' serves, '$client_cmd' prints 'Hello from server', Ctrl-C stops it (0)"
untracked=$(git status --porcelain --untracked-files=all)
if [ -z "$untracked" ]; then ok "the in-tree build leaves no file that git neither tracks nor ignores"
else not_ok "the in-tree build leaves files git does not ignore (.gitignore)"; note <<<"$untracked"; fi
before=$(listing)
check "test command after the run command: '$test_cmd --configure-only' configures out of tree" \
    bash -c "$test_cmd --configure-only"
check "test command again: '$test_cmd --configure-only' a second time" \
    bash -c "$test_cmd --configure-only"
after=$(listing)
if [ "$before" = "$after" ]; then ok "the test command left the in-tree build as it was (it wrote only _build/)"
else not_ok "the test command changed the tree outside _build/"; diff <(echo "$before") <(echo "$after") | head -n 20 | note; fi
check "run command after the test command: $build_cmd" bash -c "$build_cmd"
serve "run command after the test command: hellod serves and stops again"

# --- order 2: the test command first, in a fresh clone -------------------------------------
cd "$scratch" && rm -rf "$work" || bail "cannot remove $work"
check "a second scratch clone" make_clone || bail "no second scratch clone"
cd "$work" || bail "no $work"
check "test command first, in a fresh clone: '$test_cmd --configure-only'" \
    bash -c "$test_cmd --configure-only"
check "run command after it: $build_cmd" bash -c "$build_cmd"
serve "run command after the test command in a fresh clone: hellod serves and stops"

echo "1..$n"
[ $failed = 0 ]
