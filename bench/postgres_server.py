"""A throwaway PostgreSQL 15 server for bench/run_bench.py's `hollerith --store postgres` peer.

Debian's postgresql-15 (/usr/lib/postgresql/15/bin): a fresh cluster in a temp dir
(hollerith-bench-pg-*), listening on 127.0.0.1 (a free port, probed) and on a Unix socket in that
dir, with a login role `hollerith` (random password, scram-sha-256 over TCP, in a libpq passfile)
and a database `hollerith` it owns. Durability is PostgreSQL's default (fsync and
synchronous_commit on), as SQLite's default store is durable: a fair comparison. initdb and
postgres refuse to run as root: then they run as the `postgres` system user (runuser).

Always stopped (`pg_ctl stop -m fast`, then SIGKILL to what is left) and removed: by stop(), at
the end of a `with` block, or at exit (atexit; the harness turns SIGTERM into an exception).

  with PostgresServer() as pg:
      flags = ["--store", pg.uri(pg.fresh_database()), "--store-passfile", pg.passfile()]
"""

import atexit
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN_DIR = "/usr/lib/postgresql/15/bin"
PORT_ATTEMPTS = 5  # another process may take the probed port before the server binds it


class PostgresError(Exception):
    pass


def missing_binaries(bin_dir=BIN_DIR):
    """The programs this needs that are not in `bin_dir`."""
    return [os.path.join(bin_dir, n) for n in ("initdb", "pg_ctl", "postgres", "psql")
            if not os.access(os.path.join(bin_dir, n), os.X_OK)]


