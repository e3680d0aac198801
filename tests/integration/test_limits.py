"""hellod under load and attack: out of descriptors, connection floods, slow
and greedy clients, half-close and resets, SIGTERM under load, SIGHUP storms.

Each test says what it checks; each fails when that behaviour breaks (see the
notes in docs or the report of issue 5 for how each was seen failing)."""
import re
import select
import selectors
import struct

from hellotest import *

BUSY = b"ERROR server busy\n"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# A sanitizer's report in hellod's stderr fails the test, whatever its exit.
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
                          r"SUMMARY: \w+Sanitizer")
# Log lines at err (<3>) or warning (<4>), or the terminal's prefixes.
BAD_LOG_RE = re.compile(r"^(<[0-4]>|hellod: (error|warning): )", re.M)


# --- helpers ------------------------------------------------------------------

class Daemon(Hellod):
    """Hellod that also fails the test when hellod did not exit 0 once stopped,
    or when a sanitizer reported anything; prefix: a command run before
    hellod (like prlimit)."""

    def __init__(self, config=None, args=(), *, prefix=(), **kw):
        super().__init__(config, args, **kw)
        self.prefix = list(prefix)
        self.final_log = ""
        self.final_rc = None

    def command(self):
        return self.prefix + self.hellod_command()

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.final_rc = self.stop(timeout=8)
                except AssertionError as e:
                    self.final_rc = "did not stop: %s" % e
            else:
                self.final_rc = self.proc.returncode
            self.final_log = self.log()
        super().close()

    def __exit__(self, exc_type, exc, tb):
        super().__exit__(exc_type, exc, tb)
        if exc_type is None and self.proc is not None:
            m = SANITIZER_RE.search(self.final_log)
            assert not m, "a sanitizer reported a problem in hellod:\n" + self.final_log
            assert self.final_rc == 0, "hellod ended with status %r:\n%s" % (self.final_rc,
                                                                               self.final_log)
        return False

    @property
    def pid(self):
        return self.proc.pid

    def cpu_seconds(self):
        """User + system CPU time used so far, from /proc/PID/stat."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1))

    def n_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def assert_alive(self):
        assert self.proc.poll() is None, "hellod died (status %s):\n%s" % (self.proc.returncode,
                                                                          self.log())

    def assert_clean_log(self, allow=()):
        bad = [line for line in self.log().splitlines()
               if BAD_LOG_RE.match(line) and not any(re.search(a, line) for a in allow)]
        assert not bad, "unexpected error or warning lines:\n" + "\n".join(bad)


def ask(addr, line=b"ping", timeout=5.0):
    """One request, one reply, on a new connection: the reply and its latency."""
    started = time.monotonic()
    with connect(addr, timeout) as c:
        c.send(line + b"\n")
        reply = c.read_line(timeout)
        return reply, time.monotonic() - started


def replies_within(conns, timeout):
    """Waits up to timeout for each Conn to have one line; returns those that did."""
    sel = selectors.DefaultSelector()
    for c in conns:
        if b"\n" not in c.buf:
            sel.register(c.sock, selectors.EVENT_READ, c)
    done = [c for c in conns if b"\n" in c.buf]
    deadline = time.monotonic() + timeout
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                data = b""
            c.buf += data
            if b"\n" in c.buf or not data:
                sel.unregister(c.sock)
                if b"\n" in c.buf:
                    done.append(c)
    sel.close()
    return done


def take_line(c):
    i = c.buf.index(b"\n")
    line, c.buf = c.buf[:i + 1], c.buf[i + 1:]
    return line


def still_served(d, conn, text):
    """conn (open all along) still gets its reply; if not, say how hellod died."""
    try:
        conn.send(text + b"\n")
        assert conn.read_line() == GREETING
    except (OSError, AssertionError):
        time.sleep(0.2)  # let a dying hellod finish dying, for the message below
        d.assert_alive()
        raise


def raw_socket(addr):
    s = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(addr)
    return s


def reset(sock):
    """Closes with a RST: SO_LINGER on, timeout 0."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def server_rx_queue(server_addr, client_sock):
    """Bytes the client sent that wait, unread by hellod, in the receive queue
    of hellod's end of the connection (Recv-Q, from ss: see tcp_sockets())."""
    local, remote = tuple(server_addr[:2]), client_sock.getsockname()[:2]
    for s in tcp_sockets():
        if s["local"] == local and s["peer"] == remote:
            return s["recv_q"]
    raise AssertionError("no connection %s -> %s in ss's table" % (remote, local))


