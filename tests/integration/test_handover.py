"""The restart handover (issue 14): at SIGTERM under a service manager with a
file descriptor store, hellod hands every open connection and its state to
the store, and the next hellod goes on serving them; without a store a stop
is what it always was.

Python plays the service manager here: it holds the listening socket, starts
hellod with LISTEN_FDS/LISTEN_FDNAMES (and the stored descriptors, newest
first, as systemd passes them), and listens on NOTIFY_SOCKET for READY=1,
FDSTORE=1 (with FDNAME= and SCM_RIGHTS), FDSTOREREMOVE=1 and BARRIER=1.
"""
import array
import fcntl
import resource
import select
import struct
import urllib.request

from hellotest import *

SCM_MAX_FD = 253
ERROR_TOO_LONG = b"ERROR message too long\n"


# --- the service manager --------------------------------------------------------

class Manager:
    """A listening socket, a notify socket with a descriptor store, and hellod
    processes started one after the other on them."""

    def __init__(self, config=None, fdstore=256, workers=2):
        self.tmp = make_tmpdir()
        self.fdstore = fdstore
        sections = {"server": {"workers": str(workers)}}
        for section, keys in (config or {}).items():
            sections.setdefault(section, {}).update(keys)
        self.config_path = os.path.join(self.tmp, "hellod.conf")
        write_config(self.config_path, sections)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.address = self.listener.getsockname()
        self.notify_path = os.path.join(self.tmp, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.store = []  # [(name, fd)], in the order stored
        self.messages = []  # every datagram's text
        self.removes = []  # the FDNAME= of each FDSTOREREMOVE=1
        self.stored_per_message = []  # descriptors per FDSTORE=1 datagram
        self.cond = threading.Condition()
        self.proc = None
        self.gen = 0
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._collect, daemon=True)
        self.thread.start()

    def _collect(self):
        space = socket.CMSG_SPACE(SCM_MAX_FD * 4)
        while True:
            ready, _, _ = select.select([self.notify, self.stop_r], [], [])
            if self.stop_r in ready:
                return
            data, anc, flags, _ = self.notify.recvmsg(65536, space)
            fds = array.array("i")
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[:len(payload) - len(payload) % 4])
            assert not flags & socket.MSG_CTRUNC, "descriptors cut off"
            for fd in fds:  # as systemd's own: no hellod inherits them but by LISTEN_FDS
                os.set_inheritable(fd, False)
            text = data.decode("utf-8", "replace")
            fields = dict(l.split("=", 1) for l in text.split("\n") if "=" in l)
            with self.cond:
                self.messages.append(text)
                if fields.get("FDSTORE") == "1":
                    self.stored_per_message.append(len(fds))
                    for fd in fds:
                        self.store.append((fields.get("FDNAME", "stored"), fd))
                    fds = []
                elif fields.get("FDSTOREREMOVE") == "1":
                    name = fields.get("FDNAME")
                    self.removes.append(name)
                    for n, fd in [x for x in self.store if x[0] == name]:
                        os.close(fd)
                    self.store = [x for x in self.store if x[0] != name]
                self.cond.notify_all()
            for fd in fds:  # BARRIER=1's pipe, or descriptors nobody asked to store
                os.close(fd)

    def lines(self, start=0):
        with self.cond:
            return [l for m in self.messages[start:] for l in m.split("\n") if l]

    def wait_line(self, rx, start=0, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, m in enumerate(self.messages[start:]):
                    for l in m.split("\n"):
                        if re.fullmatch(rx, l):
                            return start + i, l
                if self.proc and self.proc.poll() is not None:
                    raise AssertionError("hellod exited with %s; log:\n%s"
                                         % (self.proc.returncode, self.log()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %r in %r; log:\n%s" % (rx, self.lines(), self.log()))
                self.cond.wait(min(left, 0.05))

    def names(self):
        with self.cond:
            return [n for n, _ in self.store]

    def start(self, env=None):
        """Starts hellod with the listener and the store (newest first); waits for READY=1."""
        self.gen += 1
        with self.cond:
            passed = [("hellod.socket", self.listener.fileno())] + list(reversed(self.store))
            start = len(self.messages)
        fds = [fd for _, fd in passed]
        extra = {"NOTIFY_SOCKET": self.notify_path, "LISTEN_FDS": str(len(fds)),
                 "LISTEN_FDNAMES": ":".join(n for n, _ in passed)}
        if self.fdstore is not None:
            extra["FDSTORE"] = str(self.fdstore)
        extra.update(env or {})

        base = max(fds + [3 + len(fds)]) + 1  # above both where they are and where they go

        def place_fds():
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, base) for fd in fds]
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i, inheritable=True)
                os.close(fd)

        self.stderr_path = os.path.join(self.tmp, "stderr.%d" % self.gen)
        with open(self.stderr_path, "wb") as err:
            # LISTEN_PID is the pid of hellod: sh execs it in place.
            self.proc = subprocess.Popen(
                ["sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"', env_path("HELLOD"),
                 "-c", self.config_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                env=_env(extra), preexec_fn=place_fds, close_fds=False)
        self.wait_line("READY=1", start)
        return start

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "backslashreplace")
        except (AttributeError, FileNotFoundError):
            return ""

    def sigterm(self, timeout=10.0):
        """SIGTERM, and the exit status (which must come within timeout)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("hellod still running %gs after SIGTERM; log:\n%s"
                                 % (timeout, self.log())) from None

    def restart(self, gap=0.0):
        """A restart: SIGTERM (exit 0), then, gap seconds later (a slow
        service manager), a new hellod on the listener and the store."""
        rc = self.sigterm()
        assert rc == 0, "exit status %s; log:\n%s" % (rc, self.log())
        time.sleep(gap)
        return self.start()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.write(self.stop_w, b"x")
        self.thread.join(2)
        with self.cond:
            for _, fd in self.store:
                os.close(fd)
            self.store = []
        self.listener.close()
        self.notify.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            diag("hellod's log:\n" + self.log())
        self.close()
        return False


def _env(extra):
    env = dict(os.environ)
    # INVOCATION_ID: had this test been started by systemd, hellod would ask
    # its unit's job whether a SIGTERM is a stop; here Python is the manager.
    for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "FDSTORE",
              "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID"):
        env.pop(k, None)
    env.update(extra)
    return env


def more_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def no_bytes(c, wait=0.2):
    """Nothing arrives on c within wait (and no EOF)."""
    c.sock.settimeout(wait)
    try:
        data = c.sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        c.sock.settimeout(5.0)
    raise AssertionError("expected nothing, got %r" % data[:200])


def took_over(m, start, n, closed=0):
    m.wait_line(r"STATUS=took over %d connections in \d+ ms \(%d closed\)" % (n, closed), start)


def metrics(m, timeout=5.0):
    """A scrape of the running hellod's metrics listener (found from its
    `metrics on ADDR/metrics` line): {'name{labels}': value}."""
    addr = wait_for(lambda: re.search(r"metrics on (\S+)/metrics", m.log()), timeout,
                    lambda: "the metrics line in:\n" + m.log()).group(1)
    with urllib.request.urlopen("http://%s/metrics" % addr, timeout=timeout) as r:
        text = r.read().decode()
    return {k: float(v) for k, v in (l.rsplit(" ", 1) for l in text.splitlines()
                                     if l and not l.startswith("#"))}


def server_inodes(m, clients):
    """The inodes of hellod's ends of these clients' connections (ss(8))."""
    ports = {c.sock.getsockname()[1] for c in clients}
    return {s["inode"] for s in tcp_sockets()
            if s["local"] == m.address and s["peer"][1] in ports and s["state"] == "ESTAB"}


def watched_per_epoll(pid, inodes):
    """For each epoll instance of process pid, how many of the sockets
    `inodes` it watches (its fdinfo has a `tfd: ... ino:HEX` line per
    descriptor; a worker thread's loop is one epoll instance)."""
    counts = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:[eventpoll]":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = f.read()
        except OSError:
            continue
        counts.append(sum(1 for ino in re.findall(r"^tfd:.*\bino:([0-9a-f]+)", info, re.M)
                          if int(ino, 16) in inodes))
    return counts


# --- the connection state, as docs/handover-format.md writes it ------------------

def rec(kind, value):
    return struct.pack(">HI", kind, len(value)) + value


def addr_v4(host, port):
    return struct.pack(">BBHI", 1, 0, port, 0) + socket.inet_aton(host) + bytes(12)


NO_DEADLINE = 0xffffffffffffffff


def state_bytes(inode, peer=("127.0.0.1", 40000), conn_state=0, message=None, runs=(),
                sent=0, version=1, deadlines=None):
    body = rec(0x8001, struct.pack(">Q", inode)) + rec(0x8002, addr_v4(*peer)) \
        + rec(0x8003, bytes([conn_state, 0]))
    if message is not None:
        length, kept = message
        body += rec(0x8005, struct.pack(">IB", length, 0) + kept)
    if runs:
        value = struct.pack(">IB", sent, len(runs))
        for count, greeting in runs:
            value += struct.pack(">IB", count, len(greeting)) + greeting
        body += rec(0x8006, value)
    if deadlines is not None:  # (idle, message, linger): seconds left, or None for none
        body += rec(0x0007, b"".join(struct.pack(">Q", NO_DEADLINE if d is None else
                                                 round(d * 1e6)) for d in deadlines))
    return b"HLDC" + struct.pack(">HI", version, len(body)) + body


def memfd_with(data):
    fd = os.memfd_create("test-state", os.MFD_CLOEXEC)
    os.write(fd, data)
    return fd


# --- the tests ------------------------------------------------------------------------

@test(timeout=60)
def every_kind_of_connection_goes_on_across_three_restarts():
    more_descriptors()
    with Manager({"server": {"idle_timeout": "60s", "message_timeout": "60s"}}) as m:
        m.start()
        idle = [connect(m.address) for _ in range(20)]
        for c in idle:
            c.send_lines(["hi"])
            assert c.read_lines(1) == [GREETING]
        partial = [connect(m.address) for _ in range(10)]
        for i, c in enumerate(partial):
            c.send(b"half a mess" if i % 2 else b"ends in a cr\r")
        quiet = connect(m.address)  # never sent a byte
        for c in partial:  # hellod has read them before the restart: the framer holds them
            no_bytes(c, 0.05)
        for round_ in range(3):
            start = m.restart()
            took_over(m, start, 31)
            for c in idle:
                c.send_lines(["again"])
                assert c.read_lines(1) == [GREETING]
            for i, c in enumerate(partial):
                # the half message, and then one whole one, as one reply each
                c.send(b"age\nx\n" if i % 2 else b"\nx\n")
                assert c.read_lines(2) == [GREETING] * 2
                no_bytes(c, 0.01)
                c.send(b"half a mess" if i % 2 else b"ends in a cr\r")
            quiet.send_lines(["late"])
            assert quiet.read_lines(1) == [GREETING]
        for c in idle + partial + [quiet]:
            c.close()
        rc = m.sigterm()
        assert rc == 0, "exit status %s; log:\n%s" % (rc, m.log())


@test(timeout=60)
def a_client_that_does_not_read_gets_every_reply_once_in_order():
    """Replies owed in two greetings (a reload between), by a client that
    stopped reading; then a restart. The restart does not wait for it, and it
    gets every reply, exactly once, in the greeting of its message."""
    with Manager({"server": {"greeting": "first greeting"}}, workers=1) as m:
        m.start()
        c = connect(m.address)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        n1 = 60000  # 120 KB in, 900 KB of replies: more than the kernel's buffers hold
        c.send(b"a\n" * n1)
        # hellod has answered some in the first greeting before the reload
        c.sock.settimeout(5)
        assert c.sock.recv(1, socket.MSG_PEEK) == b"f"
        write_config(m.config_path, {"server": {"workers": "1", "greeting": "second greeting"}})
        m.proc.send_signal(signal.SIGHUP)
        m.wait_line(r"READY=1", len(m.messages))
        n2 = 1000
        c.send(b"b\n" * n2)
        t0 = time.monotonic()
        start = m.restart()
        assert time.monotonic() - t0 < 4.0, "the restart waited for the client"
        took_over(m, start, 1)
        got = c.read_lines(n1 + n2, timeout=30)
        first = got.count(b"first greeting\n")
        assert got[:first] == [b"first greeting\n"] * first
        assert got[first:] == [b"second greeting\n"] * (n1 + n2 - first), \
            "not every reply, once, in order: %d first of %d" % (first, len(got))
        # which greeting a message got depends on when hellod read it; none is lost
        assert first >= 1, "no reply in the first greeting"
        no_bytes(c)
        c.send_lines(["more"])
        assert c.read_lines(1) == [b"second greeting\n"]
        c.close()


@test(timeout=60)
def a_pipelining_client_loses_nothing_across_restarts():
    more_descriptors()
    with Manager(workers=2) as m:
        m.start()
        c = connect(m.address)
        total = 30000
        done = threading.Event()

        def sender():
            for i in range(0, total, 100):
                c.sock.sendall(b"p\n" * 100)
                time.sleep(0.001)
            done.set()

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        got = 0
        restarts = 0
        while got < total:
            got += len(c.read_lines(min(500, total - got), timeout=20))
            if restarts < 3 and got >= (restarts + 1) * total // 4:
                m.restart()
                restarts += 1
        assert restarts == 3
        t.join(5)
        assert done.is_set()
        no_bytes(c)
        c.close()


@test(timeout=60)
def proxy_headers_whole_and_half_are_carried_over():
    v2_local = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x20, 0x00, 0x00, 0x00])
    v1 = b"PROXY TCP4 192.0.2.1 198.51.100.1 56324 8080\r\n"
    v2 = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11, 0x00, 12]) \
        + socket.inet_aton("192.0.2.2") + socket.inet_aton("198.51.100.1") \
        + struct.pack(">HH", 40002, 8080)
    with Manager({"server": {"proxy_protocol": "any", "proxy_from": "127.0.0.1",
                             "proxy_timeout": "3s"},
                  "log": {"messages": "yes"}}) as m:
        m.start()
        a, b, h, local, never = (connect(m.address) for _ in range(5))
        never.send(v1[:10])  # and never the rest: proxy_timeout ends it, also after a restart
        a.send(v1 + b"from one\n")
        b.send(v2 + b"from two\n")
        assert a.read_lines(1) == [GREETING] and b.read_lines(1) == [GREETING]
        h.send(v1[:20])  # half a header
        local.send(v2_local)
        no_bytes(h, 0.1)
        start = m.restart()
        took_over(m, start, 5)
        a.send_lines(["one again"])
        b.send_lines(["two again"])
        h.send(v1[20:] + b"header whole\n")
        local.send_lines(["local"])
        for c in (a, b, h, local):
            assert c.read_lines(1) == [GREETING]
        log = m.log()
        # the client addresses the headers gave, kept by the new hellod
        assert re.search(r'message from 192\.0\.2\.1:56324: "one again"', log), log
        assert re.search(r'message from 192\.0\.2\.2:40002: "two again"', log), log
        assert re.search(r'message from 192\.0\.2\.1:56324: "header whole"', log), log
        assert re.search(r'message from 127\.0\.0\.1:\d+: "local"', log), log
        # a header already consumed is not read again: a line that looks like one is a message
        a.send(v1)
        assert a.read_lines(1) == [GREETING]
        never.expect_eof(timeout=6)
        assert "no whole PROXY header within proxy_timeout" in m.log(), m.log()
        for c in (a, b, h, local, never):
            c.close()


