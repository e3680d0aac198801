"""hellotest - a small harness for hellod's integration tests (standard library only).

A test file is a script:

    from hellotest import *

    @test
    def greeting_on_ipv4():
        with Hellod() as d:
            assert seeds_client(d.address) == GREETING

    run()

`run()` prints TAP (`1..N`, `ok N - name` / `not ok N - name`, diagnostics as
`# ` lines) for automake's TAP driver. Each test runs in a forked child in a
process group of its own, under a time limit; whatever it started is killed
with it, and one test's failure never stops the others. There are no skips: a
missing binary or tool is a failure.

Nothing here waits with a bare sleep for something to become ready: it waits
on the notify socket, on a listening socket showing up in ss(8), on a line in
the log, or on a process exiting, each with a deadline.

The environment (set by Makefile.am's AM_TESTS_ENVIRONMENT):
  HELLOD, HELLO_CLI           the built binaries
  SYSTEMD_SOCKET_ACTIVATE     systemd-socket-activate
  HELLO_SRCDIR                the top source directory
"""

import errno
import faulthandler
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback

__all__ = [
    "test", "run", "diag", "env_path", "make_tmpdir",
    "GREETING", "Started", "Hellod", "Activated",
    "Conn", "connect", "send_lines", "read_lines", "seeds_client",
    "run_cli", "run_hellod", "write_config", "format_config",
    "wait_for", "parse_addr", "format_addr", "free_port", "listener",
    "tcp_listeners", "tcp_sockets", "parse_ss_line", "unix_listeners", "children_of", "TestServer",
    "socket", "os", "re", "signal", "subprocess", "threading", "time", "tempfile",
]

GREETING = b"Hello from server\n"
DEFAULT_TEST_TIMEOUT = 20.0  # seconds per test, unless @test(timeout=...) says otherwise
READY_TIMEOUT = 10.0


# --- TAP --------------------------------------------------------------------

_tests = []
_report_fd = None  # in a test's child: the pipe to the parent


def test(fn=None, *, timeout=None, todo=None):
    """Registers a test: `@test` or `@test(timeout=30)`. todo="why": a known
    bug, reported as TAP's `# TODO why` (automake counts XFAIL while it fails,
    and XPASS, a failure of make check, once it passes: then drop the todo)."""

    def register(f):
        _tests.append((f.__name__, f, float(timeout or DEFAULT_TEST_TIMEOUT), todo))
        return f

    return register(fn) if fn is not None else register


def diag(text):
    """A diagnostic, printed as `# ` lines after the test's result line."""
    text = str(text)
    if not text.endswith("\n"):
        text += "\n"
    if _report_fd is not None:
        _write_all(_report_fd, text.encode("utf-8", "backslashreplace"))
    else:
        for line in text.splitlines():
            print("# " + line)
        sys.stdout.flush()


_tmpdirs = []


def make_tmpdir():
    """A temporary directory, removed when the test ends."""
    path = tempfile.mkdtemp(prefix="hellotest-")
    _tmpdirs.append(path)
    return path


def _write_all(fd, data):
    while data:
        try:
            n = os.write(fd, data)
        except InterruptedError:
            continue
        data = data[n:]


def _child(fn, w):
    global _report_fd
    status = 1
    try:
        os.setpgid(0, 0)
        _report_fd = w
        faulthandler.register(signal.SIGUSR1, file=os.fdopen(os.dup(w), "w"), all_threads=True)
        fn()
        status = 0
    except BaseException:  # noqa: B902 - everything a test raises is its failure
        try:
            _write_all(w, traceback.format_exc().encode("utf-8", "backslashreplace"))
        except BaseException:
            pass
    finally:
        try:
            for path in _tmpdirs:
                shutil.rmtree(path, ignore_errors=True)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_one(fn, limit):
    """Runs fn in a forked child under a time limit: (passed, text)."""
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(fn, w)
    os.close(w)
    try:
        os.setpgid(pid, pid)  # also done by the child: whichever comes first
    except OSError:
        pass
    chunks = []
    deadline = time.monotonic() + limit
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([r], [], [], left)
        if ready:
            data = os.read(r, 65536)
            if not data:
                break
            chunks.append(data)
    if timed_out:
        try:
            os.kill(pid, signal.SIGUSR1)  # faulthandler: where is it stuck?
        except ProcessLookupError:
            pass
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            ready, _, _ = select.select([r], [], [], end - time.monotonic())
            if not ready:
                break
            data = os.read(r, 65536)
            if not data:
                break
            chunks.append(data)
        _kill_group(pid)
    os.close(r)
    _, wstatus = os.waitpid(pid, 0)
    _kill_group(pid)  # anything the test left running (it should have stopped it)
    text = b"".join(chunks).decode("utf-8", "replace")
    if timed_out:
        return False, text + "test exceeded its time limit of %gs and was killed\n" % limit
    return os.waitstatus_to_exitcode(wstatus) == 0, text


