"""hello-cli against hellod and against servers of the test's own."""
from hellotest import *
import select

OUT = b"Hello from server\n"


def cli_target(addr):
    host, port = addr
    return ["-H", host, "-p", str(port)]


def check(r, status, stdout=None, stderr_has=()):
    err = r.stderr.decode("utf-8", "backslashreplace")
    assert r.returncode == status, "exit status %r, expected %d; stdout %r; stderr %r" % (
        r.returncode, status, r.stdout[:300], err)
    if stdout is not None:
        assert r.stdout == stdout, "stdout %r, expected %r" % (r.stdout[:300], stdout[:300])
    for s in stderr_has:
        assert s in err, "%r not in stderr %r" % (s, err)


@test
def default_message():
    with Hellod({"log": {"messages": True}}) as d:
        r = run_cli(cli_target(d.address))
        check(r, 0, OUT)
        d.wait_log(r'message from \S+: "Hello from client"$')


@test
def default_host_is_localhost():
    # localhost may resolve to ::1 first: the client must go on to 127.0.0.1
    with Hellod() as d:
        r = run_cli(["-p", str(d.address[1])])
        check(r, 0, OUT)


@test
def several_messages():
    with Hellod({"log": {"messages": True}}) as d:
        r = run_cli(cli_target(d.address) + ["one", "two words", "three"])
        check(r, 0, OUT * 3)
        d.wait_log(r'message from \S+: "(one|two words|three)"$', count=3)
        assert '"two words"' in d.log(), d.log()


@test
def stdin_2000_lines():
    with Hellod({"server": {"greeting": "Reply"}, "log": {"messages": True}}) as d:
        lines = b"".join(b"line %d of stdin\n" % i for i in range(2000))
        r = run_cli(cli_target(d.address) + ["-"], input=lines, timeout=20)
        check(r, 0, b"Reply\n" * 2000)
        # every line reached hellod: logged, or counted among the lines left
        # out past the bound of 100 message lines a second (hellod.conf(5))
        def logged_and_left_out():
            log = d.log()
            return (len(re.findall(r"message from \S+: \"line \d+ of stdin\"$", log, re.M))
                    + sum(int(n) for n in re.findall(r"(\d+) message lines left out", log)))
        wait_for(lambda: logged_and_left_out() == 2000, 5,
                 lambda: "2000 lines logged or left out, got %d" % logged_and_left_out())


@test
def stdin_large_lines_no_deadlock():
    # 200 KB of short lines bring 13 MB of replies: far more than the socket
    # buffers hold, so the client must read replies while it is still sending
    n = 100000
    with Hellod({"server": {"greeting": "R" * 128}}) as d:
        r = run_cli(cli_target(d.address) + ["-"], input=b"x\n" * n, timeout=20)
        check(r, 0)
        assert r.stdout == (b"R" * 128 + b"\n") * n, "%d bytes of replies, expected %d" % (
            len(r.stdout), 129 * n)


@test
def unix_socket():
    tmp = make_tmpdir()
    path = os.path.join(tmp, "h.sock")
    with Hellod({"server": {"listen": path}}) as d:
        r = run_cli(["-U", path, "a", "b"])
        check(r, 0, OUT * 2)


@test
def ipv6_and_family_options():
    with Hellod({"server": {"listen": "127.0.0.1:0 [::1]:0"}}) as d:
        d.wait_log("listening on", count=2)
        v6 = next(a for a in d.addresses if ":" in a[0])
        v4 = next(a for a in d.addresses if ":" not in a[0])
        check(run_cli(["-H", "::1", "-p", str(v6[1])]), 0, OUT)
        check(run_cli(["-4", "-H", "localhost", "-p", str(v4[1])]), 0, OUT)
        check(run_cli(["-6", "-H", "::1", "-p", str(v6[1])]), 0, OUT)


def seeds_server(sock):
    sock.recv(1024)
    sock.sendall(b"Hello from server")
    sock.close()


@test
def against_seeds_server():
    with TestServer(seeds_server) as s:
        r = run_cli(["-H", "127.0.0.1", "-p", str(s.port)], timeout=5)
        check(r, 0, OUT)
        assert not s.errors, s.errors


