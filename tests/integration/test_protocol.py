"""The hello protocol as docs/SPEC.md states it, against the real hellod."""
from hellotest import *
import select

TOO_LONG = b"ERROR message too long\n"
BUSY = b"ERROR server busy\n"


@test
def seeds_style_client():
    with Hellod() as d:
        # no LF, one read: the message ends after message_timeout (100ms)
        started = time.monotonic()
        assert seeds_client(d.address) == GREETING
        took = time.monotonic() - started
        assert took >= 0.05, "a message with no LF was answered after %.3fs, before " \
            "message_timeout (100ms)" % took


@test
def one_line_one_reply():
    with Hellod() as d, connect(d.address) as c:
        c.send(b"Hello from client\n")
        assert c.read_lines(1) == [GREETING]
        c.send(b"\n")  # an empty line is a message too
        assert c.read_lines(1) == [GREETING]
        c.shutdown_write()
        c.expect_eof()


@test
def custom_greeting():
    with Hellod({"server": {"greeting": "Howdy, partner!"}}) as d:
        assert seeds_client(d.address) == b"Howdy, partner!\n"


@test
def crlf():
    with Hellod({"log": {"messages": True}}) as d, connect(d.address) as c:
        c.send(b"crlf one\r\ncrlf two\r\n\r\n")
        assert c.read_lines(3) == [GREETING] * 3
        c.shutdown_write()
        c.expect_eof()
        d.wait_log(r'message from \S+: "crlf two"$')
        assert not re.search(r'"crlf one\\', d.log()), "the CR was kept:\n" + d.log()


@test
def line_split_across_sends():
    # message_timeout far away: only the LF may end the message
    with Hellod({"server": {"message_timeout": "10s"}, "log": {"messages": True}}) as d, \
            connect(d.address) as c:
        c.send(b"Hel")
        time.sleep(0.2)  # not a readiness wait: keeps the two halves in separate segments
        assert c.nothing_pending(), "replied to half a line: %r" % c.buf
        c.send(b"lo\n")
        assert c.read_lines(1) == [GREETING]
        c.send(b"x\n")
        assert c.read_lines(1) == [GREETING]
        c.shutdown_write()
        c.expect_eof()
        d.wait_log(r'message from \S+: "Hello"$')


@test(timeout=40)
def pipelining_10000_messages():
    n = 10000
    with Hellod() as d, connect(d.address) as c:
        errors = []

        def writer():
            try:
                for i in range(0, n, 250):
                    c.send(b"".join(b"message %d\n" % j for j in range(i, min(n, i + 250))))
                c.shutdown_write()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        t = threading.Thread(target=writer)
        t.start()
        lines = c.read_lines(n, timeout=30)
        t.join(5)
        assert not errors, errors
        bad = [(i, x) for i, x in enumerate(lines) if x != GREETING]
        assert not bad, "replies not the greeting: %r" % bad[:5]
        c.expect_eof()


@test
def too_long_message():
    with Hellod({"server": {"max_message": 16}}) as d, connect(d.address) as c:
        c.send(b"ok one\nok two\n" + b"x" * 17 + b"\n")
        peer = format_addr(c.sock.getsockname()[:2])
        assert c.read_lines(3) == [GREETING, GREETING, TOO_LONG]
        c.expect_eof()
        d.wait_log(re.escape("%s: message too long, closing" % peer))


@test
def too_long_without_lf():
    # 17 bytes and no LF yet: already too long, whatever comes next
    with Hellod({"server": {"max_message": 16, "message_timeout": "10s"}}) as d, \
            connect(d.address) as c:
        c.send(b"ok\n" + b"y" * 40)
        assert c.read_lines(2, timeout=3) == [GREETING, TOO_LONG]
        c.expect_eof()


@test
def exactly_max_message_is_fine():
    with Hellod({"server": {"max_message": 16}}) as d, connect(d.address) as c:
        c.send(b"y" * 16 + b"\n")
        assert c.read_lines(1) == [GREETING]
        c.send(b"z" * 16 + b"\r\n")  # the CR LF does not count
        assert c.read_lines(1) == [GREETING]
        c.send(b"w" * 16 + b"\r\n" + b"v" * 16 + b"\n")
        assert c.read_lines(2) == [GREETING] * 2
        c.shutdown_write()
        c.expect_eof()


@test
def half_close_gets_replies_then_eof():
    with Hellod() as d, connect(d.address) as c:
        c.send_lines(["one", "two", "three"])
        c.shutdown_write()
        assert c.read_to_eof() == GREETING * 3


@test
def unterminated_message_flushed_at_shutdown():
    # message_timeout far away: only the client's shutdown ends "b"
    with Hellod({"server": {"message_timeout": "10s"}, "log": {"messages": True}}) as d, \
            connect(d.address) as c:
        c.send(b"a\nb")
        assert c.read_lines(1) == [GREETING]
        c.shutdown_write()
        assert c.read_to_eof(timeout=3) == GREETING
        d.wait_log(r'message from \S+: "b"$')


@test
def message_timeout_ends_partial_message():
    with Hellod({"server": {"message_timeout": "300ms"}}) as d, connect(d.address) as c:
        started = time.monotonic()
        c.send(b"no newline")
        assert c.read_lines(1, timeout=5) == [GREETING]
        took = time.monotonic() - started
        assert took >= 0.25, "answered after %.3fs, before message_timeout = 300ms" % took
        c.send(b"next\n")  # the connection goes on
        assert c.read_lines(1) == [GREETING]