@test(timeout=60)
def the_store_holds_two_descriptors_whatever_the_connections():
    """Every state and socket goes in the queue of one datagram socket
    (the carrier, a seqpacket socket stored as hellod-conn, in batches of at
    most 253): the store holds it and the stop's time, and the next hellod
    takes them all out and empties it."""
    more_descriptors()
    with Manager(workers=2, fdstore=1000) as m:
        m.start()
        conns = [connect(m.address) for _ in range(600)]
        for c in conns:
            c.send_lines(["x"])
        for c in conns:
            assert c.read_lines(1) == [GREETING]
        rc = m.sigterm()
        assert rc == 0, m.log()
        assert sorted(m.names()) == ["hellod-conn", "hellod-handover"], m.names()
        assert m.stored_per_message == [1, 1], m.stored_per_message
        carrier = [fd for n, fd in m.store if n == "hellod-conn"][0]
        with socket.socket(fileno=os.dup(carrier)) as s:
            assert s.type == socket.SOCK_SEQPACKET, s.type
        assert any("FDPOLL=0" in t for t in m.messages), "the carrier reports a hang-up"
        assert any(l == "BARRIER=1" for l in m.lines()), m.lines()
        start = m.start()
        took_over(m, start, 600)
        # every stored name removed once, so that a later start does not adopt them again
        m.wait_line("FDNAME=hellod-handover", start)
        assert sorted(m.removes) == ["hellod-conn", "hellod-handover"], m.removes
        assert m.names() == [], m.names()
        for c in conns:
            c.send_lines(["y"])
        for c in conns:
            assert c.read_lines(1) == [GREETING]
        for c in conns:
            c.close()


