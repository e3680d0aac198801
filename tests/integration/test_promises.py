"""Promises hellod(8) and hellod.conf(5) make at a reload, at a stop, at the
descriptor limit and in the log, tried as a hostile user or administrator
would (issue 13): a reload's new backlog, the notices for keys a reload
cannot change, the clients queued at SIGTERM, WATCHDOG=1 and STATUS= when
descriptors run out, and the bounds on the log lines a client can cause
(one per message, one per connection refused or closed for what it sent)."""
from hellotest import *

MESSAGE_LINES_PER_SEC = 100  # hellod.conf(5), [log] messages


def listen_backlog(addr):
    """The backlog in force on the listening socket at addr, as the kernel
    reports it (ss: Send-Q of a socket in LISTEN)."""
    r = subprocess.run(["ss", "-H", "-l", "-t", "-n", "src", format_addr(addr)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    lines = [x.split() for x in r.stdout.splitlines() if x.strip()]
    assert len(lines) == 1, "ss -ltn src %s: %r" % (format_addr(addr), r.stdout)
    return int(lines[0][2])


def reload_and_wait(d, n):
    """SIGHUP, then wait for the n-th `reloaded` line (or a failed reload)."""
    d.send_signal(signal.SIGHUP)
    d.wait_log(r"reload(ed| failed)", count=n, timeout=5)


# --- item 4: a reload's backlog ------------------------------------------------

@test
def reload_puts_a_new_backlog_in_force_on_the_listeners_it_keeps():
    with Hellod({"server": {"backlog": 10}}) as d:
        kept = d.address
        assert listen_backlog(kept) == 10
        # the same entry (kept), and one more
        write_config(d.config_path, {"server": {"listen": "127.0.0.1:0 [::1]:0", "backlog": 500}})
        reload_and_wait(d, 1)
        assert "reload failed" not in d.log(), d.log()
        added = [a for a in d.addresses if a != kept]
        assert added, d.log()
        assert listen_backlog(added[-1]) == 500
        assert listen_backlog(kept) == 500, "the kept listener still has the old backlog"
        # and smaller again
        write_config(d.config_path, {"server": {"listen": "127.0.0.1:0", "backlog": 7}})
        reload_and_wait(d, 2)
        assert listen_backlog(kept) == 7
        assert seeds_client(kept) == GREETING


# --- item 5: the notices compare with what runs ---------------------------------

@test
def reload_notices_compare_with_what_runs():
    workers = r"workers = \.\.\. changed: takes effect at the next start"
    metrics = r"\[metrics\] listen = \.\.\. changed: takes effect at the next start"
    with Hellod({"server": {"workers": 1}}) as d:
        def reload_with(n, sections):
            sections.setdefault("server", {})["listen"] = "127.0.0.1:0"  # kept as it is
            write_config(d.config_path, sections)
            reload_and_wait(d, n)
            return (len(re.findall(workers, d.log())), len(re.findall(metrics, d.log())))

        assert reload_with(1, {"server": {"workers": 2}}) == (1, 0)
        # the same new value again: still not in effect, so said again
        assert reload_with(2, {"server": {"workers": 2}}) == (2, 0), d.log()
        # back to what runs: nothing to say
        assert reload_with(3, {"server": {"workers": 1}}) == (2, 0), d.log()
        assert reload_with(4, {"server": {"workers": 1},
                               "metrics": {"listen": "127.0.0.1:0"}}) == (2, 1)
        # without it again: that is what runs
        assert reload_with(5, {"server": {"workers": 1}}) == (2, 1), d.log()
        assert seeds_client(d.address) == GREETING


# --- item 1: SIGTERM and the clients queued in the backlog --------------------------

@test(timeout=60)
def sigterm_serves_every_client_queued_in_the_backlog():
    n = 1000
    with Hellod({"server": {"workers": 2, "backlog": 4096}}) as d:
        d.send_signal(signal.SIGSTOP)
        clients = []
        try:
            for i in range(n):  # the kernel completes each handshake into the backlog
                c = connect(d.address)
                c.send(b"hi\n")
                clients.append(c)
            d.send_signal(signal.SIGTERM)
        finally:
            d.send_signal(signal.SIGCONT)
        answered = 0
        deadline = time.monotonic() + 20
        for c in clients:
            try:
                if c.read_to_eof(timeout=max(0.1, deadline - time.monotonic())) == GREETING:
                    answered += 1
            except (OSError, AssertionError):
                pass
            c.close()
        assert d.wait_exit(10) == 0, d.log()
        assert answered == n, "%d of %d clients queued at SIGTERM were answered" % (answered, n)


# --- item 8: the descriptor limit -----------------------------------------------------

class Limited(Hellod):
    """hellod under `prlimit --nofile=N:N` (soft and hard: it cannot raise
    it), with a watchdog of WATCHDOG_USEC as systemd would set it."""

    def __init__(self, nofile, watchdog_usec, config=None):
        super().__init__(config)
        self.prefix = ["env", "WATCHDOG_USEC=%d" % watchdog_usec,
                       "prlimit", "--nofile=%d:%d" % (nofile, nofile), "--"]

    def command(self):
        return self.prefix + self.hellod_command()


def watchdogs(d):
    return d.notify_lines().count("WATCHDOG=1")


@test(timeout=40)
def watchdog_and_status_go_on_at_the_descriptor_limit():
    with Limited(32, 1000000, {"server": {"workers": 1}}) as d:
        d.wait_notify("WATCHDOG=1", timeout=3)
        conns = []
        for _ in range(60):  # more than the limit: the rest wait in the backlog
            conns.append(connect(d.address))
        d.wait_log(r"cannot accept: Too many open files", timeout=5)
        # the accepted ones are served; at least 20 fit
        served = []
        for c in conns[:20]:
            c.send(b"hi\n")
            assert c.read_line() == GREETING
            served.append(c)
        # descriptors are short all along now: WATCHDOG=1 must still go out
        # every 0.5 s, and STATUS= must count the open connections
        before = watchdogs(d)
        wait_for(lambda: watchdogs(d) >= before + 4, 5,
                 lambda: "WATCHDOG=1 at the descriptor limit (%d before, %d now); stderr:\n%s"
                 % (before, watchdogs(d), d.log()))
        i, line = d.wait_notify(r"STATUS=(\d+) connections open, 20 messages answered", timeout=5)
        assert int(re.match(r"STATUS=(\d+)", line).group(1)) >= 20, line
        for c in served:
            c.send(b"again\n")
            assert c.read_line() == GREETING
        for c in conns:
            c.close()
        assert d.stop() == 0, d.log()


@test
def start_says_when_max_connections_is_above_the_descriptor_limit():
    with Limited(64, 0, {"server": {"max_connections": 1000}}) as d:
        d.wait_log(r"max_connections = 1000 is above what the descriptor limit of 64 allows",
                   timeout=3)
    # and silent when it fits
    with Limited(4096, 0, {"server": {"max_connections": 1000}}) as d:
        assert seeds_client(d.address) == GREETING
        assert "descriptor limit" not in d.log(), d.log()


# --- item 9: the bound on message lines ---------------------------------------------

@test(timeout=60)
def message_lines_are_bounded_and_the_rest_counted():
    per_conn, n_conns = 600, 10
    with Hellod({"log": {"messages": True}, "server": {"max_message": 64}}) as d:
        started = time.monotonic()
        conns = [connect(d.address) for _ in range(n_conns)]
        for i, c in enumerate(conns):
            c.send_lines(["flood %d %d" % (i, j) for j in range(per_conn)])
        for c in conns:
            assert c.read_lines(per_conn, timeout=20) == [GREETING] * per_conn
        took = time.monotonic() - started
        sent = per_conn * n_conns
        left_out_re = r"(\d+) message lines left out: at most %d are logged per 1s" % (
            MESSAGE_LINES_PER_SEC)

        def counts():
            log = d.log()
            return (len(re.findall(r"message from 127\.0\.0\.1:\d+: \"flood ", log)),
                    sum(int(x) for x in re.findall(left_out_re, log)))

        # the count of the lines left out comes within a second or two of the flood's end
        wait_for(lambda: sum(counts()) == sent, 5,
                 lambda: "%d logged + %d left out == %d sent" % (counts() + (sent,)))
        logged, left_out = counts()
        assert logged <= MESSAGE_LINES_PER_SEC * (int(took) + 2), (logged, took)
        assert left_out > 0
        # hellod's own lines still come
        with connect(d.address) as c:
            c.send(b"x" * 100 + b"\n")
            assert c.read_to_eof() == b"ERROR message too long\n"
        d.wait_log(r"message too long, closing")
        assert d.stop() == 0
        log = d.log()
        assert "received SIGTERM, stopping" in log and "stopped after" in log, log



# --- the bound on lines about clients refused or closed ----------------------------

CLIENT_ERROR_LINES_PER_SEC = 100  # hellod(8), LOGGING
FLOOD = 400


def flood_client_errors(config, line, client, held=0):
    """FLOOD clients, one after the other, each refused or closed for what it
    does (client(address) returns what hellod wrote to it): at most
    CLIENT_ERROR_LINES_PER_SEC lines a second say so, the rest are counted in
    `N client error lines left out`, and hellod's own lines still come."""
    with Hellod(config) as d:
        holders = [connect(d.address) for _ in range(held)]
        for c in holders:
            c.send_lines(["hold"])
            assert c.read_lines(1) == [GREETING]
        started = time.monotonic()
        for _ in range(FLOOD):
            client(d.address)
        took = time.monotonic() - started
        line_re = r"^(?:<5>)?127\.0\.0\.1:\d+: %s$" % re.escape(line)
        left_out_re = r"^(?:<5>)?(\d+) client error lines left out: at most %d are logged per 1s$" % (
            CLIENT_ERROR_LINES_PER_SEC)

        def counts():
            log = d.log()
            return (len(re.findall(line_re, log, re.M)),
                    sum(int(x) for x in re.findall(left_out_re, log, re.M)))

        # the count of the lines left out comes within a second or two of the flood's end
        wait_for(lambda: sum(counts()) == FLOOD, 5,
                 lambda: "%d logged + %d left out == %d clients (%.1fs)\n%s" % (
                     counts() + (FLOOD, took, d.log()[-2000:])))
        logged, left_out = counts()
        assert logged <= CLIENT_ERROR_LINES_PER_SEC * (int(took) + 2), (logged, took)
        assert left_out > 0, (logged, took)
        for c in holders:
            c.close()
        assert d.stop() == 0
        log = d.log()
        assert "received SIGTERM, stopping" in log and "stopped after" in log, log


def closed_at_once(address):
    with connect(address) as c:
        return c.read_to_eof()


@test(timeout=60)
def lines_about_untrusted_proxy_peers_are_bounded():
    flood_client_errors({"server": {"proxy_protocol": "v1", "proxy_from": "10.0.0.1"}},
                        "not in proxy_from, closed", closed_at_once)


@test(timeout=60)
def lines_about_bad_proxy_headers_are_bounded():
    def client(address):
        with connect(address) as c:
            c.send(b"HELLO\r\n")
            assert c.read_to_eof() == b""

    flood_client_errors({"server": {"proxy_protocol": "v1", "proxy_from": "127.0.0.1"}},
                        "malformed PROXY header, closing", client)


@test(timeout=60)
def lines_about_busy_refusals_are_bounded():
    def client(address):
        assert closed_at_once(address) == b"ERROR server busy\n"

    flood_client_errors({"server": {"max_connections": 1}}, "server busy, refused", client,
                        held=1)


@test(timeout=60)
def lines_about_messages_too_long_are_bounded():
    def client(address):
        with connect(address) as c:
            c.send(b"x" * 100 + b"\n")
            assert c.read_to_eof() == b"ERROR message too long\n"

    flood_client_errors({"server": {"max_message": 64}}, "message too long, closing", client)


run()
