"""hellod --reload=PID (hellod(8), RELOADING; the unit's ExecReload=): it
returns 0 only once the new configuration is in force in every worker, 78
without disturbing the daemon when the file is broken, 1 when the daemon
refuses the reload, 2 when there is no such process; and a plain SIGHUP
still reloads."""
import sys

from hellotest import *

EX_CONFIG = 78
NEW = "Hello from the reloaded configuration"
WORKERS = 4


def rewrite(d, sections=None, text=None):
    """Replaces d's configuration file (atomically, as an editor may)."""
    tmp = d.config_path + ".new"
    write_config(tmp, text if text is not None else sections)
    os.rename(tmp, d.config_path)


def reload(d, timeout=20.0):
    return run_hellod(["-c", d.config_path, "--reload=%d" % d.proc.pid], timeout=timeout)


def greetings(d, n):
    """n connections opened at once, each sends a line: their replies."""
    conns = [connect(d.address) for _ in range(n)]
    try:
        for c in conns:
            c.send(b"x\n")
        return [c.read_line() for c in conns]
    finally:
        for c in conns:
            c.close()


@test(timeout=40)
def reload_returns_once_the_new_greeting_is_in_force_in_every_worker():
    """hellod(8): exit status 0 once every worker has the new configuration:
    every one of 40 connections opened right after gets the new greeting,
    ten times in a row, with no wait in between."""
    conf = {"server": {"workers": WORKERS}}
    with Hellod(conf) as d:
        assert greetings(d, 4) == [GREETING] * 4
        for i in range(10):
            greeting = "%s %d" % (NEW, i)
            rewrite(d, {"server": {"listen": "127.0.0.1:0", "workers": WORKERS,
                                   "greeting": greeting}})
            r = reload(d)
            assert r.returncode == 0, (r, d.log())
            got = greetings(d, 40)
            old = [g for g in got if g != greeting.encode() + b"\n"]
            assert not old, "reload %d: %d of 40 replies were %r" % (i, len(old), old[:1])
        assert d.log().count("reloaded ") == 10, d.log()


@test
def reload_tells_the_service_manager_reloading_then_ready():
    """RELOADING=1 with MONOTONIC_USEC= (for systemd 253's notify-reload),
    then READY=1, both before the reload's answer: `systemctl reload`
    (252) and notify-reload (253+) see the same reload."""
    with Hellod({"server": {"workers": 2}}) as d:
        start = len(d.notify_lines())
        rewrite(d, {"server": {"listen": "127.0.0.1:0", "workers": 2, "greeting": NEW}})
        r = reload(d)
        assert r.returncode == 0, (r, d.log())
        i, _ = d.wait_notify(r"RELOADING=1", timeout=2, start=start)
        j, line = d.wait_notify(r"MONOTONIC_USEC=\d+", timeout=2, start=start)
        assert j == i + 1, d.notify_lines()[start:]
        d.wait_notify(r"READY=1", timeout=2, start=j)


@test
def broken_file_exits_78_naming_file_line_and_leaves_the_daemon_alone():
    """hellod(8): the file is checked as -t checks it first; broken, the
    error names FILE:LINE and the key, the exit status is 78, and the daemon
    is not signalled at all: it serves the old greeting and logs no reload."""
    with Hellod({"server": {"workers": 2}}) as d:
        start = len(d.notify_lines())
        text = "[server]\nlisten = 127.0.0.1:0\ngreeting = %s\nmax_message = 0\n" % NEW
        rewrite(d, text=text)
        r = reload(d)
        err = r.stderr.decode()
        assert r.returncode == EX_CONFIG, (r, d.log())
        assert re.search(re.escape(d.config_path) + r":4: .*max_message", err), err
        assert greetings(d, 8) == [GREETING] * 8
        assert "reload" not in d.log(), d.log()
        assert not any(l.startswith("RELOADING") for l in d.notify_lines()[start:])


@test
def reload_the_daemon_refuses_exits_1_with_its_reason():
    """A file that -t accepts but the daemon cannot put in force (a listen
    address another socket holds): exit status 1, the reason on stderr; the
    daemon keeps the running configuration."""
    with listener() as taken:
        busy = "127.0.0.1:%d" % taken.getsockname()[1]
        with Hellod() as d:
            rewrite(d, {"server": {"listen": busy, "greeting": NEW}})
            r = reload(d)
            err = r.stderr.decode()
            assert r.returncode == 1, (r, d.log())
            assert "did not reload" in err and "in use" in err, err
            d.wait_log(r"reload failed, keeping the running configuration")
            assert greetings(d, 2) == [GREETING] * 2


@test
def no_such_process_exits_2():
    """--reload=PID of no process: exit status 2 and a message; so do a PID
    that is no number and a missing PID."""
    with open("/proc/sys/kernel/pid_max") as f:
        gone = int(f.read())  # every PID is below pid_max
    with Hellod() as d:
        r = run_hellod(["-c", d.config_path, "--reload=%d" % gone])
        assert r.returncode == 2, r
        assert str(gone) in r.stderr.decode() and "No such process" in r.stderr.decode(), r
    for arg in ("--reload=abc", "--reload=0", "--reload=-1", "--reload"):
        r = run_hellod([arg])
        assert r.returncode == 2, (arg, r)
        assert r.stderr, (arg, r)


@test
def plain_sighup_still_reloads():
    """kill -HUP: the configuration is read again, as before --reload."""
    with Hellod({"server": {"workers": 2}}) as d:
        rewrite(d, {"server": {"listen": "127.0.0.1:0", "workers": 2, "greeting": NEW}})
        d.send_signal(signal.SIGHUP)
        i, _ = d.wait_notify(r"RELOADING=1", timeout=5)
        d.wait_notify(r"READY=1", timeout=5, start=i)
        # "reloaded" is logged once every worker has the configuration.
        d.wait_log(r"reloaded ")
        assert greetings(d, 8) == [NEW.encode() + b"\n"] * 8
        assert d.running()


@test
def a_sighup_queued_without_the_token_gets_no_answer():
    """A SIGHUP queued by some other program (SI_QUEUE, a value that is not
    --reload's token) reloads but is not answered: SIGUSR1 would end a
    program that does not expect it. That program blocks SIGUSR1, queues
    SIGHUP, and once a later --reload has had its answer (signals are taken
    in order) says whether a SIGUSR1 is pending."""
    code = ("import ctypes, signal, sys\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])\n"
            "class V(ctypes.Union): _fields_ = [('i', ctypes.c_int), ('p', ctypes.c_void_p)]\n"
            "assert libc.sigqueue(int(sys.argv[1]), signal.SIGHUP, V(i=7)) == 0\n"
            "sys.stdin.readline()\n"
            "print('answered' if signal.SIGUSR1 in signal.sigpending() else 'not answered')\n")
    with Hellod() as d:
        rewrite(d, {"server": {"listen": "127.0.0.1:0", "greeting": NEW}})
        p = subprocess.Popen([sys.executable, "-c", code, str(d.proc.pid)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            d.wait_log(r"reloaded ")
            r = reload(d)
            assert r.returncode == 0, (r, d.log())
            out, _ = p.communicate(b"check\n", timeout=10)
        finally:
            p.kill()
            p.wait()
        assert p.returncode == 0 and out == b"not answered\n", (p.returncode, out)
        assert greetings(d, 2) == [NEW.encode() + b"\n"] * 2


run()