def write_config_atomically(path, sections):
    tmp = path + ".new"
    write_config(tmp, sections)
    os.rename(tmp, path)


# --- out of descriptors ---------------------------------------------------------

@test(timeout=40)
def out_of_descriptors_keeps_serving_and_does_not_spin():
    """Under prlimit --nofile=32:32 with 60 clients: hellod accepts what it can,
    keeps serving those, does not spin on the listener (CPU time over 1s stays
    low), and accepts the waiting clients as descriptors come free (each
    client leaves once answered)."""
    with Daemon(prefix=["prlimit", "--nofile=32:32", "--"]) as d:
        limits = open("/proc/%d/limits" % d.pid).read()
        assert re.search(r"Max open files\s+32\s+32", limits), limits
        conns = []
        for i in range(60):
            c = connect(d.address)  # the kernel completes it: it waits in the backlog
            c.send(b"first %d\n" % i)
            conns.append(c)
        answered = replies_within(conns, 2.0)
        d.wait_log(r"cannot accept: Too many open files", timeout=3)
        waiting = [c for c in conns if c not in answered]
        diag("%d clients answered, %d waiting; hellod holds %d descriptors"
             % (len(answered), len(waiting), d.n_fds()))
        assert 5 <= len(answered) < 32 and waiting, (len(answered), len(waiting))
        for c in answered:
            assert take_line(c) == GREETING

        # no spinning: at most 0.25s of CPU time over 1s while clients wait
        before, t0 = d.cpu_seconds(), time.monotonic()
        time.sleep(1.0)  # a measurement interval, not a readiness wait
        used = d.cpu_seconds() - before
        elapsed = time.monotonic() - t0
        diag("CPU time while out of descriptors: %.2fs over %.2fs" % (used, elapsed))
        assert used < 0.25 * elapsed, "hellod used %.2fs of CPU in %.2fs: spinning?" % (used,
                                                                                         elapsed)
        # the open connections are served as before
        for c in answered:
            c.send(b"second\n")
        assert len(replies_within(answered, 3.0)) == len(answered)
        for c in answered:
            assert take_line(c) == GREETING
        d.assert_alive()

        # closing 10 frees 10 descriptors: 10 waiting clients get in and are answered
        for c in answered[:10]:
            c.close()
        more = replies_within(waiting, 5.0)
        assert len(more) >= min(10, len(waiting)), \
            "only %d of the waiting clients answered after 10 closed" % len(more)
        # and as everyone leaves once answered, every waiting client is answered
        for c in more:
            assert take_line(c) == GREETING
        for c in answered[10:] + more:
            c.close()
        pending = [c for c in waiting if c not in more]
        deadline = time.monotonic() + 10
        while pending and time.monotonic() < deadline:
            for c in replies_within(pending, 1.0):
                assert take_line(c) == GREETING
                c.close()
                pending.remove(c)
        assert not pending, "%d waiting clients never answered" % len(pending)
        d.assert_alive()
        d.assert_clean_log(allow=[r"cannot accept: Too many open files",
                             r"max_connections = \d+ is above what the descriptor limit"])


@test
def soft_descriptor_limit_raised_to_the_hard_one():
    """Started with a soft RLIMIT_NOFILE of 64 under a hard one of 4096, hellod
    raises the soft limit to 4096, and says so at debug level."""
    with Daemon({"log": {"level": "debug"}}, prefix=["prlimit", "--nofile=64:4096", "--"]) as d:
        d.wait_log(r"descriptor limit raised to 4096")
        limits = open("/proc/%d/limits" % d.pid).read()
        assert re.search(r"Max open files\s+4096\s+4096", limits), limits


# --- connection floods ------------------------------------------------------------

@test(timeout=30)
def flood_past_max_connections():
    """max_connections = 3: the 4th..20th client gets `ERROR server busy` then
    EOF at once; the first 3 are answered before, during and after."""
    with Daemon({"server": {"max_connections": 3}}) as d:
        first = [connect(d.address) for _ in range(3)]
        for c in first:
            c.send(b"before\n")
            assert c.read_line() == GREETING
        for round_ in range(2):
            flood = [connect(d.address) for _ in range(17)]
            for i, c in enumerate(flood):
                started = time.monotonic()
                data = c.read_to_eof(timeout=3)
                assert data == BUSY, "client %d got %r, not %r then EOF" % (i + 4, data, BUSY)
                assert time.monotonic() - started < 1.5
                c.close()
            for c in first:
                c.send(b"during round %d\n" % round_)
                assert c.read_line() == GREETING
        for c in first:
            c.shutdown_write()
            c.expect_eof()
            c.close()
        d.wait_log(r"server busy, refused", count=34)
        # a place is free again
        reply, _ = ask(d.address)
        assert reply == GREETING
        d.assert_clean_log()


