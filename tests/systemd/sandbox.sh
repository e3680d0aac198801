#!/bin/bash
# sandbox.sh - boot a real systemd, as PID 1, in a throwaway systemd-nspawn
# container made from a Debian bookworm root file system, run one command in
# it, and tear it all down. Used by `make check-systemd` (see README here).
#
#   sandbox.sh preflight                 say what this machine lacks; exit 1 if anything
#   sandbox.sh rootfs                    build the cached root file system unless it exists
#   sandbox.sh run [--timeout SECONDS] DIR COMMAND [ARG]...
#                                        boot a container whose / is the cached root file
#                                        system with DIR copied over it, run COMMAND in it
#                                        as root, print its output, exit with its status
#                                        (124: timed out; 125: the sandbox itself failed)
#
# Runs as root on a Debian 12 host, which need not run systemd itself.
# Needs systemd-nspawn (systemd-container), debootstrap (for the first build
# only), util-linux's unshare and nsenter, procps's pgrep, and from the
# machine what `preflight` checks (README here); installs nothing.
# The root file system is built once, from the Debian mirror the host's apt
# uses, and cached under /var/cache/hellod-e2e (HELLOD_E2E_CACHE=DIR to move
# it; delete the directory to rebuild). Each run works on an overlay in a
# directory of its own under /var/tmp, inside a private mount namespace, and
# the container has a private network with only "lo".
set -uo pipefail

SUITE=bookworm
# systemd, systemd-sysv, dbus: a bootable minbase; procps: pgrep for the
# tests (package.sh removes it: hellod's unit needs no /bin/kill); man-db:
# for systemd-analyze verify to find the Documentation=
# pages; libinih1: what hellod links besides libc and libsystemd0.
PACKAGES=systemd,systemd-sysv,dbus,procps,man-db,libinih1
RECIPE=1 # bump when the customisation below changes: it is part of the cache key
CACHE=${HELLOD_E2E_CACHE:-/var/cache/hellod-e2e}
KEY=$(printf '%s %s %s' "$RECIPE" "$SUITE" "$PACKAGES" | sha256sum | cut -c1-10)
ROOTFS=$CACHE/rootfs-$SUITE-$KEY
# HELLOD_E2E_SYSTEMD=backports: the same root file system with systemd from
# $SUITE-backports (254 in Debian 12's), to test the units under the systemd
# to come; cached apart. BACKPORTED: what is upgraded from there (what a
# minbase with systemd has of systemd's source package).
BACKPORTED='systemd systemd-sysv libsystemd0 libsystemd-shared libudev1'
case ${HELLOD_E2E_SYSTEMD:-} in
'') ;;
backports)
    KEY=$(printf '%s %s' "$KEY" "$BACKPORTED" | sha256sum | cut -c1-10)
    ROOTFS=$CACHE/rootfs-$SUITE-backports-$KEY
    ;;
*)
    echo "sandbox: error: HELLOD_E2E_SYSTEMD=${HELLOD_E2E_SYSTEMD}: only 'backports' or nothing" >&2
    exit 125
    ;;
esac
WORKROOT=/var/tmp
BUILD_TIMEOUT=400   # debootstrap: about a minute on a good mirror
BOOT_TIMEOUT=60     # until systemctl is-system-running answers: about a second
HALT_TIMEOUT=20     # a clean poweroff: well under a second
IN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SELF=$(readlink -f "$0")