def run():
    """Runs every registered test and prints TAP; always exits 0."""
    print("1..%d" % len(_tests))
    sys.stdout.flush()
    for i, (name, fn, limit, todo) in enumerate(_tests, 1):
        started = time.monotonic()
        try:
            passed, text = _run_one(fn, limit)
        except BaseException:
            passed, text = False, traceback.format_exc()
        print("%s %d - %s%s" % ("ok" if passed else "not ok", i, name,
                                " # TODO " + todo if todo else ""))
        for line in text.rstrip("\n").splitlines():
            print("# " + line if line else "#")
        if not passed or time.monotonic() - started > limit / 2:
            print("# (%.2fs)" % (time.monotonic() - started))
        sys.stdout.flush()
    sys.exit(0)


# --- the environment ----------------------------------------------------------

def env_path(name):
    """A path from the environment, which must be set (no skipping)."""
    value = os.environ.get(name)
    assert value and value != "no", (
        "$%s is not set (run the tests with `make check`, or set it by hand)" % name)
    return value


def _clean_env(extra=None):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM",
              "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(k, None)
    env.update(extra or {})
    return env


# --- waiting ------------------------------------------------------------------

def wait_for(predicate, timeout, what, interval=0.005):
    """Polls predicate until it returns something true (which is returned), or fails
    after timeout seconds saying what was awaited. what may be a callable for a
    message computed at failure time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %gs waiting for %s"
                                 % (timeout, what() if callable(what) else what))
        time.sleep(interval)


# --- addresses ----------------------------------------------------------------

def parse_addr(text):
    """'127.0.0.1:80' -> ('127.0.0.1', 80); '[::1]:80' -> ('::1', 80); '/x' -> '/x'."""
    if text.startswith("/") or text.startswith("@"):
        return text
    m = re.fullmatch(r"\[([^\]]+)\]:(\d+)", text)
    if m:
        return (m.group(1), int(m.group(2)))
    host, _, port = text.rpartition(":")
    assert host and port.isdigit(), "not an address: %r" % text
    return (host, int(port))


def format_addr(addr):
    """The reverse of parse_addr, as hellod and its config write addresses."""
    if isinstance(addr, str):
        return addr
    host, port = addr
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def _family(addr):
    if isinstance(addr, str):
        return socket.AF_UNIX
    return socket.AF_INET6 if ":" in addr[0] else socket.AF_INET


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (for tools that refuse port 0)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def listener(host="127.0.0.1", backlog=4):
    """A socket listening on host and a port the kernel picks (close it, or use
    it in `with`): an address in use, for tests of what cannot be bound."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(backlog)
    return s


# --- which sockets a process holds: /proc/PID/fd, and the kernel's tables -----------

def _socket_inodes(pid):
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except FileNotFoundError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(int(m.group(1)))
    return inodes


def _ss_addr(text, family):
    """A Local or Peer column of ss(8) -> (ip, port), the ip as inet_ntop writes it.

    ss writes '127.0.0.1:80', '[::1]:80', '127.0.0.1%lo:80' and '[::1]%lo:80'
    (bound to a device), '*:80' (IPv6's any address, when not v6only) and
    '0.0.0.0:*' (no peer: port 0)."""
    host, _, port = text.rpartition(":")
    host = host.split("%", 1)[0].strip("[]")
    fam = socket.AF_INET6 if family == 6 else socket.AF_INET
    if host == "*":
        host = "::" if fam == socket.AF_INET6 else "0.0.0.0"
    ip = socket.inet_ntop(fam, socket.inet_pton(fam, host))
    return (ip, 0 if port == "*" else int(port))


