"""exit_on_idle under a service manager that keeps the socket (issue 13, item 7).

systemd-socket-activate execs hellod once and the socket ends with it, so the
service manager here is a small one of the test's own, as systemd's
Accept=no socket unit behaves: it holds the listening socket, starts hellod
with it (LISTEN_FDS=1) when a client is queued, and does so again each time
hellod has exited. A client that connects right as hellod gives up on being
idle must still get its reply: from the exiting hellod, or from the next one,
which finds it in the queue."""
from hellotest import *

import random
import select

IDLE_MS = 100
# A client connects, waits as a slow client does before sending (longer than
# a stop's grace for clients that sent nothing), then sends and reads.
QUIET_SEC = 0.15
TRIALS = 100


class Manager:
    """A listening socket kept for its life, and hellod started on it whenever a
    client waits and none runs; counts the starts."""

    def __init__(self, config):
        self.tmp = make_tmpdir()
        self.config_path = write_config(os.path.join(self.tmp, "hellod.conf"), config)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.address = self.sock.getsockname()
        self.starts = 0
        self.statuses = []
        self.stderr = open(os.path.join(self.tmp, "stderr"), "w+b")
        self.proc = None
        self._r, self._w = os.pipe()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        os.write(self._w, b"x")
        self._thread.join(10)
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()
        return False

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def _spawn(self):
        # LISTEN_PID must be hellod's own: the shell sets it, then execs.
        fd = self.sock.fileno()
        script = 'exec 3<&%d %d<&-; LISTEN_PID=$$ exec "$@"' % (fd, fd)
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")}
        env["LISTEN_FDS"] = "1"
        self.proc = subprocess.Popen(
            ["sh", "-c", script, "sh", env_path("HELLOD"), "-c", self.config_path],
            env=env, pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=self.stderr,
            stderr=self.stderr)
        self.starts += 1

    def _run(self):
        while True:
            ready, _, _ = select.select([self.sock, self._r], [], [])
            if self._r in ready:
                return
            self._spawn()
            self.statuses.append(self.proc.wait())




@test(timeout=120)
def clients_at_the_idle_deadline_are_all_answered():
    """TRIALS clients, each 0.99 to 1.03 times exit_on_idle after the previous one
    closed, where the exit falls: every one gets its reply, and hellod exited
    for idleness between them (else the test would prove nothing)."""
    cfg = {"server": {"exit_on_idle": "%dms" % IDLE_MS, "workers": 2}, "log": {"level": "debug"}}
    rng = random.Random(13)
    lost = []
    with Manager(cfg) as m:
        with connect(m.address) as c:  # the first start
            c.send_lines(["first"])
            assert c.read_lines(1) == [GREETING], m.log()
        for i in range(TRIALS):
            time.sleep(IDLE_MS * rng.uniform(0.99, 1.03) / 1000)
            with socket.create_connection(m.address, timeout=10) as s:
                time.sleep(QUIET_SEC)
                try:
                    s.sendall(b"hi\n")
                    reply = s.makefile("rb").readline()
                except OSError as e:
                    reply = repr(e).encode()
            if reply != GREETING:
                lost.append((i, reply))
        log = m.log()
        starts = m.starts
    assert not lost, "%d of %d clients at the idle deadline got no reply: %r\nhellod's log " \
        "(%d starts):\n%s" % (len(lost), TRIALS, lost, starts, log[-4000:])
    exits = log.count("exiting; the service manager keeps the sockets")
    assert exits >= 10, "hellod exited for idleness only %d times in %d tries: the test " \
        "missed the deadline\n%s" % (exits, TRIALS, log[-4000:])
    assert "Sanitizer" not in log, log
    diag("%d starts, %d idle exits, %d clients caught at the deadline and served" % (
        starts, exits, log.count("a client came at the idle deadline")))


run()