# --- slow clients ---------------------------------------------------------------

def trickle(addr, interval, duration, byte=b"x"):
    """Sends one byte every interval until the server closes the connection or
    duration passes; returns (seconds until closed or None, bytes sent, data)."""
    s = raw_socket(addr)
    started = time.monotonic()
    sent, data = 0, b""
    try:
        while time.monotonic() - started < duration:
            try:
                s.send(byte)
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started, sent, data
            r, _, _ = select.select([s], [], [], interval)
            if r:
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    return time.monotonic() - started, sent, data
                data += chunk
        return None, sent, data
    finally:
        s.close()


@test(timeout=30)
def slowloris_cannot_hold_a_connection_past_idle_timeout():
    """A client that sends one byte every 100ms and never ends a message
    (message_timeout far off) is closed after idle_timeout (1s): trickled
    bytes are not progress. Meanwhile others are answered without delay."""
    cfg = {"server": {"idle_timeout": "1s", "message_timeout": "30s"}, "log": {"level": "debug"}}
    with Daemon(cfg) as d:
        results = []
        threads = [threading.Thread(target=lambda: results.append(trickle(d.address, 0.1, 6)))
                   for _ in range(5)]
        for t in threads:
            t.start()
        worst = 0.0
        end = time.monotonic() + 1.5
        while time.monotonic() < end:  # others are served while the tricklers trickle
            reply, took = ask(d.address)
            assert reply == GREETING
            worst = max(worst, took)
        for t in threads:
            t.join()
        diag("tricklers closed after %s s; slowest other client %.3fs"
             % (["%.2f" % r[0] if r[0] is not None else None for r in results], worst))
        for closed_after, sent, data in results:
            assert closed_after is not None, \
                "a trickler held its connection for 6s with idle_timeout=1s (%d bytes sent)" % sent
            assert 0.9 <= closed_after <= 2.5, "closed after %.2fs" % closed_after
            assert data == b"", "a trickler got %r" % data
        assert worst < 0.5, "a client waited %.2fs while tricklers trickled" % worst
        d.wait_log(r"idle for too long, closing", count=5)


@test(timeout=30)
def slowloris_under_default_message_timeout():
    """Same with the default message_timeout (100ms) and a byte every 50ms: the
    bytes never make a message, so idle_timeout (1s) closes the trickler."""
    with Daemon({"server": {"idle_timeout": "1s"}}) as d:
        closed_after, sent, data = trickle(d.address, 0.05, 6)
        assert closed_after is not None, "a trickler held its connection for 6s (%d bytes)" % sent
        assert 0.9 <= closed_after <= 2.5, "closed after %.2fs" % closed_after
        assert data == b""