@test(timeout=60)
def a_store_of_two_keeps_every_connection():
    """FDSTORE=2: the carrier and the stop's time; connections take no slot."""
    with Manager(fdstore=2, workers=1) as m:
        m.start()
        conns = [connect(m.address) for _ in range(4)]
        for c in conns:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        rc = m.sigterm()
        assert rc == 0, m.log()
        assert len(m.names()) == 2, m.names()
        assert "descriptor store is full" not in m.log(), m.log()
        start = m.start()
        took_over(m, start, 4)
        for c in conns:
            c.send_lines(["y"])
            assert c.read_lines(1) == [GREETING]
            c.close()


@test(timeout=60)
def the_layout_of_an_earlier_hellod_is_still_adopted():
    """Before the carrier, a hellod stored each connection as two
    descriptors, hellod-conn and hellod-state, in batches of at most 253:
    an upgrade from it must keep them. Also mixed with a carrier."""
    more_descriptors()
    with Manager(workers=2) as m:
        clients, stored, states = [], [], []
        greet = GREETING[:-1]
        for i in range(300):
            c = connect(m.address)
            s, _ = m.listener.accept()
            clients.append(c)
            stored.append(("hellod-conn", os.dup(s.fileno())))
            # one reply owed to each, written by the hellod before
            states.append(state_bytes(os.fstat(s.fileno()).st_ino, runs=[(1, greet)]))
            s.close()
        with m.cond:
            m.store = stored + [("hellod-state", memfd_with(s)) for s in states]
        start = m.start()
        took_over(m, start, 300)
        m.wait_line("FDNAME=hellod-conn", start)
        assert sorted(m.removes) == ["hellod-conn", "hellod-state"], m.removes
        for c in clients:
            assert c.read_lines(1) == [GREETING]
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        # and the restart after it writes the new layout, which the next adopts
        start = m.restart()
        took_over(m, start, 300)
        for c in clients:
            c.send_lines(["y"])
            assert c.read_lines(1) == [GREETING]
            c.close()


