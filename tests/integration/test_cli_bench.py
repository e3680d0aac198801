"""hello-cli bench against hellod, briefly, in each of its modes: the counts it
reports must be exact (with -n N, N replies and no error) and its JSON parse."""
from hellotest import *
import contextlib
import json
import re
import subprocess


def bench(d, args, timeout=30):
    host, port = d.address
    return run_cli(["bench", "-H", host, "-p", port, "-t", "10s"] + args, timeout=timeout)


@contextlib.contextmanager
def bench_running(args):
    """hello-cli bench in the background, for a test that signals it; killed if still there."""
    p = subprocess.Popen([env_path("HELLO_CLI"), "bench"] + [str(a) for a in args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def figures(r):
    assert r.returncode == 0, "exit status %r; stdout %r; stderr %r" % (
        r.returncode, r.stdout, r.stderr)
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def check_clean(f, mode, replies, connections, pipeline=1):
    assert f["status"] == "ok", f
    assert f["mode"] == mode, f
    assert f["connections"] == connections and f["pipeline"] == pipeline, f
    assert f["replies"] == replies and f["sent"] == replies, f
    assert f["errors"] == 0 and f["closed"] == 0 and f["connect_failures"] == 0, f
    assert f["seconds"] > 0 and f["replies_per_sec"] > 0, f
    assert 0 < f["p50_us"] <= f["p99_us"] <= f["p999_us"] <= f["max_us"], f


@test
def persistent_pipelined():
    with Hellod() as d:
        f = figures(bench(d, ["-c", "4", "-P", "8", "-n", "1000", "--json"]))
        check_clean(f, "persistent", 1000, 4, 8)
        assert f["connects"] == 4, f


@test
def persistent_text_report():
    with Hellod() as d:
        r = bench(d, ["-c", "2", "-P", "4", "-n", "100"])
        assert r.returncode == 0, r
        out = r.stdout.decode()
        host, port = d.address
        assert out.startswith("hello-cli bench: %s:%d, 2 connections, pipeline 4\n" % (host, port)), out
        assert re.search(r"^  replies   100 in \d+\.\d\d s: [\d,]+/s$", out, re.M), out
        assert "  errors    0 ERROR replies, 0 connections closed by the server\n" in out, out
        assert "  connects  2, 0 failed\n" in out, out


@test
def one_shot_connections():
    with Hellod() as d:
        f = figures(bench(d, ["--connect", "-c", "4", "-n", "200", "--json"]))
        check_clean(f, "connect", 200, 4)
        assert f["connects"] == 200, f


@test
def hold_then_answer():
    with Hellod() as d:
        r = bench(d, ["--hold", "20", "-c", "5", "-d", "0", "--json"])
        f = figures(r)
        check_clean(f, "hold", 20, 20)
        assert f["held"] == 20 and f["connects"] == 20, f
        assert b"hello-cli bench: holding 20 connections\n" in r.stderr, r.stderr


@test
def hold_until_sigusr1():
    # The idle time is an hour: only SIGUSR1, sent once all are held, ends it.
    with Hellod() as d:
        host, port = d.address
        with bench_running(["-H", host, "-p", port, "--hold", "10", "-d", "1h", "--json"]) as p:
            line = p.stderr.readline()
            assert line == b"hello-cli bench: holding 10 connections\n", line
            p.send_signal(signal.SIGUSR1)
            out, err = p.communicate(timeout=10)
        assert p.returncode == 0, (p.returncode, out, err)
        f = json.loads(out)
        check_clean(f, "hold", 10, 10)
        assert f["held"] == 10, f


@test
def no_server_exit_3():
    port = free_port()
    r = run_cli(["bench", "-H", "127.0.0.1", "-p", port, "-n", "10"], timeout=10)
    assert r.returncode == 3, r
    assert r.stdout == b"", r.stdout
    assert b"127.0.0.1:%d" % port in r.stderr, r.stderr


def answer_lines(reply):
    def handler(c):
        f = c.makefile("rb")
        for line in f:
            c.sendall(reply)
    return handler


@test
def error_replies_exit_1():
    with TestServer(answer_lines(b"ERROR no\n")) as srv:
        r = run_cli(["bench", "-H", "127.0.0.1", "-p", srv.port, "-c", "2", "-P", "5", "-n", "50",
                     "--json"])
        assert r.returncode == 1, r
        f = json.loads(r.stdout)
        assert f["replies"] == 50 and f["errors"] == 50 and f["status"] == "ok", f


@test
def hold_interrupted_while_owed_exit_4():
    # A server that reads the messages and never answers: SIGINT once both came.
    got = threading.Semaphore(0)

    def handler(c):
        c.makefile("rb").readline()
        got.release()
        c.recv(1)

    with TestServer(handler) as srv:
        with bench_running(["-H", "127.0.0.1", "-p", srv.port, "--hold", "2", "-d", "0",
                            "--json"]) as p:
            for _ in range(2):
                assert got.acquire(timeout=10), "the messages did not come"
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=10)
        assert p.returncode == 4, (p.returncode, out, err)
        f = json.loads(out)
        assert f["held"] == 2 and f["sent"] == 2 and f["replies"] == 0, f
        assert f["status"] == "timeout", f


run()
