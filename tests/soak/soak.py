#!/usr/bin/env python3
"""soak - hellod under a long mixed load, bounded to a few minutes.

SOAK_CONNECTIONS (1,000) connections are kept open at once, replaced as they
finish, until SOAK_MESSAGES (1,000,000) messages have been sent and
SOAK_SECONDS (30) have passed (whichever comes last), by a few
worker processes (SOAK_WORKERS, 4), each driving its share of the
connections with one selector (no thread per connection; well within a
20,000 descriptor limit and 2 cores). The mix:

  oneshot    like the seeds' client: `Hello from client` with no LF, one reply
  pipeline   100..2,000 lines in batches, up to 2,000 unanswered, then
             shutdown(SHUT_WR): every reply, then EOF
  slow       5..20 lines one at a time, 10..100 ms apart, each waiting for its
             reply, then EOF
  lazy       200..2,000 lines at once, replies read only 0.2..1 s later
  reset      100..3,000 lines, part of the replies read, then a RST
             (SO_LINGER 0): owed nothing
  toolong    a few lines then one over max_message: the replies, then
             `ERROR message too long`, then EOF

Checked: every message owed a reply gets exactly one, in order, and nothing
else comes (the error line exactly where it belongs, then EOF); hellod's RSS
once all connections are closed is within 10% of what it was after a
warm-up round (SOAK_WARMUP messages, 100,000, and SOAK_WARMUP_SECONDS, 10:
the heap's steady state) with every connection closed (not for an ASan
build, whose quarantine keeps freed memory: LeakSanitizer checks at exit);
hellod's log has no line at err or warning level, and nothing at notice but
the expected `message too long`; SIGTERM then ends it with status 0.

Prints the figures: messages, replies, errors, connections, RSS before and
after, duration. Exit status 0 when every check passed, else 1.

Environment: HELLOD (the binary), SOAK_MESSAGES, SOAK_CONNECTIONS,
SOAK_SECONDS, SOAK_WORKERS, SOAK_WARMUP, SOAK_WARMUP_SECONDS, SOAK_SEED, SOAK_TIME_LIMIT (seconds,
300: then it fails).
Run it with `make check-soak`, or directly with HELLOD and PYTHONPATH set
to tests/integration (it uses hellotest's Hellod).
"""
import heapq
import multiprocessing
import os
import random
import re
import selectors
import signal
import socket
import struct
import sys
import time

from hellotest import Hellod

GREETING = b"Hello from server\n"
TOO_LONG = b"ERROR message too long\n"
MAX_MESSAGE = 1024
LINE = 16  # every pipelined line is 16 bytes with its LF (or CR LF)
MAX_ERRORS_KEPT = 20

KINDS = [  # (kind, weight in new connections)
    ("oneshot", 40),
    ("pipeline", 30),
    ("slow", 12),
    ("lazy", 6),
    ("reset", 10),
    ("toolong", 2),
]


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value.replace(",", "").replace("_", "")) if value else default


def make_template(n=4000):
    """n lines of LINE bytes each: plain, CR LF, empty-ish and binary ones."""
    out = []
    for i in range(n):
        k = i % 4
        if k == 0:
            out.append(b"hello %09d\n" % i)
        elif k == 1:
            out.append(b"crlf %09d\r\n" % i)
        elif k == 2:
            out.append(b" " * 15 + b"\n")
        else:
            out.append(bytes([(i * 7 + j) % 256 for j in range(15)]).replace(b"\n", b".") + b"\n")
    data = b"".join(out)
    assert len(data) == n * LINE
    return data


TEMPLATE = make_template()