@test
def connection_refused_exit_3():
    with socket.socket() as closed:  # bound, not listening: connecting is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        r = run_cli(["-H", "127.0.0.1", "-p", str(port)], timeout=5)
        check(r, 3, b"", stderr_has=["127.0.0.1", str(port)])
        assert b"refused" in r.stderr.lower(), "the reason is not said: %r" % r.stderr
        r = run_cli(["-U", "/nonexistent/hello.sock"], timeout=5)
        check(r, 3, b"", stderr_has=["/nonexistent/hello.sock"])


@test
def unknown_host_exit_3():
    r = run_cli(["-H", "no-such-host.invalid", "-p", "8080", "-t", "3s"], timeout=10)
    check(r, 3, b"", stderr_has=["no-such-host.invalid"])


@test
def silent_server_times_out_exit_4():
    def silent(sock):
        while sock.recv(1024):
            pass

    with TestServer(silent) as s:
        started = time.monotonic()
        r = run_cli(["-H", "127.0.0.1", "-p", str(s.port), "-t", "300ms"], timeout=5)
        took = time.monotonic() - started
        check(r, 4, b"")
        assert 0.25 <= took < 3, "timed out after %.2fs with -t 300ms" % took


def error_server(sock):
    sock.recv(1024)
    sock.sendall(b"ERROR server busy\n")
    sock.close()


@test
def server_error_exit_1():
    with TestServer(error_server) as s:
        r = run_cli(["-H", "127.0.0.1", "-p", str(s.port)], timeout=5)
        check(r, 1, b"", stderr_has=["hello-cli: server: ERROR server busy"])


@test
def hellod_busy_exit_1():
    with Hellod({"server": {"max_connections": 1}}) as d, connect(d.address) as c:
        c.send_lines(["hold"])
        assert c.read_lines(1) == [GREETING]
        r = run_cli(cli_target(d.address), timeout=5)
        check(r, 1, b"", stderr_has=["hello-cli: server: ERROR server busy"])


@test
def hellod_too_long_exit_1():
    with Hellod({"server": {"max_message": 4}}) as d:
        r = run_cli(cli_target(d.address) + ["ok", "far too long"], timeout=5)
        check(r, 1, OUT, stderr_has=["hello-cli: server: ERROR message too long"])


@test
def fewer_replies_than_messages_exit_1():
    def one_reply(sock):
        sock.recv(1024)
        sock.sendall(b"Hello from server\n")
        sock.close()

    with TestServer(one_reply) as s:
        r = run_cli(["-H", "127.0.0.1", "-p", str(s.port), "a", "b", "c"], timeout=5)
        assert r.returncode == 1, r


@test
def server_closes_without_reply_exit_1():
    def rude(sock):
        sock.recv(1024)
        sock.close()

    with TestServer(rude) as s:
        r = run_cli(["-H", "127.0.0.1", "-p", str(s.port)], timeout=5)
        check(r, 1, b"")


@test
def stdin_replies_printed_as_they_come():
    with Hellod() as d:
        p = subprocess.Popen([env_path("HELLO_CLI")] + cli_target(d.address) + ["-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            for i in range(3):
                # one line in, its reply out, while stdin is still open
                p.stdin.write(b"line %d\n" % i)
                p.stdin.flush()
                ready, _, _ = select.select([p.stdout], [], [], 5)
                assert ready, "no reply printed for line %d within 5s while stdin is open" % i
                assert p.stdout.readline() == OUT
            p.stdin.close()
            assert p.wait(5) == 0
            assert p.stdout.read() == b""
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


@test
def bad_usage_exit_2():
    for args in (["--no-such-option"], ["-p", "notaport"], ["-p", "65536"], ["-t", "soon"],
                 ["-p"]):
        r = run_cli(args, timeout=5)
        assert r.returncode == 2, "%r: exit status %r; stderr %r" % (args, r.returncode, r.stderr)
        assert r.stderr.strip(), "%r: nothing said on stderr" % (args,)


@test
def version_and_help():
    for opt in ("-V", "--version"):
        r = run_cli([opt])
        check(r, 0, b"hello-cli 0.1.0\n")
    for opt in ("-h", "--help"):
        r = run_cli([opt])
        check(r, 0)
        assert b"hello-cli" in r.stdout and b"-U" in r.stdout, r.stdout


run()
