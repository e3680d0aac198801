"""The configuration file: errors (exit 78, FILE:LINE: [section] key: reason), -t."""
from hellotest import *

EX_CONFIG = 78

DEFAULTS = {
    ("server", "listen"): "8080",
    ("server", "greeting"): "Hello from server",
    ("server", "max_connections"): "10000",
    ("server", "max_message"): "1024",
    ("server", "idle_timeout"): "60s",
    ("server", "message_timeout"): "100ms",
    ("server", "backlog"): "128",
    ("server", "exit_on_idle"): "0",
    ("server", "workers"): "0",
    ("server", "proxy_protocol"): "no",
    ("server", "proxy_timeout"): "10s",
    ("log", "level"): "info",
    ("log", "messages"): "no",
}
DURATION_KEYS = {("server", "idle_timeout"), ("server", "message_timeout"),
                 ("server", "exit_on_idle"), ("server", "proxy_timeout")}

# (name, config text, line of the error, what the error must name after "FILE:LINE: ")
BAD = [
    ("unknown key", "; hellod.conf\n[server]\nbacklog = 5\nbogus = 1\n", 4,
     r"\[server\] bogus: "),
    ("unknown key in [log]", "[log]\nlevel = info\nverbose = yes\n", 3, r"\[log\] verbose: "),
    ("unknown section", "[server]\nbacklog = 5\n\n[bogus]\nx = 1\n", 4, r".*bogus"),
    ("bad number", "[server]\nbacklog = abc\n", 2, r"\[server\] backlog: .*abc"),
    ("negative number", "[server]\nmax_connections = -5\n", 2, r"\[server\] max_connections: "),
    ("out of range (0)", "[server]\n\nmax_message = 0\n", 3, r"\[server\] max_message: .*0"),
    ("out of range (big)", "[server]\nmax_message = 1048577\n", 2, r"\[server\] max_message: "),
    ("out of range (backlog)", "[server]\nbacklog = 65536\n", 2, r"\[server\] backlog: "),
    ("bad duration", "[server]\nidle_timeout = 5 parsecs\n", 2, r"\[server\] idle_timeout: "),
    ("bad duration unit", "[server]\nmessage_timeout = 10ns\n", 2,
     r"\[server\] message_timeout: "),
    ("duration over 24h", "[server]\nidle_timeout = 25h\n", 2, r"\[server\] idle_timeout: "),
    ("bad boolean", "[log]\nmessages = maybe\n", 2, r"\[log\] messages: .*maybe"),
    ("bad log level", "[log]\nlevel = loud\n", 2, r"\[log\] level: .*loud"),
    ("bad listen address", "[server]\nlisten = 127.0.0.1:0 not-an-address\n", 2,
     r"\[server\] listen: .*not-an-address"),
    ("listen port out of range", "[server]\nlisten = 127.0.0.1:65536\n", 2,
     r"\[server\] listen: "),
    ("bare IPv6 address", "[server]\nlisten = ::1:80\n", 2, r"\[server\] listen: "),
    ("empty greeting", "[server]\ngreeting =\n", 2, r"\[server\] greeting: "),
    ("greeting with a control character", "[server]\ngreeting = a\tb\n", 2,
     r"\[server\] greeting: "),
    ("greeting of 129 bytes", "[server]\ngreeting = %s\n" % ("g" * 129), 2,
     r"\[server\] greeting: "),
    ("17 listen addresses", "[server]\nlisten = %s\n" % " ".join(
        "%d" % p for p in range(9000, 9017)), 2, r"\[server\] listen: "),
    ("line over 198 characters", "[server]\n; comment\ngreeting = %s\n" % ("g" * 190), 3,
     r""),
    ("indented line continuing a key other than listen", "[server]\nbacklog = 5\n  6\n", 3,
     r"\[server\] backlog: "),
    ("key set twice", "[server]\nbacklog = 5\nmax_message = 9\nbacklog = 6\n", 4,
     r"\[server\] backlog: "),
    ("key set twice across sections", "[server]\nbacklog = 5\n[log]\nlevel = info\n"
     "[server]\nbacklog = 6\n", 6, r"\[server\] backlog: "),
    ("syntax error", "[server]\nbacklog = 5\nthis line has no equals sign\n", 3, r""),
    ("unclosed section", "[server\nbacklog = 5\n", 1, r""),
    ("key outside any section", "backlog = 5\n[server]\n", 1, r".*backlog"),
]


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def error_line_re(path, line, what):
    return re.compile(r"^(?:<\d>)?(?:hellod: )?(?:error: )?%s:%d: %s" % (
        re.escape(path), line, what), re.M)