@test
def without_a_store_a_stop_is_what_it_was():
    for env in ({"FDSTORE": "0"}, {"FDSTORE": ""}):
        with Manager(fdstore=None) as m:
            m.start(env)
            c = connect(m.address)
            c.send(b"a\nb\n")
            assert c.read_lines(2) == [GREETING] * 2
            c.send(b"c\n")
            assert m.sigterm() == 0
            assert c.read_to_eof() in (b"", GREETING), "the owed reply, then the close"
            assert m.names() == [] and not any("FDSTORE" in l for l in m.lines()), m.lines()
            c.close()


@test
def the_units_job_says_stop_or_restart():
    """hellod.service's ExecStop= leaves `systemctl list-jobs` of the unit in
    $RUNTIME_DIRECTORY/stop-job: a stop job answers and closes, a restart
    job hands over, and the file is read once."""
    for line, handed in (("7 hellod.service stop running\n", False), ("", False),
                         ("8 hellod.service restart running\n", True)):
        with Manager(workers=1) as m:
            run_dir = os.path.join(m.tmp, "run")
            os.mkdir(run_dir)
            m.start({"RUNTIME_DIRECTORY": run_dir})
            c = connect(m.address)
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
            with open(os.path.join(run_dir, "stop-job"), "w") as f:
                f.write(line)
            assert m.sigterm() == 0, m.log()
            assert not os.path.exists(os.path.join(run_dir, "stop-job")), "read once"
            if handed:
                assert "a restart (a restart job)" in m.log(), m.log()
                assert m.names().count("hellod-conn") == 1, m.names()
                no_bytes(c)
            else:
                assert re.search(r"a stop \((a stop job|no job)\)", m.log()), m.log()
                assert m.names() == [], m.names()
                c.expect_eof()
            c.close()