def parse_ss_line(line, family):
    """One line of `ss -H -n -e -t -a -4` (family 4) or `-6` (family 6) ->
    {'state', 'recv_q', 'send_q', 'local', 'peer', 'inode'}."""
    fields = line.split()
    assert len(fields) >= 5, "not a line of ss: %r" % line
    m = re.search(r"\bino:(\d+)", line)
    return {"state": fields[0], "recv_q": int(fields[1]), "send_q": int(fields[2]),
            "local": _ss_addr(fields[3], family), "peer": _ss_addr(fields[4], family),
            "inode": int(m.group(1)) if m else None}


def tcp_sockets(listening=False):
    """Every TCP socket of this network namespace (listening=True: only those in
    LISTEN), each as parse_ss_line() makes it.

    ss(8) asks the kernel through sock_diag netlink, which gives addresses in
    network byte order: nothing to guess, unlike /proc/net/tcp, whose hex
    words are in the kernel's own byte order (issue 16)."""
    found = []
    for family in (4, 6):
        cmd = ["ss", "-H", "-n", "-e", "-t", "-l" if listening else "-a", "-%d" % family]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        except FileNotFoundError:
            raise AssertionError("ss was not found (apt-get install iproute2)") from None
        assert r.returncode == 0, "%s failed with status %d: %s" % (
            " ".join(cmd), r.returncode, r.stderr)
        found += [parse_ss_line(line, family) for line in r.stdout.splitlines() if line.strip()]
    return found


def tcp_listeners(pid):
    """The (ip, port) of every TCP socket in LISTEN state that process pid holds."""
    inodes = _socket_inodes(pid)
    return {s["local"] for s in tcp_sockets(listening=True) if s["inode"] in inodes}


def unix_listeners(pid):
    """The path of every listening UNIX stream socket that process pid holds."""
    inodes = _socket_inodes(pid)
    found = set()
    with open("/proc/net/unix") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split(None, 7)
            if len(fields) < 8:
                continue
            flags, kind, inode = int(fields[3], 16), int(fields[4], 16), int(fields[6])
            if kind == 1 and flags & 0x10000 and inode in inodes:  # SOCK_STREAM, __SO_ACCEPTCON
                found.add(fields[7])
    return found