def check_bad(tmp, i, name, text, line, what, check_only):
    path = write(tmp, "bad%d.conf" % i, text)
    args = ["-c", path] + (["-t"] if check_only else ["-l", "127.0.0.1:0"])
    try:
        r = run_hellod(args, timeout=3)
    except AssertionError as e:  # it went on to serve: report it with the others
        return "%s (%s): %s\n  config: %r" % (name, "-t" if check_only else "run", e, text)
    err = r.stderr.decode("utf-8", "backslashreplace")
    problems = []
    if r.returncode != EX_CONFIG:
        problems.append("exit status %r, not 78" % r.returncode)
    if not error_line_re(path, line, what).search(err):
        problems.append("no error line '%s:%d: %s...'" % (path, line, what))
    elif len([x for x in err.splitlines() if path in x]) != 1:
        problems.append("the error is not one line")
    if check_only and r.stdout:
        problems.append("-t printed a configuration: %r" % r.stdout[:100])
    if problems:
        return "%s (%s): %s\n  config: %r\n  stderr: %s" % (
            name, "-t" if check_only else "run", "; ".join(problems), text, err.strip())
    return None


@test
def bad_configs_exit_78_naming_file_line_key():
    tmp = make_tmpdir()
    failures = [f for i, case in enumerate(BAD)
                for f in [check_bad(tmp, i, *case, check_only=False)] if f]
    assert not failures, "%d of %d bad configs:\n%s" % (len(failures), len(BAD),
                                                         "\n".join(failures))


@test
def bad_configs_with_check_config_exit_78():
    tmp = make_tmpdir()
    failures = [f for i, case in enumerate(BAD)
                for f in [check_bad(tmp, i, *case, check_only=True)] if f]
    assert not failures, "%d of %d bad configs:\n%s" % (len(failures), len(BAD),
                                                         "\n".join(failures))


@test
def spec_example_error_wording():
    tmp = make_tmpdir()
    path = write(tmp, "hellod.conf", "\n" * 5 + "[server]\nmax_message = 0\n")
    r = run_hellod(["-t", "-c", path])
    assert r.returncode == EX_CONFIG, r
    want = "%s:7: [server] max_message: '0' out of range (1..1048576)" % path
    assert want in r.stderr.decode(), (want, r.stderr)


@test
def missing_config_file_exits_78():
    tmp = make_tmpdir()
    path = os.path.join(tmp, "no-such.conf")
    for extra in ([], ["-t"]):
        r = run_hellod(["-c", path, "-l", "127.0.0.1:0"] + extra, timeout=5)
        assert r.returncode == EX_CONFIG, (extra, r)
        assert path in r.stderr.decode(), r.stderr


@test
def unreadable_config_exits_78():
    tmp = make_tmpdir()  # a directory cannot be read as a file, even by root
    r = run_hellod(["-c", tmp, "-l", "127.0.0.1:0"], timeout=5)
    assert r.returncode == EX_CONFIG, r
    assert tmp in r.stderr.decode(), r.stderr


UNITS = {"us": 1, "ms": 10**3, "s": 10**6, "": 10**6, "min": 60 * 10**6, "h": 3600 * 10**6}


def parse_duration(text):
    """'90', '1500ms', '1min 30s' -> microseconds."""
    parts = re.findall(r"\s*(\d+)\s*(min|ms|us|h|s|)", text)
    assert parts and re.fullmatch(r"(\s*\d+\s*(min|ms|us|h|s|))+\s*", text), \
        "not a duration: %r" % text
    return sum(int(n) * UNITS[u] for n, u in parts)