@test(timeout=30)
def unreadable_states_close_their_connection_and_nothing_else():
    """The store as a broken or newer hellod may leave it: each connection
    gets the protocol's error or a plain close, hellod serves on; the metrics
    count the closed (hellod_handover_closed_total) apart from the adopted."""
    with Manager({"server": {"max_message": "100"}, "metrics": {"listen": "127.0.0.1:0"}},
                 workers=1) as m:
        clients, stored = [], []

        def pair():
            c = connect(m.address)
            s, _ = m.listener.accept()
            clients.append(c)
            stored.append(("hellod-conn", os.dup(s.fileno())))
            ino = os.fstat(s.fileno()).st_ino
            s.close()
            return c, ino

        good, ino_good = pair()
        corrupt, ino_corrupt = pair()
        newer, ino_newer = pair()
        long_, ino_long = pair()
        alone, _ = pair()
        greet = GREETING[:-1]
        states = [
            state_bytes(ino_good, runs=[(2, greet)], message=(5, b"")),
            state_bytes(ino_corrupt)[:-7],  # cut short
            state_bytes(ino_newer, version=2),
            state_bytes(ino_long, runs=[(1, b"old greeting")], message=(500, b"")),
            state_bytes(123456789),  # its socket is gone
            b"not a state at all",
        ]
        with m.cond:
            m.store = stored + [("hellod-state", memfd_with(s)) for s in states]
        start = m.start()
        took_over(m, start, 2, closed=3)
        # the good one: two replies owed, its half message ended by the next byte
        assert good.read_lines(2) == [GREETING] * 2
        good.send(b"\n")
        assert good.read_lines(1) == [GREETING]
        # over max_message now: the reply it was owed, then the error, then the close
        assert long_.read_to_eof() == b"old greeting\n" + ERROR_TOO_LONG
        for c in (corrupt, newer, alone):
            try:
                data = c.read_to_eof()
            except ConnectionResetError:
                data = b""
            assert data == b"", data
        assert re.search(r"cannot read a stored connection's state: corrupt", m.log()), m.log()
        assert re.search(r"state of a newer format", m.log()), m.log()
        assert sorted(m.removes) == ["hellod-conn", "hellod-state"], m.removes
        s = metrics(m)
        assert (s["hellod_handover_adopted_total"], s["hellod_handover_closed_total"]) == (2, 3), s
        # and it serves
        with connect(m.address) as c:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        for c in clients:
            c.close()


