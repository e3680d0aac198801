"""GET /metrics on hellod's metrics listener, scraped with the real curl."""
from hellotest import *
import shutil

TOO_LONG = b"ERROR message too long\n"
BUSY = b"ERROR server busy\n"
METRICS_RE = r"^(?:<\d>)?(?:hellod: )?metrics on (\S+)/metrics$"
FAMILIES = {
    "hellod_connections_open": "gauge",
    "hellod_connections_total": "counter",
    "hellod_messages_total": "counter",
    "hellod_bytes_received_total": "counter",
    "hellod_bytes_sent_total": "counter",
    "hellod_errors_total": "counter",
    "hellod_rejected_total": "counter",
    "hellod_timeouts_total": "counter",
    "hellod_workers": "gauge",
}
TOO_LONG_ERRORS = 'hellod_errors_total{kind="message_too_long"}'
PROXY_ERRORS = 'hellod_errors_total{kind="proxy_header"}'
BUSY_REJECTED = 'hellod_rejected_total{reason="server_busy"}'
IDLE_TIMEOUTS = 'hellod_timeouts_total{kind="idle"}'
SAMPLES = ["hellod_connections_open", "hellod_connections_total", "hellod_messages_total",
           "hellod_bytes_received_total", "hellod_bytes_sent_total", TOO_LONG_ERRORS,
           PROXY_ERRORS, BUSY_REJECTED, IDLE_TIMEOUTS, "hellod_workers"]


def curl_binary():
    path = shutil.which("curl")
    assert path, "curl is not installed (Debian: apt-get install curl); this test " \
        "needs the real one and does not skip"
    return path


def metrics_addr(d, timeout=3.0):
    """The metrics listener, from hellod's `metrics on ADDR/metrics` line."""
    return parse_addr(d.wait_log(METRICS_RE, timeout)[0])


def curl(addr, path="/metrics", args=()):
    """Runs curl against addr (host, port) or a UNIX socket path: CompletedProcess."""
    cmd = [curl_binary(), "-s", "--max-time", "5"] + list(args)
    if isinstance(addr, str):
        cmd += ["--unix-socket", addr, "http://localhost" + path]
    else:
        cmd.append("http://%s%s" % (format_addr(addr), path))
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("curl did not finish: %s" % " ".join(cmd)) from None


def scrape_text(addr):
    r = curl(addr, args=["-f"])
    assert r.returncode == 0, "curl -sf %s failed with %d: %r" % (addr, r.returncode, r.stderr)
    return r.stdout.decode()


def parse(text):
    """Prometheus text format -> {'name{labels}': value}; checks every sample belongs
    to a family with # HELP and # TYPE before it."""
    assert text.endswith("\n"), "no LF at the end: %r" % text[-80:]
    samples, types, helps = {}, {}, set()
    for line in text.splitlines():
        if not line:
            continue
        m = re.fullmatch(r"# (HELP|TYPE) (\w+) (.+)", line)
        if m and m.group(1) == "HELP":
            helps.add(m.group(2))
            continue
        if m:
            types[m.group(2)] = m.group(3)
            continue
        assert not line.startswith("#"), "unexpected comment line %r" % line
        m = re.fullmatch(r'(\w+)((?:\{\w+="[^"\\]*"(?:,\w+="[^"\\]*")*\})?) (\S+)', line)
        assert m, "not a sample line: %r" % line
        name = m.group(1)
        assert name in types and name in helps, "%s has no # TYPE/# HELP before it" % name
        key = name + m.group(2)
        assert key not in samples, "%s twice" % key
        samples[key] = float(m.group(3))
    for name, kind in FAMILIES.items():
        assert types.get(name) == kind, "# TYPE %s is %r, not %s" % (name, types.get(name), kind)
    for key in SAMPLES:
        assert key in samples, "no %s in:\n%s" % (key, text)
    return samples


def scrape(addr):
    return parse(scrape_text(addr))


def wait_metrics(addr, want, timeout=5.0):
    """Scrapes until every sample in want {key: value} has that value; returns the
    samples. Counters move when a reply has been written, so this polls."""
    last = {}

    def ok():
        last.update(scrape(addr))
        return last if all(last.get(k) == v for k, v in want.items()) else None

    return wait_for(ok, timeout, lambda: "metrics %r; last scrape: %r"
                    % (want, {k: last.get(k) for k in want}), interval=0.05)