def parse_printed(text):
    """-t's output -> {(section, key): value}; it must be the file's own syntax."""
    out, section, last = {}, None, None
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(";") or s.startswith("#"):
            last = None
            continue
        if line[0] in " \t":  # an indented line continues listen (hellod.conf(5))
            assert last == ("server", "listen"), "-t printed an indented line after %r: %r" % (
                last, line)
            out[last] += " " + s
            continue
        m = re.fullmatch(r"\[(\w+)\]", s)
        if m:
            section = m.group(1)
            continue
        m = re.fullmatch(r"(\w+)\s*=\s*(.*?)", s)
        assert m and section, "-t printed a line that is not INI: %r" % line
        assert (section, m.group(1)) not in out, "-t printed %s twice" % m.group(1)
        last = (section, m.group(1))
        out[last] = m.group(2)
    return out


def normalized(cfg):
    return {k: parse_duration(v) if k in DURATION_KEYS else v for k, v in cfg.items()}


def check_config(tmp, text, args=(), name="c.conf"):
    path = write(tmp, name, text)
    r = run_hellod(["-t", "-c", path] + list(args))
    assert r.returncode == 0, "-t exit %r on %r; stderr: %r" % (r.returncode, text, r.stderr)
    return r.stdout.decode()


@test
def check_config_prints_defaults_for_empty_file():
    tmp = make_tmpdir()
    out = check_config(tmp, "")
    cfg = parse_printed(out)
    extra, missing = set(cfg) - set(DEFAULTS), set(DEFAULTS) - set(cfg)
    assert not extra and not missing, "-t printed keys that docs/SPEC.md does not list: %s; " \
        "left out keys it lists: %s\n%s" % (sorted(extra), sorted(missing), out)
    assert normalized(cfg) == normalized(DEFAULTS), out


@test
def check_config_shows_changes():
    tmp = make_tmpdir()
    out = check_config(tmp, "[server]\ngreeting = Howdy there\nmax_message = 77\n"
                            "idle_timeout = 5min\nmessage_timeout = 0\nbacklog = 3\n"
                            "[log]\nlevel = debug\nmessages = on\n")
    cfg = parse_printed(out)
    want = dict(DEFAULTS)
    want.update({("server", "greeting"): "Howdy there", ("server", "max_message"): "77",
                 ("server", "idle_timeout"): "300s", ("server", "message_timeout"): "0",
                 ("server", "backlog"): "3", ("log", "level"): "debug",
                 ("log", "messages"): "yes"})
    assert normalized({k: cfg.get(k) for k in want}) == normalized(want), out
    for line in ("greeting = Howdy there", "max_message = 77", "level = debug",
                 "messages = yes"):
        assert re.search(r"^%s$" % re.escape(line), out, re.M), (line, out)


@test
def check_config_output_reads_back_the_same():
    tmp = make_tmpdir()
    text = ("[server]\nlisten = 127.0.0.1:9 [::1]:10 /run/x.sock 8081\ngreeting = Hi there\n"
            "idle_timeout = 90\nmessage_timeout = 1500ms\n[log]\nlevel = notice\n")
    first = check_config(tmp, text, name="a.conf")
    second = check_config(tmp, first, name="b.conf")
    assert first == second, "-t output does not read back the same:\n%s---\n%s" % (first, second)
    cfg = normalized(parse_printed(first))
    assert cfg[("server", "listen")].split() == ["127.0.0.1:9", "[::1]:10", "/run/x.sock",
                                                  "8081"], first
    assert cfg[("server", "idle_timeout")] == 90 * 10**6, first
    assert cfg[("server", "message_timeout")] == 1500 * 10**3, first


@test
def check_config_with_overrides():
    tmp = make_tmpdir()
    out = check_config(tmp, "[server]\nlisten = 127.0.0.1:1\n[log]\nlevel = err\n",
                       ["-l", "127.0.0.1:9", "--listen=[::1]:10", "--log-level=debug"])
    cfg = parse_printed(out)
    assert cfg[("server", "listen")].split() == ["127.0.0.1:9", "[::1]:10"], out
    assert cfg[("log", "level")] == "debug", out