@test(timeout=60)
def greedy_pipeliner_is_bounded_then_answered_in_order():
    """A client that pipelines 50 MB without reading: hellod stops reading from
    it (the client's sends block) and its RSS grows by less than 4 MiB; once
    the client reads, every message is answered, in order, then EOF."""
    # 100-byte lines: hellod's 64 KiB reads end inside a line, so the line
    # hellod stops reading in is cut: it must still be one message.
    line = b"m" * 99 + b"\n"
    total = 50 * 1024 * 1024
    n_msgs = total // len(line)
    with Daemon() as d:
        assert ask(d.address)[0] == GREETING  # warm up: one connection served
        rss_before = d.rss_kib()
        c = connect(d.address, timeout=60)
        progress = {"sent": 0, "error": None}

        def writer():
            try:
                for i in range(0, n_msgs, 1000):
                    chunk = line * min(1000, n_msgs - i)
                    c.sock.sendall(chunk)
                    progress["sent"] += len(chunk)
                c.sock.shutdown(socket.SHUT_WR)
            except OSError as e:
                progress["error"] = e

        t = threading.Thread(target=writer, daemon=True)
        t.start()

        # wait until the sends stop making progress
        def stalled():
            a = progress["sent"]
            time.sleep(0.3)  # a measurement interval: did the writer move?
            return a == progress["sent"] and a > 0
        wait_for(stalled, 10, "the client's sends to block")
        stuck_at = progress["sent"]
        rss_blocked = d.rss_kib()
        # hellod has stopped reading: what the client sent waits in hellod's
        # receive queue, and stays there (hellod's replies fill the kernel's
        # buffers, not its memory)
        queued = server_rx_queue(d.address, c.sock)
        time.sleep(0.5)  # a measurement interval: does hellod read any of it?
        queued_later = server_rx_queue(d.address, c.sock)
        diag("sends blocked after %.1f MiB of %d MiB; %d bytes wait unread in hellod's "
             "receive queue; hellod RSS %d -> %d KiB"
             % (stuck_at / 2**20, total // 2**20, queued, rss_before, rss_blocked))
        assert stuck_at < total, "hellod read all 50 MiB without the client reading"
        assert queued > 0 and queued_later >= queued, \
            "hellod kept reading a client that does not read (%d then %d bytes queued)" % (
                queued, queued_later)
        assert progress["sent"] == stuck_at
        assert rss_blocked - rss_before < 4096, \
            "hellod's RSS grew by %d KiB for one greedy client" % (rss_blocked - rss_before)

        # now read: everything is answered, in order, then EOF
        got = 0
        buf = b""
        deadline = time.monotonic() + 45
        while True:
            assert time.monotonic() < deadline, "only %d of %d replies" % (got, n_msgs)
            data = c.sock.recv(1 << 20)
            if not data:
                break
            buf += data
            whole = len(buf) - len(buf) % len(GREETING)
            assert buf[:whole] == GREETING * (whole // len(GREETING)), \
                "a reply that is not the greeting near %r" % buf[:80]
            got += whole // len(GREETING)
            buf = buf[whole:]
        t.join(5)
        assert progress["error"] is None, progress["error"]
        assert buf == b"" and got == n_msgs, "%d replies (+%r) for %d messages" % (got, buf,
                                                                                   n_msgs)
        rss_after = d.rss_kib()
        diag("after: RSS %d KiB" % rss_after)
        assert rss_after - rss_before < 4096
        c.close()
        d.assert_clean_log()


@test(timeout=30)
def greedy_pipeliner_closed_after_idle_timeout_without_progress():
    """A client that pipelines and never reads makes no progress once its
    replies fill the socket: hellod closes it after idle_timeout (1s)."""
    with Daemon({"server": {"idle_timeout": "1s"}, "log": {"level": "debug"}}) as d:
        s = raw_socket(d.address)
        s.setblocking(False)
        chunk = b"x\n" * 32768
        started = time.monotonic()
        closed_after = None
        blocked_since = None
        while time.monotonic() - started < 10:
            try:
                s.send(chunk)
                blocked_since = None
            except BlockingIOError:
                blocked_since = blocked_since or time.monotonic()
                time.sleep(0.02)
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - (blocked_since or started)
                break
        s.close()
        assert closed_after is not None, "a client that never reads kept its connection for 10s"
        diag("closed %.2fs after its sends blocked" % closed_after)
        assert closed_after < 3.0
        d.wait_log(r"idle for too long, closing")
        assert ask(d.address)[0] == GREETING


# --- half-close and resets ----------------------------------------------------------

@test(timeout=30)
def half_close_gets_every_reply_then_eof():
    """shutdown(SHUT_WR) after N lines (and a last line without LF): N+1
    replies, then EOF; also when the client sent everything before reading."""
    with Daemon() as d:
        for n in (1, 1000, 100000):
            with connect(d.address, timeout=20) as c:
                c.send(b"line\n" * n + b"no newline")
                c.shutdown_write()
                data = c.read_to_eof(timeout=20)
                assert data == GREETING * (n + 1), "%d bytes for %d messages" % (len(data), n + 1)
        d.assert_clean_log()


@test(timeout=30)
def reset_mid_reply_costs_only_that_connection():
    """Clients that reset (SO_LINGER 0) with replies pending, and UNIX clients
    that close with replies pending (hellod's next write fails with EPIPE):
    hellod survives (no SIGPIPE) and keeps serving everyone else, with no
    error logged."""
    unix = os.path.join(make_tmpdir(), "hellod.sock")
    with Daemon(listen="127.0.0.1:0 " + unix) as d:
        d.wait_log(r"listening on " + re.escape(unix))
        with connect(d.address) as other:
            for i in range(20):
                s = raw_socket(d.address)
                s.sendall(b"x\n" * 100000)  # 1.8 MB of replies owed
                assert s.recv(100)  # the replies are flowing
                reset(s)
                still_served(d, other, b"still there %d" % i)
            for _ in range(20):  # and resets before any reply was read
                s = raw_socket(d.address)
                s.sendall(b"y\n" * 5000)
                reset(s)
            for i in range(20):
                # a UNIX client that goes away with replies pending: hellod's
                # next write fails with EPIPE, which is where a SIGPIPE would
                # kill it (TCP mostly says ECONNRESET instead)
                with connect(unix) as u:
                    u.send(b"z\n" * 100000)
                    assert u.sock.recv(100)
                still_served(d, other, b"still there after EPIPE %d" % i)
            still_served(d, other, b"after")
        d.assert_alive()
        assert ask(d.address)[0] == GREETING
        d.assert_clean_log()


# --- signals under load -------------------------------------------------------------

class WindowClient(threading.Thread):
    """Pipelines batches of lines, keeping up to `window` unanswered, until told
    to stop sending; then waits for `go` before reading on until EOF. Counts the
    lines it sent and the replies it received."""

    def __init__(self, addr, index, go, batch=1000, window=100000):
        super().__init__(daemon=True)
        self.c = connect(addr, timeout=20)
        self.index, self.go, self.batch, self.window = index, go, batch, window
        self.sent = 0
        self.received = 0
        self.bad = None
        self.ended = None  # "eof" or the error
        self.ended_at = None  # time.monotonic() then
        self.stop_sending = threading.Event()
        self.stopped = threading.Event()

    def _read_some(self):
        data = self.c.sock.recv(1 << 20)
        if not data:
            return False
        self.c.buf += data
        whole = len(self.c.buf) - len(self.c.buf) % len(GREETING)
        if self.c.buf[:whole] != GREETING * (whole // len(GREETING)) and self.bad is None:
            self.bad = self.c.buf[:100]
        self.received += whole // len(GREETING)
        self.c.buf = self.c.buf[whole:]
        return True

    def run(self):
        lines = b"l\n" * self.batch
        try:
            while not self.stop_sending.is_set():
                if self.sent - self.received < self.window:
                    self.c.sock.sendall(lines)
                    self.sent += self.batch
                else:
                    self._read_some()
            self.stopped.set()
            self.go.wait(20)
            while self._read_some():
                pass
            self.ended = "eof"
            # Done, as any client is once it has read to EOF: close. Until
            # our FIN, hellod lingers on the connection (up to 2 s: its stop
            # ended it, so we might still be sending), and that would count
            # against the stop's limit of 5 s.
            self.c.sock.close()
        except OSError as e:
            self.ended = e
        finally:
            self.ended_at = time.monotonic()
            self.stopped.set()


@test(timeout=60)
def sigterm_under_load_answers_every_line_sent_before_it():
    """20 clients pipelining, up to 100,000 lines unanswered each (1.8 MB of
    replies: more than the socket buffers hold), two of them 500,000 (9 MB).
    They stop sending and reading; SIGTERM; they read on, to EOF, and close.
    hellod exits 0 within 6s, and each client received exactly one well-formed
    reply for every line it sent, then EOF (docs/SPEC.md: on SIGTERM hellod
    "reads what its clients already sent, sends every reply owed, closes", in
    at most 5 s). What is checkable: the lines sent before the signal, as the
    clients stop first; replies are all alike, so in order = none lost, none
    extra, none cut.

    The stop's 5 s must hold what is owed at the signal (about the sum of the
    windows: 2.8M lines, 50 MB) on a loaded CI machine, with the ASan build:
    these readers take it in about 0.2 s on an idle machine, and 10-20 times
    slower under heavy load. With five windows of 1,000,000 (117 MB) and
    clients that kept their sockets open after EOF (so hellod lingered 2 s on
    each for a FIN), the stop ran out of time under load: "clients still
    connected at the stop's limit", replies cut (issue 15)."""
    with Daemon() as d:
        go = threading.Event()
        clients = [WindowClient(d.address, i, go, window=500000 if i < 2 else 100000)
                   for i in range(20)]
        for c in clients:
            c.start()
        time.sleep(1.0)  # load for a second: not a readiness wait
        for c in clients:
            c.stop_sending.set()
        for c in clients:
            assert c.stopped.wait(10), "a client did not stop sending"
        in_flight = sum(c.sent - c.received for c in clients)
        d.send_signal(signal.SIGTERM)
        started = time.monotonic()
        go.set()
        rc = d.wait_exit(timeout=8)
        took = time.monotonic() - started
        for c in clients:
            c.join(10)
        last = max(c.ended_at or started for c in clients) - started
        diag("%d lines sent, %d unanswered at SIGTERM (%.0f MB of replies); the last EOF "
             "after %.2fs, exit %d after %.2fs"
             % (sum(c.sent for c in clients), in_flight, in_flight * len(GREETING) / 1e6, last,
                rc, took))
        problems = []
        for c in clients:
            if c.bad is not None:
                problems.append("client %d got a malformed reply: %r" % (c.index, c.bad))
            if c.received != c.sent or c.ended != "eof" or c.c.buf:
                problems.append("client %d: %d replies (and %r) for %d lines, then %s"
                                % (c.index, c.received, c.c.buf, c.sent, c.ended))
            c.c.close()
        assert rc == 0, d.log()
        assert took < 6, "exit after %.2fs" % took
        assert not problems, "replies lost:\n" + "\n".join(problems) + "\n" + d.log()
        d.wait_log(r"received SIGTERM, stopping")
        d.wait_log(r"stopped after \d+ connections and \d+ messages")
        d.assert_clean_log()


@test(timeout=40)
def sigterm_with_greedy_clients_exits_within_the_drain_limit():
    """5 clients pipelining megabytes and never reading: SIGTERM still ends
    hellod with status 0 within 6s (it gives up on them after 5s)."""
    with Daemon() as d:
        socks = []
        for _ in range(5):
            s = raw_socket(d.address)
            s.setblocking(False)
            try:
                for _ in range(200):
                    s.send(b"z\n" * 16384)
            except BlockingIOError:
                pass
            socks.append(s)
        d.send_signal(signal.SIGTERM)
        started = time.monotonic()
        rc = d.wait_exit(timeout=7)
        took = time.monotonic() - started
        diag("exit %d after %.2fs" % (rc, took))
        assert rc == 0 and took < 6, (rc, took)
        for s in socks:
            s.close()
        # Each worker names its own: together, the five that never read.
        left = re.findall(r"(\d+) clients still connected at the stop's limit of 5 seconds, "
                          r"closing them", d.log())
        assert sum(map(int, left)) == 5, d.log()
        d.assert_clean_log(allow=[r"clients still connected at the stop.s limit of 5 seconds"])


@test(timeout=40)
def sighup_storm_leaves_the_last_config_in_force():
    """50 SIGHUPs in a row, each after a config alternating between two
    greetings (and two max_message values): hellod stays up, replies during
    the storm are always one of the two greetings, and once the reload that
    followed the last signal is done (RELOADING=1 with MONOTONIC_USEC= after
    it, then READY=1), the last config is in force, whole."""
    configs = [
        {"server": {"listen": "127.0.0.1:0", "greeting": "Config A", "max_message": 100}},
        {"server": {"listen": "127.0.0.1:0", "greeting": "Config B", "max_message": 200}},
    ]
    greetings = {b"Config A\n", b"Config B\n"}
    with Daemon(config_text=format_config(configs[0])) as d:
        bad = []
        stop = threading.Event()

        def asker():
            with connect(d.address) as c:
                while not stop.is_set():
                    c.send(b"during the storm\n")
                    line = c.read_line()
                    if line not in greetings:
                        bad.append(line)

        t = threading.Thread(target=asker, daemon=True)
        t.start()
        for i in range(50):
            write_config_atomically(d.config_path, configs[i % 2])
            last_kill = time.monotonic()
            d.send_signal(signal.SIGHUP)
        final = configs[49 % 2]["server"]

        def reloaded_after_last():
            lines = d.notify_lines()
            for i, x in enumerate(lines):
                m = re.fullmatch(r"MONOTONIC_USEC=(\d+)", x)
                if m and int(m.group(1)) / 1e6 >= last_kill and "READY=1" in lines[i:]:
                    return True
            return False
        wait_for(reloaded_after_last, 5, lambda: "a reload after the last SIGHUP; notify: %r"
                 % d.notify_lines()[-6:])
        stop.set()
        t.join(5)
        assert not bad, "replies during the storm: %r" % bad[:5]
        d.assert_alive()
        n_reloads = len(re.findall(r"reloaded ", d.log()))
        diag("%d reloads for 50 SIGHUPs" % n_reloads)
        assert 1 <= n_reloads <= 50
        assert "reload failed" not in d.log(), d.log()
        reply, _ = ask(d.address)
        assert reply == final["greeting"].encode() + b"\n", reply
        # the whole config is the last one: max_message 200 (B), not 100 (A)
        reply, _ = ask(d.address, b"y" * 150)
        assert reply == final["greeting"].encode() + b"\n", reply
        d.assert_clean_log()


run()
