"""A reload and the connections open at it (hellod(8), RELOADING): a
connection keeps the PROXY setting it was accepted under; the greeting
switches at the message boundary, also on a connection that always owes
replies; and a logged message is the message as the protocol framed it."""
from hellotest import *

PROXY_V1 = b"PROXY TCP4 192.0.2.7 192.0.2.1 40000 4242\r\n"
OLD = "O" * 120
NEW = "N" * 120


def reload(d, sections, n):
    """Writes sections as d's config, sends SIGHUP, waits for the n-th `reloaded`."""
    sections = {k: dict(v) for k, v in sections.items()}
    sections.setdefault("server", {})["listen"] = "127.0.0.1:0"  # as started: kept
    tmp = d.config_path + ".new"
    write_config(tmp, sections)
    os.rename(tmp, d.config_path)
    d.send_signal(signal.SIGHUP)
    d.wait_log(r"reloaded ", timeout=5, count=n)


def in_force(d, greeting):
    """Waits until a new connection is answered with greeting: with one
    worker, the worker itself has the new configuration then."""
    def answered():
        # Until the worker has the new configuration, a probe may be read
        # under the old one (a PROXY header expected: closed): not yet.
        try:
            with connect(d.address) as c:
                c.send(b"x\n")
                return c.read_line() == greeting.encode() + b"\n"
        except (AssertionError, OSError):
            return False
    wait_for(answered, 5, "greeting %r in force" % greeting[:10])


@test(timeout=30)
def proxy_setting_is_the_one_a_connection_was_accepted_under():
    """hellod(8): proxy_protocol and proxy_from apply to the connections
    accepted from then on. A (nothing sent yet) and B (10 bytes of its v1
    header sent) are accepted under v1; a reload to v2, then to no, must not
    make their v1 headers an error; a connection accepted after the reload
    lives by v2."""
    v1 = {"server": {"proxy_protocol": "v1", "proxy_from": "127.0.0.1", "workers": 1}}
    for n, after in enumerate(("v2", "no"), 1):
        with Hellod(v1) as d:
            a, b = connect(d.address), connect(d.address)
            b.send(PROXY_V1[:10])
            reload(d, {"server": {"proxy_protocol": after, "proxy_from": "127.0.0.1",
                                  "workers": 1}}, 1)
            if after == "no":
                in_force(d, "Hello from server")
            a.send(PROXY_V1 + b"hi\n")
            b.send(PROXY_V1[10:] + b"hi\n")
            for c in (a, b):
                assert c.read_line() == GREETING, d.log()
                c.close()
            assert "not enabled" not in d.log(), d.log()
            if after == "v2":  # a new connection is read under v2: a v1 header is refused
                with connect(d.address) as c:
                    c.send(PROXY_V1 + b"hi\n")
                    c.expect_eof()
                d.wait_log(r"PROXY header of a version not enabled, closing")


def owe_through_reload(d, c, n, greeting, n_reload, last):
    """Sends n lines and does not read, so that hellod owes c replies all
    along (more than its send buffer and c's small receive buffer hold);
    reloads with greeting; then sends `last` and reads everything. Returns
    the n + 1 replies. The lines go out from a thread, since the kernel's
    buffers may not hold them all before the client reads."""
    sent = threading.Event()
    go = threading.Event()

    def sender():
        c.send(b"x\n" * n)
        sent.set()
        go.wait(20)
        c.send(last)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    # A reply waiting (peeked at, not read) says hellod answers lines sent
    # before the reload; it owes many more, which c does not take yet.
    c.sock.settimeout(10)
    assert c.sock.recv(1, socket.MSG_PEEK) or c.buf, "no reply before the reload"
    reload(d, {"server": {"greeting": greeting, "workers": 1}}, n_reload)
    in_force(d, greeting)
    go.set()
    lines = c.read_lines(n + 1, timeout=40)
    t.join(5)
    assert sent.is_set()
    return lines


@test(timeout=90)
def greeting_switches_at_the_message_boundary_on_a_busy_connection():
    """hellod(8): a new greeting applies from then on to open connections
    too; replies owed before the reload keep the old one. A client with a
    2 KiB receive buffer sends 60,000 lines and does not read, so hellod
    always owes it replies; after a reload it sends one more line, then
    reads everything: the old greeting for the lines hellod had read before
    the reload (it stops reading a client that owes it 64 KiB), the new one
    for every line after, the last included. A second reload while it owes
    replies in the new greeting works the same way."""
    n = 60000
    old, new = OLD.encode() + b"\n", NEW.encode() + b"\n"
    with Hellod({"server": {"greeting": OLD, "workers": 1}}) as d:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.settimeout(40)
        s.connect(d.address)
        with Conn(s) as c:
            for n_reload, (before, after) in enumerate(((old, new), (new, old)), 1):
                lines = owe_through_reload(d, c, n, after.decode().strip(), n_reload,
                                           b"after reload %d\n" % n_reload)
                k = next((i for i, x in enumerate(lines) if x != before), n + 1)
                diag("reload %d: %d replies in the greeting before it, %d after"
                     % (n_reload, k, n + 1 - k))
                assert k > 0, "no reply owed before the reload %d" % n_reload
                assert k <= n, "reload %d: the line sent after it got the old greeting" % n_reload
                wrong = [i for i, x in enumerate(lines[k:], k) if x != after]
                assert not wrong, "reload %d: reply %d of %d is %r after the switch at %d" % (
                    n_reload, wrong[0], n + 1, lines[wrong[0]][:10], k)


@test
def logged_message_drops_the_cr_the_protocol_drops():
    """[log] messages = yes: `abc` CR, then LF in a second read, is the
    message "abc", and so is its log line."""
    with Hellod({"log": {"messages": True}, "server": {"workers": 1,
                                                     "message_timeout": "10s"}}) as d:
        with connect(d.address) as c:
            c.send(b"abc\r")
            # One worker serves both: once the second connection is answered,
            # the first one's bytes, ready before, have been read.
            with connect(d.address) as other:
                other.send(b"other\n")
                assert other.read_line() == GREETING
            c.send(b"\n")
            assert c.read_line() == GREETING
        line = d.wait_log(r'message from [^:]+:\d+: "abc[^"]*"')[0]
        assert line.endswith('"abc"'), line


run()