@test
def accepted_values():
    tmp = make_tmpdir()
    for word, value in (("yes", "yes"), ("true", "yes"), ("on", "yes"), ("1", "yes"),
                        ("no", "no"), ("false", "no"), ("off", "no"), ("0", "no")):
        cfg = parse_printed(check_config(tmp, "[log]\nmessages = %s\n" % word))
        assert cfg[("log", "messages")] == value, (word, cfg)
    for level in ("err", "warning", "notice", "info", "debug"):
        cfg = parse_printed(check_config(tmp, "[log]\nlevel = %s\n" % level))
        assert cfg[("log", "level")] == level, (level, cfg)
    for text, usec in (("250us", 250), ("100ms", 10**5), ("7", 7 * 10**6), ("7s", 7 * 10**6),
                       ("2min", 120 * 10**6), ("1h", 3600 * 10**6), ("24h", 86400 * 10**6),
                       ("0", 0)):
        cfg = parse_printed(check_config(tmp, "[server]\nidle_timeout = %s\n" % text))
        assert parse_duration(cfg[("server", "idle_timeout")]) == usec, (text, cfg)
    cfg = parse_printed(check_config(tmp, "[server]\ngreeting = %s\n" % ("g" * 128)))
    assert cfg[("server", "greeting")] == "g" * 128, cfg
    many = ["%d" % p for p in range(9000, 9016)]
    cfg = parse_printed(check_config(tmp, "[server]\nlisten = %s\n" % " ".join(many)))
    assert cfg[("server", "listen")].split() == many, cfg
    for key, lo, hi in (("max_connections", 1, 1000000), ("max_message", 1, 1048576),
                        ("backlog", 1, 65535)):
        for v in (lo, hi):
            cfg = parse_printed(check_config(tmp, "[server]\n%s = %d\n" % (key, v)))
            assert cfg[("server", key)] == str(v), (key, v, cfg)


@test
def sixteen_host_port_listen_entries():
    # "up to 16 entries" of any form; lines are at most 198 characters, so a long
    # list goes on indented continuation lines (hellod.conf(5))
    tmp = make_tmpdir()
    many = ["127.0.0.1:%d" % p for p in range(9000, 9016)]
    out = check_config(tmp, "[server]\nlisten = %s\n         %s\nbacklog = 5\n" % (
        " ".join(many[:8]), " ".join(many[8:])))
    assert parse_printed(out)[("server", "listen")].split() == many, out
    assert parse_printed(out)[("server", "backlog")] == "5", out
    assert all(len(x) <= 198 for x in out.splitlines()), "-t printed a line too long to read back"
    assert check_config(tmp, out, name="again.conf") == out
    # the same on the command line
    args = [x for a in many for x in ("-l", a)]
    out = check_config(tmp, "", args)
    assert parse_printed(out)[("server", "listen")].split() == many, out


@test
def comments_and_blank_lines():
    tmp = make_tmpdir()
    out = check_config(tmp, "; a comment\n\n[server]\n; another\nmax_message = 99  ; bytes\n"
                            "backlog = 7\n\n[log]\nmessages = yes ; log them\n")
    cfg = parse_printed(out)
    assert cfg[("server", "max_message")] == "99", out
    assert cfg[("server", "backlog")] == "7", out
    assert cfg[("log", "messages")] == "yes", out


@test
def shipped_config_gives_the_defaults():
    srcdir = env_path("HELLO_SRCDIR")
    shipped = os.path.join(srcdir, "etc", "hellod.conf")
    assert os.path.isfile(shipped), "%s does not exist" % shipped
    r = run_hellod(["-t", "-c", shipped])
    assert r.returncode == 0, "-t on the shipped config: exit %r; stderr: %r" % (
        r.returncode, r.stderr)
    tmp = make_tmpdir()
    empty = check_config(tmp, "")
    assert r.stdout.decode() == empty, "the shipped config differs from the defaults:\n" \
        "shipped:\n%s\ndefaults:\n%s" % (r.stdout.decode(), empty)


@test
def serving_uses_the_config():
    # the effective configuration is what the server does, not just what -t says
    with Hellod({"server": {"greeting": "Configured hello", "max_message": 5}}) as d:
        with connect(d.address) as c:
            c.send_lines(["12345"])
            assert c.read_lines(1) == [b"Configured hello\n"]
            c.send_lines(["123456"])
            assert c.read_lines(1) == [b"ERROR message too long\n"]
            c.expect_eof()


run()
