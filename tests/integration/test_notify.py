"""sd_notify (READY, STATUS, STOPPING) and the clean stop on SIGTERM/SIGINT."""
from hellotest import *

STATUS_RE = r"STATUS=(\d+) connections? open, (\d+) messages? answered"


def status(conns, msgs):
    return r"STATUS=%d connections? open, %d messages? answered" % (conns, msgs)


@test
def ready_status_stopping_in_order():
    with Hellod() as d:
        with connect(d.address) as c:
            c.send_lines(["a", "b"])
            assert c.read_lines(2) == [GREETING] * 2
        d.wait_notify(status(0, 2), timeout=3)
        assert d.stop() == 0, d.log()
        d.wait_notify("STOPPING=1", timeout=2)
        lines = d.notify_lines()
        ready = [i for i, x in enumerate(lines) if x == "READY=1"]
        stopping = [i for i, x in enumerate(lines) if x == "STOPPING=1"]
        statuses = [i for i, x in enumerate(lines) if x.startswith("STATUS=")]
        assert len(ready) == 1 and len(stopping) == 1, lines
        assert statuses and ready[0] < statuses[0] < stopping[0], lines
        assert all(re.fullmatch(STATUS_RE, lines[i]) for i in statuses
                   if i < stopping[0]), lines
        # READY=1 comes with a STATUS= in the same datagram
        first = next(dg for dg in d.notifications if "READY=1" in dg.split("\n"))
        assert any(x.startswith("STATUS=") for x in first.split("\n")), d.notifications
        assert re.search(status(0, 0), first), first


@test
def ready_only_when_every_socket_is_served():
    tmp = make_tmpdir()
    path = os.path.join(tmp, "s.sock")
    with Hellod({"server": {"listen": "127.0.0.1:0 [::1]:0 %s" % path}}, ready=False) as d:
        d.wait_ready()
        # at READY=1, before looking at the log: all three are listening
        tcp = tcp_listeners(d.proc.pid)
        assert len(tcp) == 2 and {h for h, _ in tcp} == {"127.0.0.1", "::1"}, tcp
        assert unix_listeners(d.proc.pid) == {path}
        for a in list(tcp) + [path]:
            assert seeds_client(a) == GREETING, a


@test
def status_reflects_traffic():
    with Hellod() as d:
        c1, c2 = connect(d.address), connect(d.address)
        c1.send_lines(["1", "2", "3"])
        c2.send_lines(["4", "5"])
        assert c1.read_lines(3) == [GREETING] * 3
        assert c2.read_lines(2) == [GREETING] * 2
        # updates come at most once a second: give it a bit more than that
        d.wait_notify(status(2, 5), timeout=3)
        c1.close()
        c2.close()
        d.wait_notify(status(0, 5), timeout=3)
        assert d.stop() == 0


@test
def status_at_most_once_a_second():
    with Hellod() as d, connect(d.address) as c:
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < 2.5:  # steady traffic: the status keeps changing
            c.send_lines(["tick"])
            assert c.read_lines(1) == [GREETING]
            n += 1
            time.sleep(0.02)
        d.wait_notify(status(1, n), timeout=3)
        times = [t for t, dg in zip(d.notify_times, d.notifications)
                 if "STATUS=" in dg and "READY=1" not in dg]
        assert len(times) >= 2, "the status changed for 2.5s but was sent %d times: %r" % (
            len(times), d.notifications)
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) > 0.8, "STATUS sent more than once a second: gaps %r" % gaps


@test
def sigterm_with_20_clients_answers_everyone():
    with Hellod() as d:
        clients = [connect(d.address) for _ in range(20)]
        for c in clients:  # each is accepted and served...
            c.send_lines(["first"])
            assert c.read_lines(1) == [GREETING]
        for c in clients:  # ...and has a message in flight when SIGTERM comes
            c.send_lines(["second"])
        d.send_signal(signal.SIGTERM)
        for i, c in enumerate(clients):
            assert c.read_to_eof(timeout=5) == GREETING, "client %d" % i
            c.close()
        assert d.wait_exit(10) == 0, d.log()
        d.wait_notify("STOPPING=1", timeout=1)
        log = d.log()
        assert "received SIGTERM, stopping" in log, log
        assert "stopped after 20 connections and 40 messages" in log, log


@test
def sigint_stops_cleanly():
    with Hellod() as d:
        with connect(d.address) as c:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
            d.send_signal(signal.SIGINT)
            c.expect_eof()
        assert d.wait_exit(10) == 0, d.log()
        d.wait_notify("STOPPING=1", timeout=1)
        assert "stopped after 1 connections and 1 messages" in d.log(), d.log()


@test
def stop_with_idle_clients_does_not_wait_for_them():
    # clients that owe nothing are closed at once, not after idle_timeout
    with Hellod({"server": {"idle_timeout": "60s"}}) as d:
        clients = [connect(d.address) for _ in range(5)]
        for c in clients:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        started = time.monotonic()
        assert d.stop(timeout=5) == 0, d.log()
        assert time.monotonic() - started < 3
        for c in clients:
            c.expect_eof()
            c.close()


run()