@test(timeout=30)
def a_broken_state_in_a_carriers_blob_closes_what_cannot_be_found():
    """A carrier's blob holds its batch's states one after another, each as
    long as its header says. A state whose length is wrong ends that blob
    (where the next one begins is then unknown): its connection and the ones
    after it in the blob are closed. A state that is broken within a right
    length closes its connection only. Every other state is adopted."""
    with Manager(workers=1) as m:
        clients = []

        def conn():
            c = connect(m.address)
            s, _ = m.listener.accept()
            clients.append(c)
            return c, s

        def ino(s):
            return os.fstat(s.fileno()).st_ino

        greet = GREETING[:-1]
        pairs = [conn() for _ in range(5)]
        (a, sa), (b, sb), (c, sc), (d, sd), (e, se) = pairs
        too_long = bytearray(state_bytes(ino(sb)))
        too_long[6:10] = struct.pack(">I", len(too_long) + 1000)
        broken = state_bytes(ino(sd))
        broken = broken[:-2] + b"\xff\xff"  # CONN's value: an unknown state
        first = memfd_with(state_bytes(ino(sa), runs=[(1, greet)]) + bytes(too_long)
                           + state_bytes(ino(sc), runs=[(1, greet)]))
        second = memfd_with(broken + state_bytes(ino(se), runs=[(1, greet)]))
        keep, send = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        socket.send_fds(send, [b"C"], [first, sa.fileno(), sb.fileno(), sc.fileno()])
        socket.send_fds(send, [b"C"], [second, sd.fileno(), se.fileno()])
        send.close()
        for fd in (first, second):
            os.close(fd)
        for _, s in pairs:
            s.close()
        with m.cond:
            m.store = [("hellod-conn", os.dup(keep.fileno()))]
        keep.close()
        start = m.start()
        took_over(m, start, 2, closed=3)
        for kept in (a, e):  # the owed reply, then on as ever
            assert kept.read_lines(1) == [GREETING]
            kept.send_lines(["x"])
            assert kept.read_lines(1) == [GREETING]
        for lost in (b, c, d):
            try:
                data = lost.read_to_eof()
            except ConnectionResetError:
                data = b""
            assert data == b"", data
        assert len(re.findall(r"cannot read a stored connection's state", m.log())) == 2, m.log()
        for cl in clients:
            cl.close()


@test(timeout=60)
def the_metric_counts_the_connections_taken_over():
    """hellod_handover_adopted_total: the connections this hellod took over
    at its start, summed over the workers; nothing before the first restart;
    hellod_handover_closed_total: none closed when every state is good."""
    with Manager({"metrics": {"listen": "127.0.0.1:0"}}, workers=2) as m:
        m.start()
        s = metrics(m)
        assert (s["hellod_handover_adopted_total"], s["hellod_handover_closed_total"]) == (0, 0), s
        conns = [connect(m.address) for _ in range(7)]
        for c in conns:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        took_over(m, m.restart(), 7)
        s = metrics(m)
        assert (s["hellod_handover_adopted_total"], s["hellod_connections_open"]) == (7, 7), s
        assert s["hellod_handover_closed_total"] == 0, s
        for c in conns[:2]:
            c.close()
        wait_for(lambda: metrics(m)["hellod_connections_open"] == 5, 5, "5 connections open")
        took_over(m, m.restart(), 5)
        s = metrics(m)
        assert (s["hellod_handover_adopted_total"], s["hellod_connections_open"]) == (5, 5), s
        for c in conns[2:]:
            c.send_lines(["y"])
            assert c.read_lines(1) == [GREETING]
            c.close()


def first_bytes(clients, within):
    """For each client, (time.monotonic(), bytes) of the first recv that
    returns (b"" for its EOF), waiting within seconds at most for them all."""
    got, deadline = {}, time.monotonic() + within
    while len(got) < len(clients):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([c.sock for c in clients if c not in got], [], [],
                                    max(left, 0))
        if not ready:
            raise AssertionError("nothing within %gs from %d of %d clients"
                                 % (within, len(clients) - len(got), len(clients)))
        now = time.monotonic()
        for c in clients:
            if c.sock in ready:
                try:
                    got[c] = (now, c.sock.recv(65536))
                except ConnectionResetError:
                    got[c] = (now, b"")
    return got