def metrics_hellod(config=None, listen="127.0.0.1:0", **kw):
    cfg = {"metrics": {"listen": listen}}
    for section, keys in (config or {}).items():
        cfg.setdefault(section, {}).update(keys)
    return Hellod(cfg, **kw)


@test
def format_and_zero_at_start():
    with metrics_hellod({"server": {"workers": 3}}) as d:
        addr = metrics_addr(d)
        r = curl(addr, args=["-f", "-D", "-", "-o", "/dev/null"])
        assert r.returncode == 0, r
        headers = r.stdout.decode()
        assert re.search(r"^HTTP/\S+ 200", headers), headers
        ctype = re.search(r"^content-type: *(.*?)\r?$", headers, re.M | re.I)
        assert ctype and ctype.group(1).startswith("text/plain; version=0.0.4"), headers
        samples = scrape(addr)
        assert samples["hellod_workers"] == 3, samples
        zero = {k: v for k, v in samples.items() if k != "hellod_workers" and v != 0}
        assert not zero, "not zero before any client: %r" % zero
        # the scrapes are no clients of the hello protocol
        assert scrape(addr)["hellod_connections_total"] == 0


@test
def counters_move_as_traffic_flows():
    with metrics_hellod() as d:
        addr = metrics_addr(d)
        conns = [connect(d.address) for _ in range(3)]
        per_conn = [["a", "bb", "ccc", "dddd", "e"], ["ff", "g", "hh"], ["", "iii"]]
        sent = 0
        for c, lines in zip(conns, per_conn):
            c.send_lines(lines)
            sent += sum(len(x) + 1 for x in lines)
        for c, lines in zip(conns, per_conn):
            assert c.read_lines(len(lines)) == [GREETING] * len(lines)
        n = sum(len(x) for x in per_conn)
        s = wait_metrics(addr, {"hellod_messages_total": n, "hellod_connections_total": 3,
                                "hellod_connections_open": 3,
                                "hellod_bytes_received_total": sent,
                                "hellod_bytes_sent_total": n * len(GREETING)})
        diag("a scrape after %d messages on 3 connections, still open:\n%s"
             % (n, scrape_text(addr)))
        conns[0].close()
        wait_metrics(addr, {"hellod_connections_open": 2, "hellod_connections_total": 3})
        for c in conns[1:]:
            c.shutdown_write()
            c.expect_eof()
            c.close()
        wait_metrics(addr, {"hellod_connections_open": 0})
        # and on: 2 more connections, 7 more messages (one with a CR LF, counted as sent)
        with connect(d.address) as c1, connect(d.address) as c2:
            c1.send(b"one\r\ntwo\r\nthree\r\n")
            c2.send_lines(["4", "5", "6", "7"])
            assert c1.read_lines(3) == [GREETING] * 3
            assert c2.read_lines(4) == [GREETING] * 4
            sent += len(b"one\r\ntwo\r\nthree\r\n") + 8
            wait_metrics(addr, {"hellod_messages_total": n + 7, "hellod_connections_total": 5,
                                "hellod_connections_open": 2,
                                "hellod_bytes_received_total": sent,
                                "hellod_bytes_sent_total": (n + 7) * len(GREETING)})
        s = wait_metrics(addr, {"hellod_connections_open": 0})
        errors = {k: s[k] for k in (TOO_LONG_ERRORS, PROXY_ERRORS, BUSY_REJECTED, IDLE_TIMEOUTS)}
        assert not any(errors.values()), errors


@test
def too_long_message_counted():
    with metrics_hellod({"server": {"max_message": 16}}) as d:
        addr = metrics_addr(d)
        with connect(d.address) as c:
            c.send(b"ok\n" + b"x" * 17 + b"\n")
            assert c.read_lines(2) == [GREETING, TOO_LONG]
            c.expect_eof()
        wait_metrics(addr, {TOO_LONG_ERRORS: 1, "hellod_messages_total": 1,
                            "hellod_connections_open": 0})
        with connect(d.address) as c:
            c.send(b"y" * 40)
            assert c.read_lines(1) == [TOO_LONG]
            c.expect_eof()
        wait_metrics(addr, {TOO_LONG_ERRORS: 2, "hellod_messages_total": 1})


