"""proxy_timeout (hellod.conf(5)): the PROXY header is a handshake with a
bound of its own, from accept until the header is whole, whatever
idle_timeout is (here 0: never); the bound in force at accept is the one a
connection lives by, through a reload."""
from hellotest import *

PROXY_V1 = b"PROXY TCP4 192.0.2.7 192.0.2.1 40000 4242\r\n"
EXPIRED = r"^(?:<\d>)?%s: no whole PROXY header within proxy_timeout, closing$"
# Generous for ASan on a loaded machine; the lower bound is exact.
LATE = 4.0


def own_peer(c):
    return format_addr(c.sock.getsockname()[:2])


def config(proxy_timeout, proxy="v1"):
    return {"server": {"proxy_protocol": proxy, "proxy_from": "127.0.0.1",
                       "idle_timeout": "0", "proxy_timeout": proxy_timeout, "workers": 1}}


def reload(d, sections, n):
    """Writes sections as d's config, sends SIGHUP, waits for the n-th `reloaded`."""
    sections = {k: dict(v) for k, v in sections.items()}
    sections["server"]["listen"] = "127.0.0.1:0"  # as started: kept
    tmp = d.config_path + ".new"
    write_config(tmp, sections)
    os.rename(tmp, d.config_path)
    d.send_signal(signal.SIGHUP)
    d.wait_log(r"reloaded ", timeout=5, count=n)


def closed_after(c, started, bound, d):
    """Waits for c's EOF; asserts it came no sooner than bound (seconds from
    started, taken before the connect) and not much later."""
    c.expect_eof(timeout=bound + LATE)
    took = time.monotonic() - started
    assert took >= bound, "closed after %.3fs, before the bound of %gs\n%s" % (took, bound, d.log())
    return took


def served(c, d):
    c.send(b"again\n")
    assert c.read_line() == GREETING, d.log()


@test(timeout=30)
def header_is_bound_by_proxy_timeout_when_idle_timeout_is_0():
    """A client that sends nothing, and one that sends half a header, are
    closed proxy_timeout (1s) after accept, with a log line each; one that
    sent its header in time is served, and is not bound by it afterwards."""
    with Hellod(config("1s")) as d:
        started = time.monotonic()
        good = connect(d.address)  # first: its deadline would be the first to come
        silent, half = connect(d.address), connect(d.address)
        peers = [own_peer(silent), own_peer(half)]
        good.send(PROXY_V1 + b"hi\n")
        assert good.read_line() == GREETING, d.log()
        half.send(PROXY_V1[:10])
        took = [closed_after(c, started, 1.0, d) for c in (silent, half)]
        for peer in peers:
            d.wait_log(EXPIRED % re.escape(peer))
        diag("closed after %.3fs and %.3fs" % tuple(took))
        # Both deadlines have passed, and good's came before them: still served.
        served(good, d)
        assert good.nothing_pending(), d.log()
        for c in (good, silent, half):
            c.close()


@test(timeout=30)
def a_connection_keeps_the_bound_it_was_accepted_under():
    """A reload changes proxy_timeout for the connections accepted after it:
    A, accepted under 2s, is closed 2s after its accept although the reload
    made it 1h (and turned the PROXY protocol off); B, accepted under 1h, is
    still served after C, accepted after a reload to 300ms, was closed."""
    with Hellod(config("2s")) as d:
        started = time.monotonic()
        a = connect(d.address)
        reload(d, config("1h", proxy="no"), 1)
        closed_after(a, started, 2.0, d)
        a.close()

    with Hellod(config("1h")) as d:
        b = connect(d.address)
        b.send(PROXY_V1[:10])
        reload(d, config("300ms"), 1)
        # Until the worker has the new configuration, a new connection may
        # still get 1h: wait until one is closed by 300ms.
        deadline = time.monotonic() + 10
        while True:
            started = time.monotonic()
            with connect(d.address) as c:
                try:
                    c.expect_eof(timeout=2)
                    break
                except AssertionError:
                    assert time.monotonic() < deadline, "300ms never in force\n" + d.log()
        assert time.monotonic() - started >= 0.3
        b.send(PROXY_V1[10:] + b"hi\n")
        assert b.read_line() == GREETING, d.log()
        served(b, d)
        b.close()


@test(timeout=30)
def zero_leaves_the_header_to_idle_timeout():
    """proxy_timeout = 0: no bound of its own; idle_timeout (1s) still ends
    a connection whose header never came (as a truncated header)."""
    cfg = config("0")
    cfg["server"]["idle_timeout"] = "1s"
    with Hellod(cfg) as d:
        started = time.monotonic()
        c = connect(d.address)
        peer = own_peer(c)
        closed_after(c, started, 1.0, d)
        d.wait_log(r"^(?:<\d>)?%s: truncated PROXY header, closing$" % re.escape(peer))
        assert not re.search(r"within proxy_timeout", d.log()), d.log()
        c.close()


run()
