"""hellod behind a real HAProxy (Debian's package) with the PROXY protocol v2,
and the PROXY header checks a direct client meets."""
from hellotest import *
import shutil
import struct
from concurrent.futures import ThreadPoolExecutor

PROXY_V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PROXY_ON = {"server": {"proxy_protocol": "v2", "proxy_from": "127.0.0.1"},
            "log": {"messages": True}}
# Lines that must never come from HAProxy's own connections (health checks included).
HEADER_TROUBLE_RE = r"not in proxy_from|PROXY header|read failed"


def greeting_of(n):
    return "Hello from server %d" % n


def haproxy_binary():
    path = os.environ.get("HAPROXY") or shutil.which("haproxy") \
        or next((p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
                 if os.access(p, os.X_OK)), None)
    assert path and os.access(path, os.X_OK), "haproxy is not installed (Debian: apt-get install haproxy); " \
        "this test needs the real one and does not skip"
    return path


def proxied(n):
    """A hellod that wants a PROXY v2 header from 127.0.0.1, saying greeting n."""
    cfg = {k: dict(v) for k, v in PROXY_ON.items()}
    cfg["server"]["greeting"] = greeting_of(n)
    return Hellod(cfg)


class HAProxy(Started):
    """haproxy -db (foreground) in front of backends [(name, (host, port))], balancing
    round-robin with send-proxy-v2 and health checks that send the header too; an
    admin socket for `show stat`. A context manager; .address is the frontend."""

    def __init__(self, backends):
        self.tmp = make_tmpdir()
        self.backends = backends
        self.cfg_path = os.path.join(self.tmp, "haproxy.cfg")
        self.stats_path = os.path.join(self.tmp, "admin.sock")
        self.log_path = os.path.join(self.tmp, "haproxy.log")
        self.proc = None
        self.address = None

    def config(self, port):
        servers = "\n".join(
            "    server %s %s check send-proxy-v2 check-send-proxy inter 200ms fall 2 rise 1"
            % (name, format_addr(addr)) for name, addr in self.backends)
        return """\
global
    # runs in the foreground as the test's child: no daemon, chroot or user
    maxconn 4096
    stats socket %s mode 600 level admin

defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    retries 3
    option redispatch

frontend hello
    bind 127.0.0.1:%d
    default_backend hellods

backend hellods
    balance roundrobin
%s
""" % (self.stats_path, port, servers)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "backslashreplace")
        except FileNotFoundError:
            return ""

    def start(self):
        binary = haproxy_binary()
        for attempt in range(5):
            port = free_port()
            write_config(self.cfg_path, self.config(port))
            with open(self.log_path, "wb") as out:
                self.proc = subprocess.Popen([binary, "-f", self.cfg_path, "-db"],
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                # (not /proc/net/tcp: with thousands of TIME_WAIT entries it is slow)
                if os.path.exists(self.stats_path) and self._accepts(port):
                    self.address = ("127.0.0.1", port)
                    return self
                time.sleep(0.01)
            else:
                raise AssertionError("haproxy not listening on port %d after 5s; output:\n%s"
                                     % (port, self.log()))
            if "cannot bind" not in self.log() and "in use" not in self.log():
                raise AssertionError("haproxy exited with status %s; config:\n%s\noutput:\n%s"
                                     % (self.proc.returncode, self.config(port), self.log()))
        raise AssertionError("haproxy found no free port in 5 attempts")

    def _accepts(self, port):
        """True when a connection to the frontend is accepted (it is closed at
        once, without a byte: a backend sees at most a header and an EOF)."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            diag("haproxy's output:\n" + self.log())
            try:
                diag("haproxy's show stat:\n" + self.command("show stat"))
            except Exception:  # noqa: BLE001 - only a diagnostic
                pass
        self.close()
        return False

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def command(self, cmd):
        """One command on the admin socket; its whole answer."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect(self.stats_path)
            s.sendall(cmd.encode() + b"\n")
            out = b""
            while True:
                data = s.recv(65536)
                if not data:
                    return out.decode()
                out += data
        finally:
            s.close()

    def servers(self):
        """{server name: (status, check_status)} of the backend, from `show stat`."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        col = {name: i for i, name in enumerate(header)}
        out = {}
        for line in lines[1:]:
            f = line.split(",")
            if len(f) > col["check_status"] and f[col["pxname"]] == "hellods" \
                    and f[col["svname"]] not in ("FRONTEND", "BACKEND"):
                # "* L4OK": a check is under way, and the last one passed
                check = f[col["check_status"]]
                out[f[col["svname"]]] = (f[col["status"]], check[2:] if check.startswith("* ")
                                         else check)
        return out

    def wait_status(self, want, timeout=5.0):
        """Waits until every server in want {name: status} has that status, with a
        health check behind it (for UP: the check passed at layer 4, L4OK)."""
        def ok():
            now = self.servers()
            for name, status in want.items():
                st, check = now.get(name, ("?", "?"))
                if st != status or (status == "UP" and check != "L4OK"):
                    return None
            return now

        return wait_for(ok, timeout, lambda: "haproxy's servers to be %r; they are %r"
                        % (want, self.servers()), interval=0.02)


def one_client(addr, i):
    """Connects, sends `client i`, reads one line: (source port, reply)."""
    with connect(addr) as c:
        port = c.sock.getsockname()[1]
        c.send(b"client %d\n" % i)
        return port, c.read_line(timeout=10)


def many_clients(addr, first, n, workers=32):
    """n clients (numbered from first) through addr, 32 at a time: {i: (port, reply)}."""
    with ThreadPoolExecutor(workers) as pool:
        futures = {i: pool.submit(one_client, addr, i) for i in range(first, first + n)}
        return {i: f.result() for i, f in futures.items()}


def logged_clients(d):
    """{i: 'host:port'} of every `message from PEER: "client i"` line in d's log."""
    return {int(m.group(2)): m.group(1)
            for m in re.finditer(r'message from (\S+): "client (\d+)"$', d.log(), re.M)}


def left_out(d):
    """The message lines d counted instead of logging them."""
    return sum(int(n) for n in re.findall(r"(\d+) message lines left out", d.log()))


def share_report(counts, total):
    return ", ".join("%s: %d (%.1f%%)" % (k, v, 100.0 * v / total) for k, v in counts.items())


@test(timeout=40)
def three_backends_behind_haproxy():
    with proxied(1) as d1, proxied(2) as d2, proxied(3) as d3:
        ds = {1: d1, 2: d2, 3: d3}
        backends = [("h%d" % n, d.address) for n, d in ds.items()]
        with HAProxy(backends) as hap:
            hap.wait_status({"h1": "UP", "h2": "UP", "h3": "UP"})
            diag("haproxy on %s; hellods on %s" % (format_addr(hap.address),
                                                   ", ".join(format_addr(a) for _, a in backends)))

            # 1,000 clients, all answered, each backend with its share
            n = 1000
            started = time.monotonic()
            results = many_clients(hap.address, 0, n)
            took = time.monotonic() - started
            replies = {i: r for i, (_, r) in results.items()}
            counts = {greeting_of(k): 0 for k in ds}
            for i, r in replies.items():
                text = r.decode("utf-8", "replace").rstrip("\n")
                assert text in counts, "client %d got %r" % (i, r)
                counts[text] += 1
            assert sum(counts.values()) == n
            diag("%d clients in %.2fs; shares: %s" % (n, took, share_report(counts, n)))
            for g, k in counts.items():
                assert k > n * 0.20, "%s answered only %d of %d: %s" \
                    % (g, k, n, share_report(counts, n))

            # every client's own address and port is in the log of the hellod that
            # answered it (the header's source, not HAProxy's outgoing connection)
            want = {n_: {} for n_ in ds}
            for i, (port, r) in results.items():
                want[int(r.split()[-1])][i] = "127.0.0.1:%d" % port
            # (past 100 message lines a second, the rest are only counted:
            # hellod.conf(5), [log] messages)
            for k, d in ds.items():
                wait_for(lambda: len(logged_clients(d)) + left_out(d) == len(want[k]), 5,
                         lambda: "%d `message from` lines, or left out, from hellod %d; "
                         "stderr tail:\n%s" % (len(want[k]), k, d.log()[-2000:]))
                assert len(logged_clients(d)) >= min(100, len(want[k])), d.log()[-2000:]
                logged = logged_clients(d)
                wrong = [(i, peer, logged[i]) for i, peer in want[k].items()
                         if i in logged and logged[i] != peer]
                assert not wrong, "hellod %d logged other peers than the clients' own " \
                    "(client, its address, logged): %r" % (k, wrong[:10])
                extra = set(logged) - set(want[k])
                assert not extra, "hellod %d logged clients it did not answer: %r" \
                    % (k, sorted(extra)[:10])
            sample = sorted(want[1].items())[:3]
            diag("e.g. client %d from %s: %s" % (sample[0][0], sample[0][1], re.search(
                r'^.*message from %s: "client %d"$' % (re.escape(sample[0][1]), sample[0][0]),
                d1.log(), re.M).group(0)))

            # the health checks (LOCAL headers) passed all along and left no error lines
            assert hap.servers() == {"h1": ("UP", "L4OK"), "h2": ("UP", "L4OK"),
                                     "h3": ("UP", "L4OK")}, hap.servers()
            for k, d in ds.items():
                bad = re.findall(r"^.*(?:%s).*$" % HEADER_TROUBLE_RE, d.log(), re.M)
                assert not bad, "hellod %d: %r" % (k, bad[:5])

            # hellod 2 stops while clients keep coming: HAProxy's checks mark it
            # down, and the other two answer every client from then on
            stop_flag = threading.Event()
            during = {"answered": 0, "failed": []}

            def keep_coming():
                i = 100000
                while not stop_flag.is_set():
                    try:
                        one_client(hap.address, i)
                        during["answered"] += 1
                    except Exception as e:  # noqa: BLE001 - counted, reported
                        during["failed"].append(repr(e))
                    i += 1

            t = threading.Thread(target=keep_coming, daemon=True)
            t.start()
            wait_for(lambda: during["answered"] >= 20, 5, "clients before the stop")
            stopped_at = time.monotonic()
            assert d2.stop() == 0, d2.log()
            hap.wait_status({"h1": "UP", "h2": "DOWN", "h3": "UP"}, timeout=5)
            down_after = time.monotonic() - stopped_at
            stop_flag.set()
            t.join(10)
            diag("h2 marked DOWN %.2fs after SIGTERM; meanwhile %d clients answered, "
                 "%d failed %r" % (down_after, during["answered"], len(during["failed"]),
                                   during["failed"][:3]))

            m = 200
            after = many_clients(hap.address, 2000, m)
            counts2 = {greeting_of(1): 0, greeting_of(3): 0}
            for i, (_, r) in after.items():
                text = r.decode("utf-8", "replace").rstrip("\n")
                assert text in counts2, "after h2 went down, client %d got %r" % (i, r)
                counts2[text] += 1
            diag("after the stop, %d clients: %s" % (m, share_report(counts2, m)))
            assert all(k > m * 0.3 for k in counts2.values()), share_report(counts2, m)
            assert hap.servers()["h2"][0] == "DOWN", hap.servers()
            for k, d in ((1, d1), (3, d3)):
                bad = re.findall(r"^.*(?:%s).*$" % HEADER_TROUBLE_RE, d.log(), re.M)
                assert not bad, "hellod %d: %r" % (k, bad[:5])
            assert hap.proc.poll() is None, hap.log()


# --- the header, from a client that talks to hellod directly ----------------------

def v2_header(src, sport, dst="127.0.0.1", dport=8080, command=0x1):
    """A PROXY v2 header: PROXY (command 1) or LOCAL (0), TCP over IPv4."""
    if command == 0:
        return PROXY_V2_SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return PROXY_V2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def own_peer(c):
    return format_addr(c.sock.getsockname()[:2])


def refused_header(d, data, reason, shut=False):
    """Sends data as a new connection's PROXY header (then, with shut, stops
    writing); hellod must close it unanswered and log 'PEER: REASON, closing'."""
    with connect(d.address) as c:
        peer = own_peer(c)
        c.send(data)
        if shut:
            c.shutdown_write()
        c.expect_eof()
    d.wait_log(r"^(?:<\d>)?%s: %s, closing$" % (re.escape(peer), reason))


@test
def no_header_is_closed_without_a_reply():
    with Hellod(PROXY_ON) as d:
        refused_header(d, b"hi\n", "malformed PROXY header")
        assert "message from" not in d.log(), d.log()


@test
def garbage_header_is_malformed():
    with Hellod(PROXY_ON) as d:
        # the v2 signature with a bad version nibble
        refused_header(d, PROXY_V2_SIG + b"\x31\x11\x00\x0c" + b"\x00" * 12 + b"x\n",
                       "malformed PROXY header")
        refused_header(d, b"\r\n\r\n\x00\r\nQUIZ\nGARBAGE\n", "malformed PROXY header")
        assert "message from" not in d.log(), d.log()


@test
def truncated_and_too_long_headers():
    cfg = {"server": {"proxy_protocol": "any", "proxy_from": "127.0.0.1"}}
    with Hellod(cfg) as d:
        # and then the client stops writing
        refused_header(d, PROXY_V2_SIG + b"\x21", "truncated PROXY header", shut=True)
        # v1: UNKNOWN takes anything up to the CR LF, which does not come within 107 bytes
        refused_header(d, b"PROXY UNKNOWN " + b"x" * 120 + b"\r\n", "PROXY header too long")
        # v2: a length field far over what a header may need
        refused_header(d, PROXY_V2_SIG + b"\x21\x11\xff\xff" + b"\x00" * 64,
                       "PROXY header too long")


@test
def header_that_never_comes_is_logged():
    # issue 7: "a missing, malformed, oversized or truncated header closes the
    # connection with a log line"; proxy.h: "truncated PROXY header" is for a
    # connection that "ended or timed out before it was whole".
    cfg = {"server": {"proxy_protocol": "v2", "proxy_from": "127.0.0.1",
                      "idle_timeout": "300ms"}}
    with Hellod(cfg) as d, connect(d.address) as silent, connect(d.address) as half:
        peers = {own_peer(silent): "nothing at all", own_peer(half): "half a header"}
        half.send(PROXY_V2_SIG[:6])
        silent.expect_eof(timeout=5)
        half.expect_eof(timeout=5)
        for peer, what in peers.items():
            wait_for(lambda: re.search(r"^(?:<[0-5]>)?%s: [^\n]*PROXY header[^\n]*, closing$"
                                       % re.escape(peer), d.log(), re.M), 2,
                     lambda: "a log line (notice) for the connection that sent %s and was "
                     "closed by idle_timeout; stderr:\n%s" % (what, d.log()))


@test
def header_gives_the_peer_and_local_uses_the_real_one():
    with Hellod(PROXY_ON) as d:
        with connect(d.address) as c:
            c.send(v2_header("203.0.113.7", 4444) + b"x\n")
            assert c.read_lines(1) == [GREETING]
        d.wait_log(r'message from 203\.0\.113\.7:4444: "x"$')
        with connect(d.address) as c:  # LOCAL: a health check; the real peer is used
            peer = own_peer(c)
            c.send(v2_header(None, None, command=0) + b"y\n")
            assert c.read_lines(1) == [GREETING]
        d.wait_log(r'message from %s: "y"$' % re.escape(peer))
        with connect(d.address) as c:  # LOCAL and nothing else, as HAProxy's checks do
            c.send(v2_header(None, None, command=0))
            c.shutdown_write()
            c.expect_eof()
        time.sleep(0.2)  # not a readiness wait: time for a wrong log line to show
        assert not re.search(HEADER_TROUBLE_RE, d.log()), d.log()


@test
def a_slow_header_costs_other_clients_nothing():
    with Hellod(PROXY_ON) as d, connect(d.address) as slow:
        slow.send(PROXY_V2_SIG[:5])  # half a header, and the rest later
        with connect(d.address) as c:
            c.send(v2_header("198.51.100.9", 5555) + b"other\n")
            assert c.read_lines(1) == [GREETING]
        slow.send(v2_header("198.51.100.10", 6666)[5:] + b"slow\n")
        assert slow.read_lines(1) == [GREETING]
        d.wait_log(r'message from 198\.51\.100\.10:6666: "slow"$')
        d.wait_log(r'message from 198\.51\.100\.9:5555: "other"$')


@test
def outside_proxy_from_is_closed():
    cfg = {"server": {"proxy_protocol": "v2", "proxy_from": "192.0.2.0/24 10.0.0.1"}}
    with Hellod(cfg) as d, connect(d.address) as c:
        peer = own_peer(c)
        try:
            c.send(v2_header("203.0.113.7", 4444) + b"x\n")
            data = c.read_to_eof()
        except ConnectionResetError:
            data = b""
        assert data == b"", "a client outside proxy_from got %r" % data
        d.wait_log(r"^(?:<\d>)?%s: not in proxy_from, closed$" % re.escape(peer))
        assert "message from" not in d.log(), d.log()


@test
def proxy_protocol_needs_proxy_from():
    tmp = make_tmpdir()
    path = write_config(os.path.join(tmp, "h.conf"),
                        {"server": {"listen": "127.0.0.1:0", "proxy_protocol": "v2"}})
    r = run_hellod(["-c", path])
    assert r.returncode == 78, (r.returncode, r.stderr)
    assert b"proxy_from" in r.stderr, r.stderr


run()
