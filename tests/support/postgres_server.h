// A real PostgreSQL 15 server for tests (Debian's postgresql-15): a fresh cluster in a temporary
// directory, listening on a Unix socket in a private directory and on 127.0.0.1 (a free port,
// probed), with a login role and database `hollerith` (random password, scram-sha-256 over TCP).
// Runs as the `postgres` system user when the test runs as root (initdb and postgres refuse root).
// The destructor always stops it (immediate, then SIGKILL) and removes its directories.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace hollerith::testing {

class PostgresServer {
 public:
  static constexpr const char* kDefaultBinDir = "/usr/lib/postgresql/15/bin";

  // initdb, start, create the role and database. Throws std::runtime_error (the test fails with
  // its message) when the binaries in `bin_dir` are missing or the server does not start.
  explicit PostgresServer(const std::string& bin_dir = kDefaultBinDir);
  // Stops the server (immediate), SIGKILLs whatever is left of it, removes its directories.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // `pg_ctl stop -m fast`; throws if it does not stop within `timeout`. No-op when not running.
  void Stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // A crash: SIGKILLs the postmaster and its children and waits until they are gone. The lock
  // files of the killed server (postmaster.pid, the socket's) are removed, as a reboot would have
  // made them stale: its pid may stay a zombie where nobody reaps orphans. Throws if not running.
  void Kill();
  // Starts again on the same data dir and port (after Stop or Kill: crash recovery runs); throws
  // if it does not start.
  void Start();
  // Stop, then Start.
  void Restart();

  bool running() const { return running_; }
  // The postmaster's pid (of the last start; -1 before the first).
  pid_t postmaster_pid() const { return pid_; }

  // The superuser `postgres` over the Unix socket (trust), for the test's own admin work.
  std::string socket_conninfo() const;
  // "host=127.0.0.1 port=N user=hollerith dbname=hollerith", without the password.
  std::string tcp_conninfo() const;
  // The role `hollerith`'s password.
  const std::string& password() const { return password_; }
  int port() const { return port_; }
  const std::string& socket_dir() const { return socket_dir_; }
  const std::string& data_dir() const { return data_dir_; }
  // Writes a libpq passfile (mode 0600) with the role's password for 127.0.0.1:port()/hollerith;
  // returns its path (for `passfile=` in a conninfo, or PGPASSFILE).
  std::string WritePassfile() const;
  // The server's log (pg_ctl -l), for messages on failure.
  std::string Log() const;

 private:
  std::vector<std::string> AsServerUser(std::vector<std::string> argv) const;
  std::string Bin(const std::string& name) const { return bin_dir_ + "/" + name; }
  // One pg_ctl start on port_; "" when it is up, else what went wrong. Sets port_taken when
  // the log says that the port was in use.
  std::string StartOnce(bool& port_taken);
  void CreateRoleAndDatabase();
  // Stops and kills whatever runs on data_dir_; never throws.
  void Shutdown() noexcept;
  // The postmaster pid in data_dir_/postmaster.pid (-1 if none).
  pid_t PidFromFile() const;
  // Whether `pid` is a live (not zombie) postmaster of data_dir_.
  bool IsOurPostmaster(pid_t pid) const;
  // SIGKILLs `pid` and its children (stopped first, so that it forks no more) and waits until
  // they are gone; false at the deadline.
  bool KillTree(pid_t pid) const;
  void RemoveStaleLockFiles() const;

  std::string bin_dir_;
  TempDir dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool running_ = false;
  bool as_postgres_ = false;  // running as root: the server runs as the `postgres` user
};

}  // namespace hollerith::testing