def lines(n, start=0):
    """n lines from the template (wrapping), as bytes."""
    out = []
    start %= len(TEMPLATE) // LINE
    while n > 0:
        take = min(n, len(TEMPLATE) // LINE - start)
        out.append(TEMPLATE[start * LINE:(start + take) * LINE])
        n -= take
        start = 0
    return b"".join(out)


# --- one connection, as a state machine -------------------------------------------

class Client:
    def __init__(self, worker, kind, rng):
        self.w = worker
        self.kind = kind
        self.rng = rng
        self.sock = socket.socket(worker.family, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.out = b""          # bytes waiting to be sent
        self.buf = b""          # bytes received, not yet a whole line
        self.replies = 0        # greeting lines received
        self.sent = 0           # messages whose bytes were all queued
        self.owed = 0           # messages owed a reply
        self.expect_error = False
        self.got_error = False
        self.done_sending = False
        self.shut = False
        self.connected = False
        self.reading = True
        n = {
            "oneshot": 1,
            "pipeline": rng.randint(100, 2000),
            "slow": rng.randint(5, 20),
            "lazy": rng.randint(200, 2000),
            "reset": rng.randint(100, 3000),
            "toolong": rng.randint(0, 20),
        }[kind]
        self.total = n          # messages this connection will send
        self.window = 2000
        self.reset_after = rng.randint(0, n) if kind == "reset" else None

    # what the worker calls
    def start(self):
        err = self.sock.connect_ex(self.w.addr)
        if err not in (0, 115):  # EINPROGRESS
            self.fail("connect: %s" % os.strerror(err))
            return
        self.w.sel.register(self.sock, selectors.EVENT_WRITE, self)

    def events(self):
        ev = 0
        if self.reading:
            ev |= selectors.EVENT_READ
        if self.out or not self.connected:
            ev |= selectors.EVENT_WRITE
        return ev

    def update(self):
        ev = self.events()
        if ev == 0:
            self.w.sel.unregister(self.sock)
            self.registered = False
            return
        try:
            self.w.sel.modify(self.sock, ev, self)
        except KeyError:
            self.w.sel.register(self.sock, ev, self)

    def on_event(self, mask):
        if not self.connected:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.fail("connect: %s" % os.strerror(err))
                return
            self.connected = True
            self.begin()
            if self.closed:
                return
        if mask & selectors.EVENT_WRITE and self.out:
            self.flush()
        if self.closed:
            return
        if mask & selectors.EVENT_READ:
            self.read()
        if not self.closed:
            self.update()

    def on_timer(self):
        if self.closed:
            return
        if self.kind == "slow":
            self.send_lines(1)
            self.update()
        elif self.kind == "lazy":
            self.reading = True
            self.update()

    # the kinds
    def begin(self):
        k = self.kind
        if k == "oneshot":
            self.queue(b"Hello from client", 1)  # no LF: message_timeout ends it
            self.done_sending = True
        elif k == "pipeline":
            self.pump()
        elif k == "slow":
            self.send_lines(1)
        elif k == "lazy":
            self.send_lines(self.total)
            self.reading = False
            self.w.timer(self.rng.uniform(0.2, 1.0), self)
        elif k == "reset":
            self.send_lines(self.total)
            if self.reset_after == 0:
                self.flush()
                self.reset()
                return
        elif k == "toolong":
            self.send_lines(self.total)
            self.queue(b"x" * (MAX_MESSAGE + 1 + self.rng.randint(0, 3000)) + b"\n", 0)
            self.expect_error = True
            self.done_sending = True
        self.flush()

    def pump(self):
        """pipeline: keep up to window lines unanswered, in batches."""
        while not self.done_sending and self.sent - self.replies < self.window:
            self.send_lines(min(self.rng.randint(50, 1000), self.total - self.sent))

    def send_lines(self, n):
        if n <= 0:
            return
        self.queue(lines(n, self.sent), n)
        if self.sent >= self.total:
            self.done_sending = True

    def queue(self, data, n):
        self.out += data
        self.sent += n
        if self.kind != "reset":
            self.owed += n
        self.w.messages += n

    def flush(self):
        try:
            while self.out:
                k = self.sock.send(self.out)
                self.out = self.out[k:]
        except BlockingIOError:
            pass
        except OSError as e:
            self.fail("send: %s" % e)
            return
        if self.done_sending and not self.out and not self.shut and self.kind in (
                "pipeline", "slow", "lazy", "toolong"):
            if self.kind != "slow" or self.replies == self.total:
                self.shutdown()

    def shutdown(self):
        self.shut = True
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.fail("shutdown: %s" % e)

    def read(self):
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError as e:
            if self.kind == "reset":
                return self.finish()
            self.fail("recv: %s (%d of %d replies)" % (e, self.replies, self.owed))
            return
        if not data:
            return self.on_eof()
        self.buf += data
        whole = len(self.buf) - len(self.buf) % len(GREETING)
        if self.buf[:whole] == GREETING * (whole // len(GREETING)):
            self.replies += whole // len(GREETING)
            self.buf = self.buf[whole:]
        else:  # something else than greetings: take it line by line
            while b"\n" in self.buf:
                i = self.buf.index(b"\n") + 1
                line, self.buf = self.buf[:i], self.buf[i:]
                if line == GREETING and not self.got_error:
                    self.replies += 1
                elif line == TOO_LONG and self.expect_error and not self.got_error \
                        and self.replies == self.owed:
                    self.got_error = True
                else:
                    self.fail("unexpected line %r after %d of %d replies" % (line[:60],
                                                                             self.replies,
                                                                             self.owed))
                    return
        if self.replies > self.owed and self.kind != "reset":
            self.fail("%d replies for %d messages" % (self.replies, self.owed))
            return
        k = self.kind
        if k == "oneshot" and self.replies == 1:
            self.finish()
        elif k == "pipeline":
            self.pump()
            self.flush()
        elif k == "slow" and self.replies == self.sent and not self.closed:
            if self.done_sending:
                self.flush()
            else:
                self.w.timer(self.rng.uniform(0.01, 0.1), self)
        elif k == "reset" and self.replies >= self.reset_after:
            self.reset()

    def on_eof(self):
        if self.kind == "reset":
            return self.finish()
        if self.buf:
            return self.fail("EOF after a partial line %r" % self.buf[:60])
        if self.replies != self.owed or (self.expect_error and not self.got_error):
            return self.fail("EOF after %d of %d replies%s" % (
                self.replies, self.owed, " (no error line)" if self.expect_error and
                not self.got_error else ""))
        if self.kind == "oneshot":
            return self.fail("EOF before the reply")
        self.finish()

    def reset(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.finish()

    # ends
    closed = False
    registered = True

    def finish(self):
        self.close()
        self.w.completed(self)

    def fail(self, what):
        self.w.error("%s connection: %s" % (self.kind, what))
        self.close()
        self.w.completed(self)

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            self.w.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()


# --- a worker: a share of the connections, one selector ------------------------------

class Worker:
    def __init__(self, addr, conns, quota, seed, min_end):
        self.addr = addr
        self.min_end = min_end
        self.family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.conns = conns
        self.quota = quota
        self.rng = random.Random(seed)
        self.sel = selectors.DefaultSelector()
        self.timers = []
        self.seq = 0
        self.open = 0
        self.planned = 0  # messages the connections started so far will send
        self.spawned = 0  # connections started (each round starts at least conns)
        self.messages = 0
        self.owed = 0
        self.replies = 0
        self.errors = 0
        self.error_texts = []
        self.by_kind = {k: 0 for k, _ in KINDS}
        self.kinds = [k for k, _ in KINDS]
        self.weights = [w for _, w in KINDS]

    def timer(self, delay, client):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, client))

    def error(self, text):
        self.errors += 1
        if len(self.error_texts) < MAX_ERRORS_KEPT:
            self.error_texts.append(text)

    def spawn(self):
        kind = self.rng.choices(self.kinds, self.weights)[0]
        c = Client(self, kind, random.Random(self.rng.random()))
        self.by_kind[kind] += 1
        self.spawned += 1
        self.planned += c.total + (1 if kind in ("oneshot", "toolong") else 0)
        self.open += 1
        c.start()

    def completed(self, c):
        self.open -= 1
        self.owed += c.owed
        self.replies += min(c.replies, c.owed) if c.kind != "reset" else 0

    def wanted(self):
        return self.open < self.conns and (self.planned < self.quota or
                                           self.spawned < self.conns or
                                           time.monotonic() < self.min_end)

    def run(self, deadline):
        self.spawn()
        while self.open > 0:
            now = time.monotonic()
            if now > deadline:
                self.error("time limit reached with %d connections open" % self.open)
                break
            timeout = 0.5
            if self.timers:
                timeout = max(0.0, min(timeout, self.timers[0][0] - now))
            for key, mask in self.sel.select(timeout):
                key.data.on_event(mask)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, c = heapq.heappop(self.timers)
                c.on_timer()
            for _ in range(50):  # at most 50 new connections a turn: no SYN storm
                if not self.wanted():
                    break
                self.spawn()
        return {
            "messages": self.messages, "owed": self.owed, "replies": self.replies,
            "errors": self.errors, "error_texts": self.error_texts, "by_kind": self.by_kind,
        }


def worker_main(addr, conns, quota, seed, min_end, deadline, pipe):
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        pipe.send(Worker(addr, conns, quota, seed, min_end).run(deadline))
    except BaseException as e:  # reported as an error of the run
        pipe.send({"messages": 0, "owed": 0, "replies": 0, "errors": 1,
                   "error_texts": ["worker crashed: %r" % e], "by_kind": {}})


def run_round(addr, messages, conns, workers, seed, deadline, seconds=0):
    min_end = time.monotonic() + seconds
    procs = []
    for i in range(workers):
        r, w = multiprocessing.Pipe(duplex=False)
        share_c = conns // workers + (1 if i < conns % workers else 0)
        share_m = messages // workers + (1 if i < messages % workers else 0)
        p = multiprocessing.Process(target=worker_main,
                                    args=(addr, share_c, share_m, seed * 1000 + i, min_end, deadline,
                                          w))
        p.start()
        w.close()
        procs.append((p, r))
    total = {"messages": 0, "owed": 0, "replies": 0, "errors": 0, "error_texts": [],
             "by_kind": {}}
    for p, r in procs:
        try:
            res = r.recv()
        except EOFError:
            res = {"errors": 1, "error_texts": ["a worker died (exit %s)" % p.exitcode]}
        p.join()
        for k in ("messages", "owed", "replies", "errors"):
            total[k] += res.get(k, 0)
        total["error_texts"] += res.get("error_texts", [])
        for k, v in res.get("by_kind", {}).items():
            total["by_kind"][k] = total["by_kind"].get(k, 0) + v
    return total


# --- hellod -------------------------------------------------------------------------

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def sanitizer_build(path):
    """Is the binary built with ASan? Its quarantine keeps freed memory, so
    its RSS says nothing about leaks (LeakSanitizer checks those at exit)."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def n_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_idle(d, baseline, timeout=15):
    """Waits until hellod holds no more descriptors than with no client (the
    closing connections linger up to 2s)."""
    end = time.monotonic() + timeout
    while n_fds(d.proc.pid) > baseline:
        if time.monotonic() > end:
            raise AssertionError("hellod still holds %d descriptors (%d with no client) %ds "
                                 "after the clients closed" % (n_fds(d.proc.pid), baseline,
                                                               timeout))
        time.sleep(0.05)


def main():
    n_messages = env_int("SOAK_MESSAGES", 1000000)
    n_conns = env_int("SOAK_CONNECTIONS", 1000)
    n_workers = env_int("SOAK_WORKERS", 4)
    n_warmup = env_int("SOAK_WARMUP", 100000)
    seed = env_int("SOAK_SEED", 5)
    seconds = env_int("SOAK_SECONDS", 30)
    warmup_seconds = env_int("SOAK_WARMUP_SECONDS", 10)
    limit = env_int("SOAK_TIME_LIMIT", 300)
    failures = []
    started = time.monotonic()
    deadline = started + limit

    # backlog: 1,000 clients connect at once; with the default 128 the kernel's
    # accept queue overflows and SYN cookies may reset a few of them.
    config = {"server": {"max_message": MAX_MESSAGE, "max_connections": 10000,
                         "backlog": 1024}}
    d = Hellod(config)
    d.start()
    try:
        pid = d.proc.pid
        addr = d.address
        print("soak: hellod %d on %s; %d connections at once from %d client processes, %d messages and "
              "%ds at least (warm-up: %d messages and %ds)"
              % (pid, addr, n_conns, n_workers, n_messages, seconds, n_warmup, warmup_seconds))
        sys.stdout.flush()
        rss_start0 = rss_kib(pid)
        baseline = n_fds(pid)
        warm = run_round(addr, n_warmup, n_conns, n_workers, seed, deadline, warmup_seconds)
        wait_idle(d, baseline)
        rss_before = rss_kib(pid)
        t0 = time.monotonic()
        res = run_round(addr, n_messages, n_conns, n_workers, seed + 1, deadline, seconds)
        took = time.monotonic() - t0
        wait_idle(d, baseline)
        rss_after = rss_kib(pid)
        fds = n_fds(pid)
        d.send_signal(signal.SIGTERM)
        rc = d.wait_exit(10)
        log = d.log()
    finally:
        d.close()

    errors = warm["errors"] + res["errors"]
    for text in warm["error_texts"] + res["error_texts"]:
        failures.append(text)
    if errors:
        failures.append("%d connections went wrong" % errors)
    if res["replies"] != res["owed"]:
        failures.append("%d replies for %d messages owed" % (res["replies"], res["owed"]))
    if res["messages"] < n_messages:
        failures.append("only %d of %d messages sent" % (res["messages"], n_messages))
    growth = (rss_after - rss_before) / rss_before
    asan = sanitizer_build(os.environ["HELLOD"])
    if abs(growth) > 0.10 and not asan:
        failures.append("hellod's RSS went from %d to %d KiB (%+.1f%%, more than 10%%)"
                        % (rss_before, rss_after, growth * 100))
    if rc != 0:
        failures.append("hellod exited with status %s" % rc)
    unexpected = []
    for line in log.splitlines():
        m = re.match(r"<(\d)>(.*)", line)
        if not m:
            unexpected.append(line)
        elif int(m.group(1)) <= 4:
            unexpected.append(line)
        elif int(m.group(1)) == 5 and not (
                m.group(2).endswith(": message too long, closing")
                # the bound on client error lines (hellod(8), LOGGING)
                or re.fullmatch(r"\d+ client error lines left out: at most 100 are logged per 1s",
                                m.group(2))):
            unexpected.append(line)
    if unexpected:
        failures.append("unexpected log lines:\n  " + "\n  ".join(unexpected[:20]))

    total_time = time.monotonic() - started
    kinds = ", ".join("%s %d" % (k, res["by_kind"].get(k, 0)) for k, _ in KINDS)
    print("soak: warm-up:          %d messages on %d connections, %d errors; RSS %d -> %d KiB"
          % (warm["messages"], sum(warm["by_kind"].values()), warm["errors"], rss_start0,
             rss_before))
    print("soak: messages sent:    %d (%d owed a reply, %d on connections that reset)"
          % (res["messages"], res["owed"], res["messages"] - res["owed"]))
    print("soak: replies received: %d for the %d owed" % (res["replies"], res["owed"]))
    print("soak: connections:      %d (%s)" % (sum(res["by_kind"].values()), kinds))
    print("soak: errors:           %d" % res["errors"])
    print("soak: hellod RSS:       %d KiB after warm-up, %d KiB at the end (%+.1f%%)%s"
          % (rss_before, rss_after, growth * 100,
             "; not checked: an ASan build (its quarantine keeps freed memory; "
             "LeakSanitizer checks at exit)" if asan else ""))
    print("soak: hellod descriptors at the end: %d" % fds)
    print("soak: duration:         %.1fs for the run (%.0f messages/s), %.1fs in all"
          % (took, res["messages"] / took if took else 0, total_time))
    print("soak: hellod exit status %s; log: %s" % (
        rc, log.strip().splitlines()[-1] if log.strip() else "(empty)"))
    if failures:
        print("soak: FAILED")
        for f in failures:
            print("  - " + f)
        return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