def free_port():
    """A port on 127.0.0.1 that was free a moment ago (bound to port 0, read, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid):
    """Whether `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _children(parent):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                        out.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return out


class PostgresServer:
    def __init__(self, bin_dir=BIN_DIR, shared_buffers="128MB", max_connections=50):
        self.bin_dir = bin_dir
        self.shared_buffers = shared_buffers
        self.max_connections = max_connections
        self.dir = None
        self.port = None
        self.password = secrets.token_hex(24)  # hex: nothing to quote in SQL or the passfile
        self.as_postgres = os.geteuid() == 0
        self._databases = 0  # fresh_database()'s counter
        self._current = None  # the database fresh_database() made last

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def bin(self, name):
        return os.path.join(self.bin_dir, name)

    @property
    def data_dir(self):
        return os.path.join(self.dir, "data")

    @property
    def socket_dir(self):
        return os.path.join(self.dir, "socket")

    @property
    def log_path(self):
        return os.path.join(self.dir, "postgres.log")

    def _as_server_user(self, argv):
        return (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + argv

    def _run(self, argv, timeout, what, stdin=None):
        """Runs argv as the server's user (in the temp dir: the caller's may be closed to it);
        PostgresError with its output on failure."""
        try:
            p = subprocess.run(self._as_server_user(argv), cwd=self.dir, input=stdin,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PostgresError(f"{what} did not finish in {timeout} s\n{self.log_tail()}")
        if p.returncode != 0:
            raise PostgresError(f"{what} failed (exit code {p.returncode}): "
                                f"{(p.stdout + p.stderr).strip()[-2000:]}")
        return p.stdout

    def log_tail(self, lines=20, since=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                text = f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""
        return "server log:\n" + "".join(text.splitlines(True)[-lines:])

    def start(self):
        missing = missing_binaries(self.bin_dir)
        if missing:
            raise PostgresError(f"PostgreSQL 15 is not installed: {', '.join(missing)} missing "
                                f"(Debian: apt-get install postgresql-15)")
        self.dir = tempfile.mkdtemp(prefix="hollerith-bench-pg-")
        atexit.register(self.stop)
        try:
            os.mkdir(self.data_dir, 0o700)
            os.mkdir(self.socket_dir, 0o755)
            open(self.log_path, "wb").close()
            if self.as_postgres:
                try:
                    user = pwd.getpwnam("postgres")
                except KeyError:
                    raise PostgresError("running as root, PostgreSQL needs the `postgres` system "
                                        "user, and there is none") from None
                for path in (self.dir, self.data_dir, self.socket_dir, self.log_path):
                    os.chown(path, user.pw_uid, user.pw_gid)
            # --no-sync: only initdb's own closing flush of the new cluster; the server syncs.
            self._run([self.bin("initdb"), "-D", self.data_dir, "-U", "postgres",
                       "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                       "--locale=C", "--no-sync", "--no-instructions"], 120, "initdb")
            for attempt in range(1, PORT_ATTEMPTS + 1):
                self.port = free_port()
                if self._start_once(last=attempt == PORT_ATTEMPTS):
                    break
            self.psql(f"CREATE ROLE hollerith LOGIN PASSWORD '{self.password}';\n"
                      f"CREATE DATABASE hollerith OWNER hollerith;\n", "creating role and database")
            # `*`: one line for every database of fresh_database().
            fd = os.open(self.passfile(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(f"127.0.0.1:{self.port}:*:hollerith:{self.password}\n")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_once(self, last):
        """pg_ctl start on self.port: True when up, False when the port was taken (and not
        `last`); PostgresError otherwise."""
        log_from = os.path.getsize(self.log_path)
        # pg_ctl hands -o to a shell: the socket dir is a mkdtemp path, quoted.
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories='{self.socket_dir}' "
                   f"-c shared_buffers={self.shared_buffers} "
                   f"-c max_connections={self.max_connections}")
        try:
            # -l: the postmaster writes to the log, and holds none of our pipes.
            self._run([self.bin("pg_ctl"), "-w", "-t", "60", "-D", self.data_dir,
                       "-l", self.log_path, "start", "-o", options], 90, "pg_ctl start")
            return True
        except PostgresError as e:
            self._kill_leftovers()
            with open(self.log_path, "rb") as f:
                f.seek(log_from)
                taken = b"Address already in use" in f.read()
            if taken and not last:
                return False
            raise PostgresError(f"PostgreSQL did not start on 127.0.0.1:{self.port}: {e}\n"
                                f"{self.log_tail(since=log_from)}") from None

    def psql(self, sql, what="psql"):
        """Runs SQL (on stdin: no password on a command line) as the superuser over the socket;
        each statement on its own (CREATE/DROP DATABASE cannot run in a transaction)."""
        return self._run([self.bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                          "-h", self.socket_dir, "-p", str(self.port), "-U", "postgres",
                          "-d", "postgres"], 120, what, stdin=sql)

    def fresh_database(self):
        """A new empty database owned by `hollerith` (a coordinator recovers every job its
        database holds: each cluster gets its own). Drops the one made before (its coordinator
        has stopped) and checkpoints, so the previous run's dirty pages are not written during
        the next. Returns its name."""
        self._databases += 1
        name = f"hollerith_{self._databases}"
        drop = f"DROP DATABASE IF EXISTS {self._current} WITH (FORCE);\n" if self._current else ""
        self.psql(f"{drop}CREATE DATABASE {name} OWNER hollerith;\nCHECKPOINT;\n",
                  f"creating database {name}")
        self._current = name
        return name

    def uri(self, database="hollerith"):
        """The --store URI for the role `hollerith` (its password from passfile())."""
        return f"postgres://hollerith@127.0.0.1:{self.port}/{database}"

    def passfile(self):
        return os.path.join(self.dir, "pgpass")

    def info(self):
        version = subprocess.run([self.bin("postgres"), "--version"], capture_output=True,
                                 text=True).stdout.strip()
        return {"version": version, "shared_buffers": self.shared_buffers,
                "max_connections": self.max_connections,
                "durability": "defaults (fsync on, synchronous_commit on)"}

    def _postmasters(self):
        """Live processes running `postgres -D DATA_DIR` (the postmaster; after a pg_ctl start
        that was cut short, possibly one that wrote no pid file yet)."""
        want = self.data_dir.encode()
        out = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and os.path.basename(argv[0]) in (b"postgres", b"postmaster") \
                    and want in argv and _alive(int(name)):
                out.append(int(name))
        return out

    def _kill_leftovers(self, wait_s=10.0):
        """Waits up to `wait_s` for the postmaster to exit, then SIGKILLs it and its children
        (stopped first, so that it forks no more)."""
        deadline = time.monotonic() + wait_s
        while (pids := self._postmasters()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGSTOP)
                children = _children(pid)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            for c in children:
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while any(_alive(p) for p in [pid] + children) and time.monotonic() < deadline:
                time.sleep(0.05)

    def stop(self):
        """pg_ctl stop -m fast, SIGKILL to what is left, the temp dir removed. Idempotent."""
        if self.dir is None:
            return
        try:
            try:
                if self._postmasters():
                    self._run([self.bin("pg_ctl"), "-D", self.data_dir, "-m", "fast", "-w",
                               "-t", "30", "stop"], 45, "pg_ctl stop")
            except (PostgresError, OSError):
                pass  # then killed
            finally:
                self._kill_leftovers(wait_s=5.0)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            atexit.unregister(self.stop)