say() { printf 'sandbox: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 125; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# --- what the machine must have ----------------------------------------------
# Every need is checked here, before anything is built or booted, and each
# one missing is named with what to do: make check-systemd and make
# check-package call this first and fail with its list.
preflight() {
    local lack=() c cap free
    [ "$(id -u)" = 0 ] || lack+=("root: run it as root (it mounts, and boots a container)")
    for c in systemd-nspawn:systemd-container unshare:util-linux nsenter:util-linux \
        mountpoint:util-linux flock:util-linux pgrep:procps pkill:procps tar:tar \
        timeout:coreutils sha256sum:coreutils awk:mawk; do
        command -v "${c%%:*}" >/dev/null || lack+=("${c%%:*}: apt-get install ${c#*:}")
    done
    if [ ! -f "$ROOTFS/.complete" ]; then
        command -v debootstrap >/dev/null ||
            lack+=("debootstrap, to build the root file system once: apt-get install debootstrap")
        [ -n "${HELLOD_E2E_MIRROR:-}" ] || apt_mirror >/dev/null ||
            lack+=("a Debian mirror for $SUITE in /etc/apt/sources.list*, or HELLOD_E2E_MIRROR=URL")
        free=$(df -Pk "$(existing_parent "$CACHE")" 2>/dev/null | awk 'NR == 2 { print $4 }')
        [ "${free:-0}" -ge 1048576 ] || lack+=("1 GB free for the root file system in $CACHE (HELLOD_E2E_CACHE=DIR)")
    fi
    free=$(df -Pk "$WORKROOT" 2>/dev/null | awk 'NR == 2 { print $4 }')
    [ "${free:-0}" -ge 262144 ] || lack+=("256 MB free in $WORKROOT, for each run's overlay")
    # The rest can only be probed as root, with the commands above.
    if [ ${#lack[@]} = 0 ]; then
        # Capabilities (a root in a container may lack them): namespaces and
        # mounts need CAP_SYS_ADMIN; the container's own loopback ("lo" in
        # --private-network) needs CAP_NET_ADMIN, or every test there finds
        # the network unreachable.
        cap=$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
        (((16#${cap:-0} >> 21) & 1)) || lack+=("CAP_SYS_ADMIN, for mounts and namespaces (a container run with more privilege)")
        (((16#${cap:-0} >> 12) & 1)) || lack+=("CAP_NET_ADMIN, for the loopback of the container's private network")
        # A root of its own, not a chroot. In a chroot whose root is no mount
        # point the run's private mount namespace fails ("cannot change root
        # filesystem propagation"); in any chroot the kernel refuses new user
        # namespaces (EPERM), which hellod.service's PrivateUsers= needs in
        # the container: systemd fails it with 217/USER at every start.
        if (((16#${cap:-0} >> 21) & 1)); then
            unshare --mount --propagation private true 2>/dev/null ||
                lack+=("a root directory that is a mount point, for a private mount namespace (not a chroot)")
            c=$(unshare --user true 2>&1) ||
                lack+=("user namespaces, for PrivateUsers= in hellod.service (${c#unshare: }): not in a chroot, whose root is not its mount namespace's (enter a root file system with pivot_root or systemd-nspawn instead), and /proc/sys/user/max_user_namespaces above 0")
        fi
    fi
    if [ ${#lack[@]} = 0 ]; then
        # cgroups as nspawn will get them, in a private mount namespace; and
        # bpf(2), without which systemd silently ignores IPAddressDeny=.
        c=$(unshare --mount --propagation private -- bash "$SELF" __probe_cgroups 2>&1) ||
            lack+=("cgroups for the container: ${c:-the probe failed} (a writable /sys/fs/cgroup with cgroup2, or the right to mount it)")
        c=$(probe_bpf 2>&1) ||
            lack+=("bpf(2) cgroup programs, for IPAddressDeny= in the container: $c")
    fi
    [ ${#lack[@]} = 0 ] && return 0
    say "the container checks (make check-systemd, make check-package) cannot run on this machine; it lacks:"
    printf '  - %s\n' "${lack[@]}" >&2
    return 1
}

existing_parent() { # the directory, or its nearest parent that exists
    local d=$1
    until [ -d "$d" ]; do d=$(dirname "$d"); done
    echo "$d"
}

# In a private mount namespace: mount what nspawn needs, as a run does, and
# make and remove a cgroup in each hierarchy.
probe_cgroups() {
    local d
    ensure_cgroups
    mapfile -t probe < <(run_cgroups "preflight-$$")
    [ ${#probe[@]} -gt 0 ] || die "no cgroup hierarchy to run in"
    for d in "${probe[@]}"; do
        mkdir -p "$d" || die "cannot create the cgroup $d"
        rmdir "$d" 2>/dev/null # not hellod-e2e/: a run may be making its cgroup there
    done
    return 0
}

# Load a minimal cgroup/skb BPF program (return 1) as systemd does to see
# whether it can filter by IP address: the kernel needs CONFIG_CGROUP_BPF,
# and no seccomp filter may refuse bpf(2).
probe_bpf() {
    command -v python3 >/dev/null || { echo "python3 is needed to check: apt-get install python3"; return 1; }
    python3 - <<'PY'
import ctypes, os, platform, struct, sys
# bpf(2)'s number: there is no libc wrapper.
nr = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "s390x": 351, "ppc64le": 361,
      "armv7l": 386, "armv6l": 386, "i686": 357, "i386": 357}.get(platform.machine())
if nr is None:
    sys.exit(0)  # an architecture not listed here: left to systemd to find out
BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_SKB = 5, 8
insns = ctypes.create_string_buffer(struct.pack("=BBhiBBhi", 0xb7, 0, 0, 1, 0x95, 0, 0, 0))
lic = ctypes.create_string_buffer(b"GPL")
attr = ctypes.create_string_buffer(struct.pack("=IIQQ", BPF_PROG_TYPE_CGROUP_SKB, 2,
    ctypes.addressof(insns), ctypes.addressof(lic)).ljust(128, b"\0"), 128)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
fd = libc.syscall(ctypes.c_long(nr), ctypes.c_int(BPF_PROG_LOAD), attr, ctypes.c_uint(128))
if fd < 0:
    print("bpf(BPF_PROG_LOAD) failed: " + os.strerror(ctypes.get_errno()))
    sys.exit(1)
os.close(fd)
PY
}

# --- the root file system, built once -----------------------------------------
# The first mirror of $SUITE in the host's apt sources: deb822 files, then
# one-line ones.
apt_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            function end() { if (deb && has && uri != "" && on && !done) { print uri; done = 1 } deb = has = 0; uri = ""; on = 1 }
            BEGIN { on = 1 }
            /^[ \t]*$/ { end(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "types:"   { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
            tolower($1) == "uris:"    { uri = $2 }
            tolower($1) == "suites:"  { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
            tolower($1) == "enabled:" { on = tolower($2) != "no" }
            END { end() }' "$f" | grep . && return 0
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                          if ($(i + 1) == suite) { print $i; exit } }' "$f" | grep . && return 0
    done
    return 1
}

# Make the debootstrapped tree boot quietly in a container and hold nothing
# of this host's (hostname, mirror).
customise() {
    local r=$1 u
    echo hellod-e2e >"$r/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\thellod-e2e\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
    : >"$r/etc/resolv.conf"
    # Nothing may wait on the console (nspawn's stdin), or prompt.
    rm -f "$r"/etc/systemd/system/getty.target.wants/* "$r"/etc/systemd/system/timers.target.wants/*
    for u in console-getty.service systemd-firstboot.service; do
        ln -sf /dev/null "$r/etc/systemd/system/$u"
    done
    mkdir -p "$r/etc/systemd/journald.conf.d" "$r/etc/systemd/system.conf.d"
    printf '[Journal]\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/50-e2e.conf"
    printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >"$r/etc/systemd/system.conf.d/50-e2e.conf"
    rm -f "$r/etc/apt/sources.list" "$r/var/log/bootstrap.log"
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* \
        "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/*
}

build_rootfs() {
    [ -f "$ROOTFS/.complete" ] && return 0
    mkdir -p "$CACHE" || die "cannot create $CACHE"
    exec 8>"$CACHE/.lock"
    flock 8 # one build at a time; a second caller finds it done
    if [ -f "$ROOTFS/.complete" ]; then
        exec 8>&-
        return 0
    fi
    command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
    local mirror t0 log=$CACHE/debootstrap.log
    mirror=${HELLOD_E2E_MIRROR:-$(apt_mirror)} ||
        die "no Debian mirror for $SUITE in /etc/apt/sources.list*; set HELLOD_E2E_MIRROR=URL"
    t0=$(now)
    say "building the $SUITE root file system once, into $ROOTFS (mirror $mirror)"
    rm -rf "$ROOTFS.new"
    if ! timeout "$BUILD_TIMEOUT" debootstrap --variant=minbase --include="$PACKAGES" \
        "$SUITE" "$ROOTFS.new" "$mirror" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -rf "$ROOTFS.new"
        die "debootstrap failed or took over ${BUILD_TIMEOUT}s (log: $log)"
    fi
    if [ -n "${HELLOD_E2E_SYSTEMD:-}" ]; then
        say "upgrading $BACKPORTED from $SUITE-backports"
        if ! timeout "$BUILD_TIMEOUT" unshare --mount --propagation private -- bash "$SELF" \
            __backports "$ROOTFS.new" "$mirror" >>"$log" 2>&1; then
            tail -n 30 "$log" >&2
            rm -rf "$ROOTFS.new"
            die "the upgrade from $SUITE-backports failed (log: $log)"
        fi
    fi
    customise "$ROOTFS.new"
    touch "$ROOTFS.new/.complete"
    mv "$ROOTFS.new" "$ROOTFS"
    exec 8>&-
    say "root file system ready in $(since "$t0") ($(du -sh "$ROOTFS" | cut -f1))"
}

# In a private mount namespace: apt in the new tree (with its own /proc)
# takes $BACKPORTED from $SUITE-backports; what else they need comes along.
backports() {
    local r=$1 mirror=$2
    echo "deb $mirror $SUITE-backports main" >"$r/etc/apt/sources.list.d/backports.list"
    mount -t proc proc "$r/proc" || return 1
    chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get -q update || return 1
    # shellcheck disable=SC2086 # a list of packages
    chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends \
        -t "$SUITE-backports" install $BACKPORTED || return 1
    chroot "$r" dpkg-query -W $BACKPORTED
    chroot "$r" apt-get clean # its package caches: a third of the tree
    rm -f "$r/etc/apt/sources.list.d/backports.list"
}

# --- one run --------------------------------------------------------------------
W='' ID='' NSPAWN='' INIT='' CMD='' WATCH='' CGROUPS=()

# nspawn needs the name=systemd cgroup hierarchy next to a cgroup2 one (the
# container gets a pure cgroup2 view, see below); a host whose init is not
# systemd may lack either. Mounted in our own mount namespace only.
ensure_cgroups() {
    [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && return 0
    if ! mountpoint -q /sys/fs/cgroup/systemd; then
        mkdir -p /sys/fs/cgroup/systemd
        mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd ||
            die "cannot mount the name=systemd cgroup hierarchy"
    fi
    if ! mountpoint -q /sys/fs/cgroup/unified; then
        mkdir -p /sys/fs/cgroup/unified
        mount -t cgroup2 none /sys/fs/cgroup/unified || die "cannot mount a cgroup2 hierarchy"
    fi
}

# Each run's nspawn lives in a cgroup of its own in every hierarchy: without
# a host systemd, nspawn leaves its payload/ and supervisor/ cgroups behind,
# and a container orphaned by a killed nspawn can still be found and killed.
run_cgroups() {
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        echo "/sys/fs/cgroup/hellod-e2e/$1"
        return
    fi
    local base
    for base in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
        mountpoint -q "$base" && echo "$base/hellod-e2e/$1"
    done
}

kill_cgroups() {
    local d p i left
    for d in "$@"; do
        [ -d "$d" ] || continue
        if [ -f "$d/cgroup.kill" ]; then
            echo 1 >"$d/cgroup.kill" 2>/dev/null
        else
            find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null |
                while read -r p; do kill -KILL "$p" 2>/dev/null; done
        fi
    done
    for ((i = 0; i < 50; i++)); do
        left=0
        for d in "$@"; do
            [ -d "$d" ] || continue
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
            [ -d "$d" ] && left=1
        done
        [ $left = 0 ] && return 0
        sleep 0.1
    done
    say "warning: could not remove $*"
}

# Leftovers of runs whose sandbox.sh was killed with SIGKILL.
reap_stale() {
    local d owner
    for d in "$WORKROOT"/hellod-e2e.*; do
        [ -f "$d/owner" ] || continue
        owner=$(cat "$d/owner")
        kill -0 "$owner" 2>/dev/null && continue
        say "removing the leftovers of an earlier run: $d"
        mapfile -t stale < <(run_cgroups "e2e-${d##*.}")
        kill_cgroups "${stale[@]}"
        mountpoint -q "$d/root" && umount -l "$d/root"
        rm -rf --one-file-system "$d"
    done
}

# -r -w: the container's root and working directory. Entering its mount
# namespace alone gives the root of that namespace, which on a host that is
# itself a chroot is not the container's (seen: the machine's own), and
# systemctl there, finding itself in a chroot, says "offline".
in_container() {
    nsenter -t "$INIT" -a -r -w env -i PATH=$IN_PATH HOME=/root LANG=C.UTF-8 TERM=dumb \
        SYSTEMD_PAGER=cat "$@"
}

teardown() {
    set +e
    local i t0
    t0=$(now)
    [ -n "$WATCH" ] && kill "$WATCH" 2>/dev/null
    # A command still running (we were interrupted): end it from inside, and
    # keep nsenter running so that it reaps its child. nsenter copies a stop
    # of its child onto itself, and systemd-shutdown stops every process.
    if [ -n "$CMD" ] && kill -0 "$CMD" 2>/dev/null; then
        pkill -TERM -P "$CMD"
        pkill -CONT -P "$CMD"
        for ((i = 0; i < 50; i++)); do
            kill -0 "$CMD" 2>/dev/null || break
            [ $i = 30 ] && pkill -KILL -P "$CMD"
            kill -CONT "$CMD" 2>/dev/null
            sleep 0.1
        done
    fi
    if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
        kill -TERM "$NSPAWN" # nspawn asks the container's systemd to power off
        for ((i = 0; i < HALT_TIMEOUT * 10; i++)); do
            kill -0 "$NSPAWN" 2>/dev/null || break
            [ -n "$CMD" ] && kill -CONT "$CMD" 2>/dev/null
            sleep 0.1
        done
        if kill -0 "$NSPAWN" 2>/dev/null; then
            say "warning: the container did not power off in ${HALT_TIMEOUT}s; killing it"
            kill -KILL "$NSPAWN"
        fi
        wait "$NSPAWN" 2>/dev/null
    fi
    if [ ${#CGROUPS[@]} -gt 0 ]; then
        kill_cgroups "${CGROUPS[@]}"
        for i in "${CGROUPS[@]}"; do rmdir "${i%/*}" 2>/dev/null; done # hellod-e2e/, once empty
    fi
    if [ -n "$W" ]; then
        mountpoint -q "$W/root" && { umount "$W/root" || umount -l "$W/root"; }
        rm -rf --one-file-system "$W"
    fi
    [ -n "$ID" ] && rm -rf "/run/systemd/nspawn/propagate/$ID" "/run/systemd/nspawn/unix-export/$ID"
    say "torn down in $(since "$t0")"
}

# In a private mount namespace (see run): nothing mounted here is seen outside.
run_inner() {
    local timeout=$1 src=$2 t0 d i state rc
    shift 2
    t0=$(now)
    ensure_cgroups
    reap_stale
    W=$(mktemp -d "$WORKROOT/hellod-e2e.XXXXXX") || die "cannot make a directory in $WORKROOT"
    echo $$ >"$W/owner"
    ID=e2e-${W##*.}
    trap teardown EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 124' USR1 # the time limit, kept on the host side too
    mkdir "$W/root" "$W/upper" "$W/work"
    mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$W/upper,workdir=$W/work" "$W/root" ||
        die "cannot mount an overlay on $ROOTFS"
    # As after `make install` by root: files owned by root; /lib stays a
    # symbolic link to usr/lib.
    tar -C "$src" --owner=0 --group=0 --numeric-owner -cf - . |
        tar -C "$W/root" --keep-directory-symlink --numeric-owner -xpf - ||
        die "cannot copy $src into the container"

    mapfile -t CGROUPS < <(run_cgroups "$ID")
    for d in "${CGROUPS[@]}"; do mkdir -p "$d" || die "cannot create the cgroup $d"; done
    (
        for d in "${CGROUPS[@]}"; do echo "$BASHPID" >"$d/cgroup.procs"; done
        # The container sees a pure cgroup2 hierarchy, as a Debian 12 machine
        # does, and may call bpf(2): systemd needs both for IPAddressDeny=,
        # which it silently ignores otherwise. The lock files of nspawn would
        # stay in /run, which is no tmpfs on these hosts.
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 SYSTEMD_NSPAWN_LOCK=0 exec systemd-nspawn --quiet \
            --boot --directory="$W/root" --machine="$ID" --register=no --keep-unit \
            --console=pipe --private-network --system-call-filter=bpf \
            </dev/null >"$W/console.log" 2>&1 8>&-
    ) &
    NSPAWN=$!

    # Booted: the container's init is systemd, its private bus socket exists
    # (systemctl fails before), and is-system-running --wait says so.
    local deadline=$(($(date +%s) + BOOT_TIMEOUT))
    while [ -z "$INIT" ]; do
        kill -0 "$NSPAWN" 2>/dev/null || { cat "$W/console.log" >&2; die "systemd-nspawn exited"; }
        for i in $(pgrep -P "$NSPAWN"); do
            [ "$(cat "/proc/$i/comm" 2>/dev/null)" = systemd ] && INIT=$i
        done
        [ "$(date +%s)" -lt "$deadline" ] || die "the container's systemd did not start"
        [ -n "$INIT" ] || sleep 0.02
    done
    until [ -S "/proc/$INIT/root/run/systemd/private" ]; do
        kill -0 "$INIT" 2>/dev/null || { cat "$W/console.log" >&2; die "the container's systemd died"; }
        [ "$(date +%s)" -lt "$deadline" ] || { cat "$W/console.log" >&2; die "systemd did not come up"; }
        sleep 0.02
    done
    state=$(in_container timeout $((deadline - $(date +%s) + 1)) systemctl is-system-running --wait)
    case $state in
    running) ;;
    degraded)
        say "warning: the container booted degraded; failed units:"
        in_container systemctl --failed --no-pager --plain >&2
        ;;
    *)
        cat "$W/console.log" >&2
        die "systemd did not finish booting (state: ${state:-none} after ${BOOT_TIMEOUT}s)"
        ;;
    esac
    say "booted $(in_container systemctl --version | head -n 1) as PID 1 in $(since "$t0")"

    # The time limit is kept inside the container: nsenter must outlive its
    # child, or the child is left a zombie of the host's init and holds up
    # the container's shutdown. Run in the background, so that a signal to
    # this script is acted on at once.
    t0=$(now)
    nsenter -t "$INIT" -a -r -w env -i PATH=$IN_PATH HOME=/root LANG=C.UTF-8 TERM=dumb \
        SYSTEMD_PAGER=cat timeout --kill-after=5 "$timeout" "$@" <&0 8>&- &
    CMD=$!
    # Should the limit inside fail (a test that stopped itself, say), this
    # one ends the run: the signal runs the teardown.
    (
        trap 'kill "$nap" 2>/dev/null; exit 0' TERM
        sleep $((timeout + 20)) >/dev/null 2>&1 &
        nap=$!
        wait "$nap" || exit 0
        say "the test is still running $((timeout + 20))s on; ending it"
        kill -USR1 $$
    ) 8>&- &
    WATCH=$!
    wait "$CMD"
    rc=$?
    CMD=''
    kill "$WATCH" 2>/dev/null
    [ $rc = 124 ] && say "the test did not finish within its ${timeout}s"
    say "the test ran for $(since "$t0"), exit status $rc"
    if [ $rc != 0 ]; then
        say "the container's journal (last 150 lines):"
        in_container journalctl -b --no-pager -n 150 >&2
    fi
    exit $rc
}

run() {
    local timeout=240
    if [ "${1:-}" = --timeout ]; then
        timeout=$2
        shift 2
    fi
    [ $# -ge 2 ] || die "usage: sandbox.sh run [--timeout SECONDS] DIR COMMAND [ARG]..."
    [ -d "$1" ] || die "not a directory: $1"
    preflight || exit 125
    build_rootfs
    exec unshare --mount --propagation private -- bash "$SELF" __run "$timeout" "$(cd "$1" && pwd)" "${@:2}"
}

case ${1:-} in
preflight) preflight ;;
__probe_cgroups) probe_cgroups ;;
__backports) shift && backports "$@" ;;
rootfs) preflight && build_rootfs ;;
run) shift && run "$@" ;;
__run) shift && run_inner "$@" ;;
*)
    sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