@test
def busy_rejection_counted():
    with metrics_hellod({"server": {"max_connections": 1}}) as d:
        addr = metrics_addr(d)
        with connect(d.address) as first:
            first.send(b"hold\n")
            assert first.read_lines(1) == [GREETING]  # accepted: it holds the only place
            for i in range(1, 3):
                with connect(d.address) as c:
                    assert c.read_to_eof() == BUSY
                s = wait_metrics(addr, {BUSY_REJECTED: i, "hellod_connections_open": 1})
            diag("after 2 busy rejections: connections_total = %d"
                 % s["hellod_connections_total"])
            first.send(b"still here\n")
            assert first.read_lines(1) == [GREETING]
        wait_metrics(addr, {"hellod_connections_open": 0, "hellod_messages_total": 2,
                            BUSY_REJECTED: 2})


@test
def idle_timeout_counted():
    with metrics_hellod({"server": {"idle_timeout": "300ms"}}) as d:
        addr = metrics_addr(d)
        with connect(d.address) as c:
            c.send(b"x\n")
            assert c.read_lines(1) == [GREETING]
            wait_metrics(addr, {"hellod_connections_open": 1, IDLE_TIMEOUTS: 0})
            c.expect_eof(timeout=5)
        wait_metrics(addr, {IDLE_TIMEOUTS: 1, "hellod_connections_open": 0})


@test
def proxy_header_errors_counted():
    cfg = {"server": {"proxy_protocol": "v2", "proxy_from": "127.0.0.1"}}
    with metrics_hellod(cfg) as d:
        addr = metrics_addr(d)
        for _ in range(2):
            with connect(d.address) as c:
                c.send(b"no header\n")
                c.expect_eof()
        wait_metrics(addr, {PROXY_ERRORS: 2, "hellod_messages_total": 0,
                            "hellod_connections_open": 0})


@test
def only_metrics_is_served():
    with metrics_hellod() as d:
        addr = metrics_addr(d)
        for path in ("/nope", "/", "/metrics/x"):
            r = curl(addr, path, ["-o", "/dev/null", "-w", "%{http_code}"])
            assert r.returncode == 0, r
            assert r.stdout == b"404", "%s: HTTP %r" % (path, r.stdout)
        r = curl(addr, "/metrics", ["-o", "/dev/null", "-w", "%{http_code}"])
        assert r.stdout == b"200", r.stdout
        r = curl(addr, "/nope", ["-f"])
        assert r.returncode == 22, r  # curl -f: an HTTP error


@test
def metrics_on_a_unix_socket():
    tmp = make_tmpdir()
    path = os.path.join(tmp, "m.sock")
    with metrics_hellod(listen=path) as d:
        assert metrics_addr(d) == path, d.log()
        with connect(d.address) as c:
            c.send_lines(["over", "tcp"])
            assert c.read_lines(2) == [GREETING] * 2
        wait_metrics(path, {"hellod_messages_total": 2, "hellod_connections_total": 1})
        r = curl(path, "/nope", ["-o", "/dev/null", "-w", "%{http_code}"])
        assert r.stdout == b"404", r


@test
def off_by_default():
    with Hellod() as d:
        with connect(d.address) as c:
            c.send(b"x\n")
            assert c.read_lines(1) == [GREETING]
        assert not re.search(r"metrics", d.log()), d.log()
        listening = tcp_listeners(d.proc.pid)
        assert listening == {d.address}, "hellod listens on %r, not only %r" \
            % (listening, d.address)
        assert unix_listeners(d.proc.pid) == set()


@test
def socket_activated_metrics():
    with Activated(["tcp4", "tcp4"], sa_args=["--fdname=hello:metrics"]) as d:
        hello_addr, m_addr = d.addresses
        # the first connection is a scrape: it starts hellod, which serves it
        s = scrape(m_addr)
        assert s["hellod_connections_total"] == 0, s
        d.wait_ready()
        d.wait_log(re.escape("listening on %s (from the service manager)"
                             % format_addr(hello_addr)))
        assert metrics_addr(d) == m_addr, d.log()
        assert not re.search(r"^(?:<\d>)?listening on %s" % re.escape(format_addr(m_addr)),
                             d.log(), re.M), "the metrics socket is served as hello:\n" + d.log()
        with connect(hello_addr) as c:
            c.send_lines(["a", "b", "c"])
            assert c.read_lines(3) == [GREETING] * 3
        wait_metrics(m_addr, {"hellod_messages_total": 3, "hellod_connections_total": 1,
                              "hellod_connections_open": 0})
        r = curl(m_addr, "/nope", ["-o", "/dev/null", "-w", "%{http_code}"])
        assert r.stdout == b"404", r
        assert d.stop() == 0, d.log()


run()