def due_after(at, ready, lo, hi, what):
    """at is lo..hi seconds after ready."""
    assert ready + lo <= at <= ready + hi, "%s %.2fs after READY=1, not %g..%gs" \
        % (what, at - ready, lo, hi)


@test(timeout=60)
def the_idle_and_message_timeouts_go_on_with_the_time_they_had_left():
    """idle_timeout 7 s, message_timeout 6 s; 3 s into both, SIGTERM, and the
    service manager takes 2 s to start the next hellod. Each goes on with the
    time it had left, counted from the adoption: the idle connection closed
    about 4 s after READY=1, the unfinished message answered about 3 s after.
    Started afresh: 7 s and 6 s; with the restart held against them: 2 s and
    1 s. Margins of 1 s early and 2 s late, for a loaded machine."""
    with Manager({"server": {"idle_timeout": "7s", "message_timeout": "6s"}}, workers=1) as m:
        m.start()
        idle, half = connect(m.address), connect(m.address)
        idle.send_lines(["x"])
        assert idle.read_lines(1) == [GREETING]
        half.send(b"half a message")
        no_bytes(idle, 3.0)  # both idle, the message unfinished
        took_over(m, m.restart(gap=2.0), 2)
        ready = time.monotonic()
        got = first_bytes([idle, half], 9.0)
        assert got[idle][1] == b"" and got[half][1] == GREETING, got
        due_after(got[idle][0], ready, 3.0, 6.0, "closed for idle_timeout")
        due_after(got[half][0], ready, 2.0, 5.0, "the unfinished message answered")
        diag("after READY=1: idle closed in %.2fs, the message answered in %.2fs"
             % (got[idle][0] - ready, got[half][0] - ready))
        for c in (idle, half):
            c.close()


@test(timeout=60)
def the_proxy_timeout_goes_on_with_the_time_it_had_left():
    """As the other timeouts: proxy_timeout 6 s (idle_timeout longer); 3 s
    after half a header, SIGTERM; the next hellod 2 s later closes the
    connection about 3 s after its READY=1, not 6 s, not 1 s."""
    with Manager({"server": {"proxy_protocol": "v1", "proxy_from": "127.0.0.1",
                             "proxy_timeout": "6s", "idle_timeout": "60s"}}, workers=1) as m:
        m.start()
        c = connect(m.address)
        c.send(b"PROXY TCP4 192.0")
        no_bytes(c, 3.0)
        took_over(m, m.restart(gap=2.0), 1)
        ready = time.monotonic()
        got = first_bytes([c], 8.0)
        assert got[c][1] == b"", got
        due_after(got[c][0], ready, 2.0, 5.0, "closed for proxy_timeout")
        diag("closed %.2fs after READY=1" % (got[c][0] - ready))
        assert "no whole PROXY header within proxy_timeout" in m.log(), m.log()
        c.close()


@test(timeout=60)
def a_shorter_timeout_in_the_new_configuration_applies():
    """The time left is capped by the new hellod's configuration, as a reload
    applies it at once: an upgrade or a config change that shortened
    idle_timeout and message_timeout from 60 s to 3 s and 2 s ends them that
    long after the adoption, not 60 s later. Not proxy_timeout: the header's
    bound is the one in force at accept, through reloads too (60 s here, not
    the new 1 s); the idle timeout ends that connection."""
    header = b"PROXY TCP4 192.0.2.7 192.0.2.1 40000 4242\r\n"
    proxy = {"proxy_protocol": "v1", "proxy_from": "127.0.0.1"}
    with Manager({"server": dict(proxy, idle_timeout="60s", message_timeout="60s",
                                 proxy_timeout="60s")}, workers=1) as m:
        m.start()
        idle, half, waiting = connect(m.address), connect(m.address), connect(m.address)
        idle.send(header + b"x\n")
        assert idle.read_lines(1) == [GREETING]
        half.send(header + b"half a message")
        waiting.send(header[:10])
        no_bytes(half, 0.3)
        write_config(m.config_path, {"server": dict(proxy, workers="1", idle_timeout="3s",
                                                    message_timeout="2s", proxy_timeout="1s")})
        took_over(m, m.restart(), 3)
        ready = time.monotonic()
        got = first_bytes([idle, half, waiting], 8.0)
        assert got[idle][1] == b"" and got[half][1] == GREETING and got[waiting][1] == b"", got
        due_after(got[idle][0], ready, 2.0, 5.0, "closed for idle_timeout")
        due_after(got[half][0], ready, 1.0, 4.0, "the unfinished message answered")
        due_after(got[waiting][0], ready, 2.0, 5.0, "closed awaiting its header")
        for c in (idle, half, waiting):
            c.close()