def children_of(pid):
    """The pids of process pid's children."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return kids
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return kids


# --- the config file ------------------------------------------------------------

def format_config(sections):
    """{'server': {'listen': '127.0.0.1:0'}, 'log': {'messages': True}} -> INI text."""
    out = []
    for section, keys in sections.items():
        out.append("[%s]" % section)
        for key, value in keys.items():
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, (list, tuple)):
                value = " ".join(format_addr(v) if isinstance(v, tuple) else str(v) for v in value)
            out.append("%s = %s" % (key, value))
        out.append("")
    return "\n".join(out)


def write_config(path, sections_or_text):
    text = sections_or_text if isinstance(sections_or_text, str) else format_config(sections_or_text)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- hellod ---------------------------------------------------------------------

# A sanitizer's report (hellod or hello-cli built with --enable-sanitizers):
# the test fails, whatever else it saw.
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
                          r"SUMMARY: \w+Sanitizer")


def _check_sanitizers(what, text):
    assert not SANITIZER_RE.search(text), "a sanitizer reported a problem in %s:\n%s" % (
        what, text)


_LISTEN_RE = re.compile(
    r"^(?:<\d>)?(?:hellod: )?listening on (\S+)( \(from the service manager\))?$", re.M)


class Started:
    """A child process as a context manager: entering calls start() and, when
    starting fails, close() before the error goes on, so a half-started child
    is not left running. The class gives start() and close()."""

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise


class Hellod(Started):
    """hellod on its own sockets (the fallback bind), as a context manager.

    config: {section: {key: value}} merged over {'server': {'listen': '127.0.0.1:0'}}
    (give listen=None to leave listen out); args: extra command-line arguments.
    With ready=True (the default), start() returns once READY=1 arrived on the
    notify socket and a `listening on` line is in the log.
    """

    def __init__(self, config=None, args=(), *, listen="127.0.0.1:0", ready=True,
                 config_text=None, listen_log=True):
        self.tmp = make_tmpdir()
        sections = {"server": {}} if listen is None else {"server": {"listen": listen}}
        for section, keys in (config or {}).items():
            sections.setdefault(section, {}).update(keys)
        if not sections["server"]:
            del sections["server"]
        self.config_path = os.path.join(self.tmp, "hellod.conf")
        write_config(self.config_path, config_text if config_text is not None else sections)
        self.args = [str(a) for a in args]
        self.want_ready = ready
        self.want_listen_log = listen_log  # False when the log level hides `listening on`
        self.proc = None
        self.returncode = None
        self.notifications = []  # every datagram on NOTIFY_SOCKET, in order, as text
        self.notify_times = []  # when each arrived (time.monotonic())
        self._cond = threading.Condition()
        self._notify_sock = None
        self._stop_r = self._stop_w = None
        self._thread = None

    # paths
    def path(self, name):
        """A path in this instance's temporary directory."""
        return os.path.join(self.tmp, name)

    @property
    def notify_path(self):
        return self.path("notify")

    @property
    def stderr_path(self):
        return self.path("stderr")

    def hellod_command(self):
        return [env_path("HELLOD"), "-c", self.config_path] + self.args

    def command(self):
        return self.hellod_command()

    # starting
    def _start_notify(self):
        self._notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify_sock.bind(self.notify_path)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self):
        while True:
            ready, _, _ = select.select([self._notify_sock, self._stop_r], [], [])
            if self._notify_sock in ready:
                data = self._notify_sock.recv(65536)
                with self._cond:
                    self.notifications.append(data.decode("utf-8", "replace"))
                    self.notify_times.append(time.monotonic())
                    self._cond.notify_all()
            elif self._stop_r in ready:
                return

    def _spawn(self, cmd, env):
        self._stderr_file = open(self.stderr_path, "wb")
        self._stdout_file = open(self.path("stdout"), "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._stdout_file,
                                     stderr=self._stderr_file, env=env)

    def start(self):
        self._start_notify()
        self._spawn(self.command(), _clean_env({"NOTIFY_SOCKET": self.notify_path}))
        if self.want_ready:
            self.wait_ready()
        if self.want_ready and self.want_listen_log:
            wait_for(lambda: _LISTEN_RE.search(self.log()), 3.0,
                     lambda: "a 'listening on' line after READY=1; stderr:\n" + self.log())
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.proc is not None:
            diag("hellod's stderr:\n" + self.log())
        log = self.close()
        if exc_type is None and log is not None:
            _check_sanitizers("hellod", log)
        return False

    def close(self):
        """Stops hellod if it runs; returns its stderr (or None if never started)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.stop(timeout=5)
            except AssertionError:
                pass
        log = self.log() if self.proc is not None else None
        if self._stop_w is not None:
            os.write(self._stop_w, b"x")
            self._thread.join(2)
            os.close(self._stop_w)
            os.close(self._stop_r)
            self._stop_w = None
        if self._notify_sock is not None:
            self._notify_sock.close()
        for f in ("_stderr_file", "_stdout_file"):
            if hasattr(self, f):
                getattr(self, f).close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return log

    # the notify socket
    def notify_lines(self):
        """Every assignment received so far, in order ('READY=1', 'STATUS=...')."""
        with self._cond:
            return [line for d in self.notifications for line in d.split("\n") if line]

    def wait_notify(self, match, timeout=5.0, start=0):
        """Waits for a notify assignment (at index >= start in notify_lines())
        matching the regex match; returns (index, line)."""
        rx = re.compile(match)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                lines = [line for d in self.notifications for line in d.split("\n") if line]
                for i in range(start, len(lines)):
                    if rx.fullmatch(lines[i]):
                        return i, lines[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no notification matching %r within %gs; got %r"
                                         % (match, timeout, lines))
                self._cond.wait(min(left, 0.05))

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Waits for READY=1; fails with hellod's stderr if it exits first or times out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if any(line == "READY=1" for d in self.notifications for line in d.split("\n")):
                    return
                rc = self.proc.poll()
                if rc is not None:
                    self.returncode = rc
                    raise AssertionError("hellod exited with status %s before READY=1; stderr:\n%s"
                                         % (rc, self.log()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no READY=1 within %gs; stderr:\n%s" % (timeout, self.log()))
                self._cond.wait(min(left, 0.02))

    # the log
    def log_bytes(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def log(self):
        """hellod's stderr so far, as text."""
        return self.log_bytes().decode("utf-8", "backslashreplace")

    def wait_log(self, pattern, timeout=3.0, count=1):
        """Waits until the regex pattern matches count times in the log; returns the matches."""
        rx = re.compile(pattern, re.M)

        def found():
            hits = rx.findall(self.log())
            return hits if len(hits) >= count else None

        return wait_for(found, timeout,
                        lambda: "%d x /%s/ in hellod's stderr:\n%s" % (count, pattern, self.log()))

    def listeners(self):
        """[(addr, from_service_manager)] from the `listening on` log lines."""
        return [(parse_addr(m.group(1)), bool(m.group(2))) for m in _LISTEN_RE.finditer(self.log())]

    @property
    def addresses(self):
        return [a for a, _ in self.listeners()]

    @property
    def address(self):
        addrs = self.addresses
        assert addrs, "no address known; stderr:\n" + self.log()
        return addrs[0]

    # stopping
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=10.0):
        """Waits for the process to exit by itself; returns its exit status."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("hellod still running after %gs; stderr:\n%s"
                                 % (timeout, self.log())) from None
        return self.returncode

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig (SIGTERM), waits up to timeout, returns the exit status;
        kills it and fails if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hellod did not exit within %gs of signal %d; stderr:\n%s"
                                 % (timeout, sig, self.log())) from None
        return self.returncode


class Activated(Hellod):
    """hellod started by systemd-socket-activate, which binds the sockets itself
    and starts hellod on the first connection (with --accept: one hellod per
    connection).

    listen: a list of 'tcp4' (127.0.0.1, a free port), 'tcp6' ([::1], a free
    port), 'unix' (a path in the temporary directory), or explicit addresses.
    systemd-socket-activate (systemd 252) refuses port 0, so the harness picks a
    free port, retries if it was taken meanwhile, and waits until ss(8) shows
    every socket listening. .addresses are the sockets bound; the process is
    systemd-socket-activate, and (without --accept) hellod after the first
    connection, as it execs in place.
    """

    def __init__(self, listen=("tcp4",), config=None, args=(), *, accept=False, sa_args=(),
                 config_text=None):
        super().__init__(config, args, listen=None, ready=False, config_text=config_text)
        self.specs = list(listen)
        self.accept = accept
        self.sa_args = list(sa_args)
        self.bound = []

    def _resolve(self):
        addrs = []
        for i, spec in enumerate(self.specs):
            if spec == "tcp4":
                addrs.append(("127.0.0.1", free_port("127.0.0.1")))
            elif spec == "tcp6":
                addrs.append(("::1", free_port("::1")))
            elif spec == "unix":
                addrs.append(self.path("sock%d" % i))
            else:
                addrs.append(parse_addr(spec) if isinstance(spec, str) else spec)
        return addrs

    def sa_command(self, addrs):
        cmd = [env_path("SYSTEMD_SOCKET_ACTIVATE")]
        for a in addrs:
            cmd += ["-l", format_addr(a)]
        if self.accept:
            cmd.append("--accept")
        cmd += ["-E", "NOTIFY_SOCKET=" + self.notify_path] + self.sa_args + ["--"]
        return cmd + self.hellod_command()

    def _bound(self):
        pid = self.proc.pid
        if any(isinstance(a, tuple) for a in self.bound):
            tcp = tcp_listeners(pid)
        if any(isinstance(a, str) for a in self.bound):
            unix = unix_listeners(pid)
        for a in self.bound:
            if isinstance(a, str):
                if a not in unix:
                    return False
            elif a not in tcp:
                return False
        return True

    def start(self):
        self._start_notify()
        env = _clean_env()
        datagram = "-d" in self.sa_args or "--datagram" in self.sa_args
        for attempt in range(5):
            self.bound = self._resolve()
            self._spawn(self.sa_command(self.bound), env)
            deadline = time.monotonic() + 5.0
            while True:
                if datagram and "Listening on" in self.log():
                    return self  # tcp_listeners() does not see UDP sockets: its own log line
                if not datagram and self._bound():
                    return self
                if self.proc.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError("systemd-socket-activate is not listening on %s after 5s; "
                                         "stderr:\n%s" % (self.bound, self.log()))
                time.sleep(0.005)
            if "in use" not in self.log():
                raise AssertionError("systemd-socket-activate exited with status %s; stderr:\n%s"
                                     % (self.proc.returncode, self.log()))
            self._stderr_file.close()
            self._stdout_file.close()
        raise AssertionError("could not find a free port in 5 attempts")

    @property
    def addresses(self):
        return list(self.bound)


# --- clients ----------------------------------------------------------------------

def _to_bytes(x):
    return x if isinstance(x, bytes) else str(x).encode()


class Conn:
    """A client connection with a read buffer."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(_to_bytes(data))

    def send_lines(self, lines):
        self.sock.sendall(b"".join(_to_bytes(x) + b"\n" for x in lines))

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def _recv(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for %s; so far %r" % (what, self.buf[-200:]))
        self.sock.settimeout(left)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError("timed out waiting for %s; so far %r"
                                 % (what, self.buf[-200:])) from None

    def read_lines(self, n, timeout=5.0):
        """The next n lines, each with its LF; fails on EOF or timeout before n."""
        deadline = time.monotonic() + timeout
        lines = []
        while len(lines) < n:
            i = self.buf.find(b"\n")
            if i >= 0:
                lines.append(self.buf[:i + 1])
                self.buf = self.buf[i + 1:]
                continue
            data = self._recv(deadline, "line %d of %d (got %r)" % (len(lines) + 1, n, lines[-3:]))
            if not data:
                raise AssertionError("EOF after %d of %d lines: %r, then %r"
                                     % (len(lines), n, lines[-3:], self.buf))
            self.buf += data
        return lines

    def read_line(self, timeout=5.0):
        return self.read_lines(1, timeout)[0]

    def read_to_eof(self, timeout=5.0):
        """Everything until the peer closes; fails on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            data = self._recv(deadline, "EOF")
            if not data:
                out, self.buf = self.buf, b""
                return out
            self.buf += data

    def expect_eof(self, timeout=5.0):
        data = self.read_to_eof(timeout)
        assert data == b"", "expected EOF, got %r" % data[:200]

    def nothing_pending(self):
        """True when no byte is waiting to be read right now."""
        self.sock.setblocking(False)
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return self.buf == b""
        finally:
            self.sock.setblocking(True)
        self.buf += data
        return False


def connect(addr, timeout=5.0):
    """A Conn to ('host', port) or '/unix/path'."""
    s = socket.socket(_family(addr), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(addr)
    except BaseException:
        s.close()
        raise
    if s.family != socket.AF_UNIX:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return Conn(s)


def send_lines(conn, lines):
    conn.send_lines(lines)


def read_lines(conn, n, timeout=5.0):
    return conn.read_lines(n, timeout)


def seeds_client(addr, message=b"Hello from client", timeout=5.0):
    """Like the seeds' client: connect, send the message with no LF, one recv(1024), close."""
    s = socket.socket(_family(addr), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(addr)
        s.sendall(message)
        try:
            return s.recv(1024)
        except socket.timeout:
            raise AssertionError("no reply to a seeds-style message within %gs" % timeout) from None
    finally:
        s.close()


# --- running the binaries to completion ---------------------------------------------

def _run(cmd, input, timeout, env):
    try:
        r = subprocess.run(cmd, input=_to_bytes(input) if input is not None else None,
                           stdin=None if input is not None else subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, env=_clean_env(env))
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s did not finish within %gs; stderr: %r"
                             % (" ".join(cmd), timeout, e.stderr)) from None
    _check_sanitizers(os.path.basename(cmd[0]), r.stderr.decode("utf-8", "backslashreplace"))
    return r


def run_cli(args, input=None, timeout=10.0, env=None):
    """Runs hello-cli to completion: a CompletedProcess (stdout, stderr bytes)."""
    return _run([env_path("HELLO_CLI")] + [str(a) for a in args], input, timeout, env)


def run_hellod(args, input=None, timeout=10.0, env=None):
    """Runs hellod to completion (-t, --version, bad configs...)."""
    return _run([env_path("HELLOD")] + [str(a) for a in args], input, timeout, env)


# --- a server of the test's own, for hello-cli ---------------------------------------

class TestServer:
    """A TCP server on 127.0.0.1 (a free port) that runs handler(sock) for each
    connection in a thread; .address, .port; a context manager."""

    def __init__(self, handler, family=socket.AF_INET):
        self.handler = handler
        self.lsock = socket.socket(family, socket.SOCK_STREAM)
        self.lsock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.lsock.listen(16)
        self.address = self.lsock.getsockname()[:2]
        self.port = self.address[1]
        self.errors = []
        self.conns = []
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.lsock.close()
        for c in self.conns:
            c.close()
        return False

    def _loop(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            self.handler(c)
        except Exception as e:  # reported by the test through .errors
            self.errors.append(e)