@test
def max_connections():
    with Hellod({"server": {"max_connections": 2}}) as d:
        c1, c2 = connect(d.address), connect(d.address)
        for c in (c1, c2):
            c.send_lines(["hi"])
            assert c.read_lines(1) == [GREETING]
        with connect(d.address) as c3:
            peer = format_addr(c3.sock.getsockname()[:2])
            assert c3.read_to_eof() == BUSY
        d.wait_log(re.escape("%s: server busy, refused" % peer))
        for c in (c1, c2):  # the first two still work
            c.send_lines(["still there"])
            assert c.read_lines(1) == [GREETING]
        c1.close()

        def a_place_frees_up():
            with connect(d.address) as c:
                try:
                    c.send_lines(["me too"])
                    return c.read_line(timeout=1) == GREETING
                except (ConnectionResetError, AssertionError):  # still busy
                    return False

        # the server notices c1's close soon: then a new client is served
        wait_for(a_place_frees_up, 5.0, "a new client to be served after one of two left")
        c2.close()


@test
def idle_timeout_closes_silent_connection():
    with Hellod({"server": {"idle_timeout": "500ms"}}) as d:
        with connect(d.address) as c:
            started = time.monotonic()
            assert c.read_to_eof(timeout=5) == b"", "closed without a word"
            took = time.monotonic() - started
            assert took >= 0.45, "closed after %.3fs, before idle_timeout = 500ms" % took
        # traffic keeps a connection open past the timeout
        with connect(d.address) as c:
            started = time.monotonic()
            for _ in range(10):
                c.send_lines(["keepalive"])
                assert c.read_lines(1) == [GREETING]
                time.sleep(0.1)  # pacing the traffic, well under the timeout
            assert time.monotonic() - started > 1.0
            c.send_lines(["last"])
            assert c.read_lines(1) == [GREETING]
            assert c.read_to_eof(timeout=5) == b""


@test
def idle_timeout_trickling_bytes_do_not_count():
    # bytes that never end a message do not keep a connection open
    with Hellod({"server": {"idle_timeout": "300ms", "message_timeout": 0}}) as d, \
            connect(d.address) as c:
        started = time.monotonic()
        closed = None
        while time.monotonic() - started < 4:
            try:
                c.send(b"x")
                c.sock.settimeout(0.05)
                data = c.sock.recv(1024)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic()
                break
            assert data == b"", "got %r for a message never ended" % data
            closed = time.monotonic()
            break
        assert closed, "a client trickling bytes held its connection for 4s (idle_timeout 300ms)"
        assert closed - started >= 0.25, "closed after %.3fs" % (closed - started)


@test
def default_max_message_is_1024():
    with Hellod() as d:
        with connect(d.address) as c:
            c.send(b"a" * 600)
            c.send(b"a" * 424 + b"\n")
            assert c.read_lines(1) == [GREETING]
            c.send(b"b" * 1024 + b"\r\n")
            assert c.read_lines(1) == [GREETING]
            c.send(b"c" * 700)
            c.send(b"c" * 325 + b"\n")
            assert c.read_lines(1) == [TOO_LONG]
            c.expect_eof()


@test
def many_concurrent_clients():
    n_clients, n_msgs = 100, 50
    with Hellod() as d:
        conns = [connect(d.address) for _ in range(n_clients)]
        for i, c in enumerate(conns):
            c.send(b"".join(b"client %d message %d\n" % (i, j) for j in range(n_msgs)))
            c.shutdown_write()
        got = {c.sock: b"" for c in conns}
        open_ = set(got)
        for sk in open_:
            sk.setblocking(False)
        deadline = time.monotonic() + 15
        while open_ and time.monotonic() < deadline:
            ready, _, _ = select.select(list(open_), [], [], 0.5)
            for sk in ready:
                data = sk.recv(65536)
                if data:
                    got[sk] += data
                else:
                    open_.remove(sk)
        assert not open_, "%d clients not closed after their replies" % len(open_)
        bad = [i for i, c in enumerate(conns) if got[c.sock] != GREETING * n_msgs]
        assert not bad, "wrong replies for clients %r: %r" % (bad[:5], got[conns[bad[0]].sock][:100])
        for c in conns:
            c.close()


@test
def log_names_the_peer():
    with Hellod({"server": {"listen": "127.0.0.1:0 [::1]:0"}, "log": {"messages": True}}) as d:
        d.wait_log("listening on", count=2)
        for a in d.addresses:
            with connect(a) as c:
                peer = format_addr(c.sock.getsockname()[:2])
                c.send_lines(["from %s" % peer])
                assert c.read_lines(1) == [GREETING]
            d.wait_log(re.escape('message from %s: "from %s"' % (peer, peer)))


@test
def binary_junk_is_answered_and_logged_escaped():
    junk = b"a\x00b\xff\xfe\x1b[31mred\x1b[0m\x07\x7f\"q\""
    with Hellod({"log": {"messages": True}}) as d, connect(d.address) as c:
        c.send(junk + b"\n")
        assert c.read_lines(1) == [GREETING]
        c.send(b"\x00\x00\x00\n")
        assert c.read_lines(1) == [GREETING]
        c.shutdown_write()
        c.expect_eof()
        d.wait_log(r"message from .*red", count=1)
        d.wait_log(r"message from ", count=2)
        raw = d.log_bytes()
        for bad in (b"\x1b", b"\x00", b"\xff", b"\xfe", b"\x07", b"\x7f"):
            assert bad not in raw, "raw %r in the log:\n%r" % (bad, raw)
        for line in raw.splitlines():
            if b"message from" in line:
                assert all(0x20 <= ch < 0x7f for ch in line), "not printable ASCII: %r" % line


run()