@test(timeout=60)
def the_deadlines_a_state_gives_are_read():
    """States written by hand (docs/handover-format.md, DEADLINES): the time
    left each gives is kept, capped by the configuration (idle_timeout 3 s,
    message_timeout 60 s, a linger of 2 s); none (ff..ff), or no DEADLINES
    record (a writer that did not know it), starts the timeout afresh."""
    with Manager({"server": {"idle_timeout": "3s", "message_timeout": "60s"}}, workers=1) as m:
        kinds = {
            "idle 0.5 s left": dict(deadlines=(0.5, None, None)),
            "no DEADLINES": dict(),
            "none at all": dict(deadlines=(None, None, None)),
            "idle 10 s left, capped": dict(deadlines=(10.0, None, None)),
            "message 0.5 s left": dict(message=(5, b""), deadlines=(None, 0.5, None)),
            "linger 0.3 s left": dict(conn_state=3, deadlines=(None, None, 0.3)),
        }
        clients, stored, states = {}, [], []
        for what, kw in kinds.items():
            c = connect(m.address)
            s, _ = m.listener.accept()
            clients[what] = c
            stored.append(("hellod-conn", os.dup(s.fileno())))
            states.append(state_bytes(os.fstat(s.fileno()).st_ino, **kw))
            s.close()
        with m.cond:
            m.store = stored + [("hellod-state", memfd_with(s)) for s in states]
        took_over(m, m.start(), len(kinds))
        ready = time.monotonic()
        got = first_bytes(list(clients.values()), 8.0)
        at = {what: got[c][0] for what, c in clients.items()}
        data = {what: got[c][1] for what, c in clients.items()}
        assert data["message 0.5 s left"] == GREETING, data
        assert all(data[k] == b"" for k in kinds if k != "message 0.5 s left"), data
        for what in ("idle 0.5 s left", "message 0.5 s left", "linger 0.3 s left"):
            due_after(at[what], ready, 0.0, 1.8, what)
        for what in ("no DEADLINES", "none at all", "idle 10 s left, capped"):
            due_after(at[what], ready, 2.0, 5.0, what)
        diag(", ".join("%s: %.2fs" % (w, t - ready) for w, t in at.items()))
        for c in clients.values():
            c.close()


@test(timeout=60)
def an_idle_exit_hands_nothing_over():
    """exit_on_idle ends a hellod that took connections over, once they have
    closed: no FDSTORE=1 (the service manager sees every notify message), and
    the next start takes nothing over and serves a client that waited."""
    with Manager({"server": {"exit_on_idle": "500ms"}}, workers=2) as m:
        # queued before the start: the first hellod is not idle before they are served
        conns = [connect(m.address) for _ in range(3)]
        m.start()
        for c in conns:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        start = m.restart()
        took_over(m, start, 3)
        assert m.names() == [], m.names()
        for c in conns:
            c.close()
        try:
            rc = m.proc.wait(15)
        except subprocess.TimeoutExpired:
            raise AssertionError("no idle exit; log:\n" + m.log()) from None
        assert rc == 0, "exit status %s; log:\n%s" % (rc, m.log())
        assert "exiting; the service manager keeps the sockets" in m.log(), m.log()
        stored = [l for l in m.lines(start) if l.startswith("FDSTORE=")]
        assert stored == [] and m.names() == [], (stored, m.names(), m.lines(start))
        assert "handed" not in m.log(), m.log()
        waiting = connect(m.address)  # in the listener's backlog until the next start
        waiting.send_lines(["waited"])
        start = m.start()
        assert waiting.read_lines(1) == [GREETING]
        assert not any(l.startswith("STATUS=took over") for l in m.lines(start)), m.lines(start)
        waiting.close()


@test(timeout=60)
def the_connections_taken_over_are_spread_over_the_workers():
    """Whichever workers accepted them, the next hellod gives each worker
    thread its share: each worker's epoll instance (/proc/PID/fdinfo) watches
    a third of the 30 sockets."""
    more_descriptors()
    with Manager(workers=3) as m:
        m.start()
        conns = [connect(m.address) for _ in range(30)]
        for c in conns:
            c.send_lines(["x"])
            assert c.read_lines(1) == [GREETING]
        inodes = server_inodes(m, conns)
        assert len(inodes) == 30, inodes
        took_over(m, m.restart(), 30)
        counts = sorted(n for n in watched_per_epoll(m.proc.pid, inodes) if n)
        assert sum(counts) == 30 and len(counts) == 3 and counts[0] >= 8, \
            "sockets per worker: %r" % counts
        diag("sockets per worker after the restart: %r" % counts)
        for c in conns:
            c.send_lines(["y"])
            assert c.read_lines(1) == [GREETING]
            c.close()


run()
