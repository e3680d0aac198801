"""The harness itself: how it finds a process's TCP sockets.

hellotest once decoded /proc/net/tcp as if every kernel were little-endian,
so that on s390x 127.0.0.1 read as 1.0.0.127 and no listener was ever found
(issue 16). It asks ss(8) now; these tests check that what it finds is what
the sockets really are, on whatever machine runs them (on a big-endian one the
old decoder failed the first of them)."""
import sys

from hellotest import *


@test
def tcp_listeners_finds_this_processs_ipv4_and_ipv6_listeners():
    with listener("127.0.0.1") as l4, listener("::1") as l6, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound_only:
        bound_only.bind(("127.0.0.1", 0))  # bound, not listening: not a listener
        want = {("127.0.0.1", l4.getsockname()[1]), ("::1", l6.getsockname()[1])}
        with connect(l4.getsockname()):  # a connection is not a listener either
            got = tcp_listeners(os.getpid())
        assert got == want, (got, want)
    assert tcp_listeners(os.getpid()) == set(), "closed listeners still found"


@test
def tcp_listeners_finds_another_processs_listener_and_only_its():
    child = subprocess.Popen(
        [sys.executable, "-c", "import socket, sys\n"
         "s = socket.socket(socket.AF_INET6); s.bind(('::1', 0)); s.listen()\n"
         "print(s.getsockname()[1], flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(child.stdout.readline())  # printed once it listens
        with listener("127.0.0.1") as mine:
            assert tcp_listeners(child.pid) == {("::1", port)}, tcp_listeners(child.pid)
            assert tcp_listeners(os.getpid()) == {("127.0.0.1", mine.getsockname()[1])}
    finally:
        child.stdin.close()
        child.wait(5)


@test
def tcp_sockets_shows_the_bytes_a_server_has_not_read():
    with listener("127.0.0.1") as l4, connect(l4.getsockname()) as c:
        server, _ = l4.accept()
        with server:
            c.send(b"abc")
            local, peer = l4.getsockname(), c.sock.getsockname()

            def queued():
                for s in tcp_sockets():
                    if s["local"] == local and s["peer"] == peer:
                        return s
                return None

            s = wait_for(lambda: (queued() or {}).get("recv_q") == 3 and queued(), 5,
                         "3 bytes queued at %s from %s" % (local, peer))
            assert s["state"] == "ESTAB", s
            assert s["inode"] == os.fstat(server.fileno()).st_ino, s


@test
def parse_ss_line_reads_every_form_ss_writes():
    # Lines as ss 6.1 (Debian 12) writes them, with -H -n -e.
    cases = [
        (4, "LISTEN 0 128 0.0.0.0:49619 0.0.0.0:* ino:421675 sk:1001 cgroup:/ <->",
         ("LISTEN", 0, 128, ("0.0.0.0", 49619), ("0.0.0.0", 0), 421675)),
        (4, "LISTEN 0 128 127.0.0.1%lo:53745 0.0.0.0:* ino:421676 sk:1004 cgroup:/ <->",
         ("LISTEN", 0, 128, ("127.0.0.1", 53745), ("0.0.0.0", 0), 421676)),
        (4, "ESTAB 3 0 127.0.0.1:53703 127.0.0.1:39488 timer:(keepalive,9.9ms,0) uid:1000 "
            "ino:421680 sk:105e cgroup:/ <->",
         ("ESTAB", 3, 0, ("127.0.0.1", 53703), ("127.0.0.1", 39488), 421680)),
        (6, "LISTEN 0 128 [::1]%lo:59269 [::]:* ino:421677 sk:1066 cgroup:/ v6only:1 <->",
         ("LISTEN", 0, 128, ("::1", 59269), ("::", 0), 421677)),
        (6, "LISTEN 0 128 *:48353 *:* ino:421674 sk:1068 cgroup:/ v6only:0 <->",
         ("LISTEN", 0, 128, ("::", 48353), ("::", 0), 421674)),
        (6, "LISTEN 0 128 [::ffff:127.0.0.1]:55363 *:* ino:421678 sk:1069 v6only:0 <->",
         ("LISTEN", 0, 128, ("::ffff:127.0.0.1", 55363), ("::", 0), 421678)),
        (6, "TIME-WAIT 0 0 [2001:0db8:0:0::1]:443 [2001:db8::2]:50000 timer:(timewait,59sec,0)",
         ("TIME-WAIT", 0, 0, ("2001:db8::1", 443), ("2001:db8::2", 50000), None)),
    ]
    for family, line, want in cases:
        s = parse_ss_line(line, family)
        got = (s["state"], s["recv_q"], s["send_q"], s["local"], s["peer"], s["inode"])
        assert got == want, (line, got, want)


run()
