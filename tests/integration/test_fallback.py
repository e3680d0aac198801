"""hellod binding its own sockets (no service manager): addresses, errors, options."""
from hellotest import *


def assert_own_listener(d, addr):
    listeners = d.listeners()
    assert (addr, False) in listeners, "expected 'listening on %s' (own bind); got %r" % (
        format_addr(addr), listeners)


@test
def ipv4_loopback_port_0():
    with Hellod({"server": {"listen": "127.0.0.1:0"}}) as d:
        assert len(d.addresses) == 1, d.addresses
        host, port = d.address
        assert host == "127.0.0.1" and port != 0, "port 0 must be logged as the real port: %r" % (
            d.address,)
        assert_own_listener(d, d.address)
        assert (host, port) in tcp_listeners(d.proc.pid), tcp_listeners(d.proc.pid)
        assert seeds_client(d.address) == GREETING


@test
def ipv6_loopback_port_0():
    with Hellod({"server": {"listen": "[::1]:0"}}) as d:
        assert len(d.addresses) == 1, d.addresses
        host, port = d.address
        assert host == "::1" and port != 0, d.address
        assert "listening on [::1]:%d" % port in d.log(), d.log()
        assert seeds_client(d.address) == GREETING


@test
def unix_socket_path():
    tmp = make_tmpdir()
    path = os.path.join(tmp, "hellod.sock")
    with Hellod({"server": {"listen": path}}) as d:
        assert d.addresses == [path], d.addresses
        assert_own_listener(d, path)
        assert path in unix_listeners(d.proc.pid)
        assert seeds_client(path) == GREETING
        with connect(path) as c:
            c.send_lines(["one", "two"])
            assert c.read_lines(2) == [GREETING] * 2


@test
def several_listen_addresses_at_once():
    with Hellod({"server": {"listen": "127.0.0.1:0 [::1]:0"}}, args=()) as d:
        d.wait_log(r"listening on ", count=2)
        addrs = d.addresses
        assert len(addrs) == 2, addrs
        assert {a[0] for a in addrs} == {"127.0.0.1", "::1"}, addrs
        for a in addrs:
            assert seeds_client(a) == GREETING, a
            with connect(a) as c:
                c.send_lines(["x"])
                assert c.read_lines(1) == [GREETING]


@test
def tcp_and_unix_together():
    tmp = make_tmpdir()
    path = os.path.join(tmp, "s.sock")
    with Hellod({"server": {"listen": "127.0.0.1:0 %s" % path}}) as d:
        d.wait_log(r"listening on ", count=2)
        addrs = d.addresses
        assert path in addrs and len(addrs) == 2, addrs
        for a in addrs:
            assert seeds_client(a) == GREETING, a


@test
def address_in_use_exits_1():
    with listener() as busy:
        port = busy.getsockname()[1]
        d = Hellod({"server": {"listen": "127.0.0.1:%d" % port}}, ready=False)
        with d:
            rc = d.wait_exit(10)
            log = d.log()
            assert rc == 1, "exit status %r, expected 1; stderr:\n%s" % (rc, log)
            assert "cannot listen on 127.0.0.1:%d" % port in log, log
            assert "READY=1" not in d.notify_lines(), d.notify_lines()


@test
def one_address_in_use_of_two_exits_1():
    with listener() as busy:
        port = busy.getsockname()[1]
        with Hellod({"server": {"listen": "[::1]:0 127.0.0.1:%d" % port}}, ready=False) as d:
            rc = d.wait_exit(10)
            assert rc == 1, "exit status %r; stderr:\n%s" % (rc, d.log())
            assert "cannot listen on 127.0.0.1:%d" % port in d.log(), d.log()


@test
def listen_option_replaces_config():
    with Hellod(listen=None, config_text="[server]\nlisten = 127.0.0.1:1 /nonexistent/dir/x.sock\n",
                args=["-l", "127.0.0.1:0", "--listen=[::1]:0"]) as d:
        d.wait_log(r"listening on ", count=2)
        addrs = d.addresses
        assert len(addrs) == 2, addrs
        assert {a[0] for a in addrs} == {"127.0.0.1", "::1"}, addrs
        assert all(a[1] not in (0, 1) for a in addrs), addrs
        assert "x.sock" not in d.log(), d.log()
        for a in addrs:
            assert seeds_client(a) == GREETING


@test
def log_lines_on_stderr():
    # stderr is a file, not a terminal: every line is "<N>text"
    with Hellod() as d:
        with connect(d.address) as c:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        assert d.stop() == 0
        lines = d.log().splitlines()
        assert lines and lines[0] == "<6>hellod 0.1.0 starting", lines[:3]
        bad = [x for x in lines if not re.match(r"<[0-7]>\S", x)]
        assert not bad, "lines without a <N> prefix: %r" % bad
        assert "<6>listening on %s" % format_addr(d.address) in lines, lines
        assert any(re.fullmatch(r"<\d>received SIGTERM, stopping", x) for x in lines), lines
        assert any(re.fullmatch(r"<\d>stopped after 1 connections? and 1 messages?", x)
                   for x in lines), lines


@test
def log_level():
    # warning: nothing of the info level (starting, listening, messages) is logged
    for how in (dict(args=["--log-level=warning"]), dict(config={"log": {"level": "warning"}})):
        cfg = {"log": {"messages": True}}
        cfg["log"].update(how.get("config", {}).get("log", {}))
        with Hellod(cfg, how.get("args", []), listen_log=False) as d:
            (addr,) = tcp_listeners(d.proc.pid)
            assert seeds_client(addr) == GREETING
            assert d.stop() == 0
            for word in ("starting", "listening on", "message from", "stopped after"):
                assert word not in d.log(), (how, word, d.log())
    # notice: "message too long" (notice) is, "listening on" (info) is not
    with Hellod({"server": {"max_message": 2}}, ["--log-level=notice"], listen_log=False) as d:
        (addr,) = tcp_listeners(d.proc.pid)
        with connect(addr) as c:
            c.send_lines(["too long"])
            assert c.read_lines(1) == [b"ERROR message too long\n"]
        d.wait_log(r"^<5>.*message too long, closing$")
        assert "listening on" not in d.log(), d.log()
    # debug: everything info has too
    with Hellod({"log": {"level": "err"}}, ["--log-level=debug"]) as d:
        assert "<6>hellod 0.1.0 starting" in d.log(), d.log()


@test
def version():
    for opt in ("--version", "-V"):
        r = run_hellod([opt])
        assert r.returncode == 0, (opt, r)
        assert r.stdout.decode().strip() == "hellod 0.1.0", (opt, r.stdout)


@test
def help():
    for opt in ("--help", "-h"):
        r = run_hellod([opt])
        assert r.returncode == 0, (opt, r)
        out = r.stdout.decode()
        assert out.startswith("Usage: hellod"), out
        for word in ("--config", "--check-config", "--listen", "--log-level", "--help",
                     "--version"):
            assert word in out, (word, out)


@test
def bad_usage_exits_2():
    for args in (["--no-such-option"], ["-Z"], ["--listen"], ["-c"]):
        r = run_hellod(args)
        assert r.returncode == 2, "%r: exit status %r, stderr %r" % (args, r.returncode, r.stderr)
        assert r.stderr.strip(), "%r: nothing said on stderr" % (args,)
        assert not r.stdout, r.stdout


run()
