"""hellod under systemd-socket-activate: passed sockets, inetd mode, config conflicts."""
from hellotest import *

IGNORED_RE = r"listen = .* ignored: serving the \d+ sockets? passed by the service manager"


def activated_line(addr):
    return "listening on %s (from the service manager)" % format_addr(addr)


def check_served(d, addrs):
    """After the first connection: hellod is up, serves exactly the passed sockets
    (and binds nothing of its own), and logged each as passed."""
    d.wait_ready()
    for a in addrs:
        d.wait_log(re.escape(activated_line(a)))
    own = [a for a, passed in d.listeners() if not passed]
    assert not own, "hellod bound sockets of its own under socket activation: %r" % own
    tcp = {a for a in addrs if isinstance(a, tuple)}
    unix = {a for a in addrs if isinstance(a, str)}
    assert tcp_listeners(d.proc.pid) == tcp, (tcp_listeners(d.proc.pid), tcp)
    assert unix_listeners(d.proc.pid) == unix, (unix_listeners(d.proc.pid), unix)


@test
def tcp_listener():
    with Activated(["tcp4"]) as d:
        assert d.notify_lines() == [], "hellod must not run before the first connection"
        assert seeds_client(d.address) == GREETING
        check_served(d, d.addresses)
        with connect(d.address) as c:
            c.send_lines(["a", "b"])
            assert c.read_lines(2) == [GREETING] * 2
        assert d.stop() == 0, d.log()


@test
def ipv6_tcp_listener():
    with Activated(["tcp6"]) as d:
        assert seeds_client(d.address) == GREETING
        check_served(d, d.addresses)
        assert d.stop() == 0, d.log()


@test
def unix_listener():
    with Activated(["unix"]) as d:
        path = d.address
        assert isinstance(path, str)
        assert seeds_client(path) == GREETING
        check_served(d, [path])
        with connect(path) as c:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        assert d.stop() == 0, d.log()


@test
def several_listeners():
    with Activated(["tcp4", "unix", "tcp6"]) as d:
        addrs = d.addresses
        # The first connection starts hellod on the first socket; every other
        # socket must be served by it too.
        assert seeds_client(addrs[0]) == GREETING
        check_served(d, addrs)
        for a in addrs:
            with connect(a) as c:
                c.send_lines(["one", "two"])
                assert c.read_lines(2) == [GREETING] * 2, a
        assert d.log().count("(from the service manager)") == 3, d.log()
        assert d.stop() == 0, d.log()


@test
def inetd_mode_accept():
    with Activated(["tcp4"], accept=True) as d:
        sa = d.proc.pid
        for n in (1, 2):
            with connect(d.address) as c:
                peer = format_addr(c.sock.getsockname()[:2])
                c.send_lines(["first %d" % n, "second %d" % n])
                assert c.read_lines(2) == [GREETING] * 2, n
                d.wait_log(re.escape("serving one connection from %s (inetd mode)" % peer))
                d.wait_notify("READY=1", start=0)
                assert children_of(sa), "no hellod for connection %d" % n
                c.shutdown_write()
                c.expect_eof()
            # the connection is over: its hellod exits, with status 0
            wait_for(lambda: not children_of(sa), 5.0,
                     lambda: "hellod %r to exit after connection %d; stderr:\n%s"
                     % (children_of(sa), n, d.log()))
            died = d.wait_log(r"Child \d+ died with code (\d+)", count=n)
            assert died[n - 1] == "0", "hellod for connection %d exited with %s; stderr:\n%s" % (
                n, died[n - 1], d.log())
        ready = [x for x in d.notify_lines() if x == "READY=1"]
        assert len(ready) == 2, d.notify_lines()
        assert "(inetd mode)" in d.log()
        assert "listening on" not in d.log(), "inetd mode listens on nothing:\n" + d.log()


@test
def inetd_mode_seeds_client():
    with Activated(["tcp4"], accept=True) as d:
        sa = d.proc.pid
        assert seeds_client(d.address) == GREETING
        wait_for(lambda: not children_of(sa), 5.0, lambda: "hellod to exit:\n" + d.log())
        died = d.wait_log(r"Child \d+ died with code (\d+)")
        assert died == ["0"], d.log()


@test
def config_listen_differs_logs_ignored_once():
    other = ("127.0.0.1", free_port())
    with Activated(["tcp4"], config={"server": {"listen": format_addr(other)}}) as d:
        assert seeds_client(d.address) == GREETING
        check_served(d, d.addresses)
        hits = d.wait_log(IGNORED_RE)
        assert len(hits) == 1, d.log()
        assert other not in tcp_listeners(d.proc.pid)
        # more connections do not repeat it
        for _ in range(3):
            assert seeds_client(d.address) == GREETING
        assert len(re.findall(IGNORED_RE, d.log())) == 1, d.log()
        assert d.stop() == 0
        assert len(re.findall(IGNORED_RE, d.log())) == 1, d.log()


@test
def listen_option_differs_logs_ignored_once():
    other = ("127.0.0.1", free_port())
    with Activated(["unix"], args=["-l", format_addr(other)]) as d:
        assert seeds_client(d.address) == GREETING
        check_served(d, d.addresses)
        assert len(d.wait_log(IGNORED_RE)) == 1, d.log()
        assert d.stop() == 0
        assert len(re.findall(IGNORED_RE, d.log())) == 1, d.log()


@test
def config_listen_same_or_unset_not_ignored():
    # listen unset: the built-in default is not the admin's wish, nothing to say
    with Activated(["tcp4"]) as d:
        assert seeds_client(d.address) == GREETING
        check_served(d, d.addresses)
        assert d.stop() == 0
        assert "ignored" not in d.log(), d.log()
    # listen equal to the passed socket: nothing differs
    port = free_port()
    with Activated([("127.0.0.1", port)],
                   config={"server": {"listen": "127.0.0.1:%d" % port}}) as d:
        assert seeds_client(d.address) == GREETING
        check_served(d, d.addresses)
        assert d.stop() == 0
        assert "ignored" not in d.log(), d.log()


@test
def datagram_socket_is_an_error():
    with Activated(["tcp4"], sa_args=["--datagram"]) as d:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b"Hello from client\n", d.address)
        rc = d.wait_exit(10)
        assert rc == 1, "a passed datagram socket: exit status %r, expected 1; stderr:\n%s" % (
            rc, d.log())
        assert "READY=1" not in d.notify_lines(), d.notify_lines()


@test
def sigterm_under_activation():
    with Activated(["tcp4", "unix"]) as d:
        with connect(d.addresses[1]) as c:
            c.send_lines(["hi"])
            assert c.read_lines(1) == [GREETING]
            d.wait_ready()
            c.send_lines(["again"])
            assert d.stop() == 0, d.log()
            assert c.read_to_eof() == GREETING
        i, _ = d.wait_notify("STOPPING=1")
        assert d.log().count("(from the service manager)") == 2, d.log()


run()
