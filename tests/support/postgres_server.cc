#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>

#include "tests/support/process.h"

namespace hollerith::testing {
namespace {

constexpr int kPortAttempts = 5;
constexpr std::chrono::seconds kExitWait(10);

// A port on 127.0.0.1 that was free a moment ago: bound to port 0, read, closed.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    close(fd);
    throw std::runtime_error(std::string("cannot bind 127.0.0.1:0: ") + std::strerror(e));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string RandomHex(size_t bytes) {
  std::random_device random;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned byte = random() & 0xff;
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

void MakeDir(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) != 0 || chmod(path.c_str(), mode) != 0) {
    throw std::runtime_error("cannot make " + path + ": " + std::strerror(errno));
  }
}

void Chown(const std::string& path, const passwd& user) {
  if (chown(path.c_str(), user.pw_uid, user.pw_gid) != 0) {
    throw std::runtime_error("cannot chown " + path + " to " + user.pw_name + ": " +
                             std::strerror(errno));
  }
}

// A process's state letter and parent from /proc/PID/stat ('\0' when there is no such process).
struct ProcStat {
  char state = '\0';
  pid_t ppid = -1;
};

ProcStat ReadProcStat(pid_t pid) {
  const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  // "PID (COMM) S PPID ...": COMM may hold spaces and parentheses, so parse from the last ')'.
  const size_t close = stat.rfind(')');
  ProcStat out;
  if (close == std::string::npos || close + 4 >= stat.size()) return out;
  out.state = stat[close + 2];
  out.ppid = static_cast<pid_t>(std::atoi(stat.c_str() + close + 4));
  return out;
}

bool Alive(pid_t pid) {
  const char state = ReadProcStat(pid).state;
  return state != '\0' && state != 'Z' && state != 'X';
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (name.empty() || !std::all_of(name.begin(), name.end(), digit)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (ReadProcStat(pid).ppid == parent) children.push_back(pid);
  }
  return children;
}

std::string Tail(const std::string& text, size_t n = 4000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

std::string Describe(const CommandResult& r) {
  std::string out = r.timed_out ? "timed out" : "exit code " + std::to_string(r.exit_code);
  if (!r.out.empty()) out += "\nstdout:\n" + Tail(r.out);
  if (!r.err.empty()) out += "\nstderr:\n" + Tail(r.err);
  return out;
}

}  // namespace

PostgresServer::PostgresServer(const std::string& bin_dir) : bin_dir_(bin_dir) {
  for (const char* name : {"initdb", "pg_ctl", "postgres"}) {
    if (access(Bin(name).c_str(), X_OK) != 0) {
      throw std::runtime_error("PostgreSQL 15 is not installed: " + Bin(name) +
                               " is missing (Debian: apt-get install postgresql-15)");
    }
  }
  data_dir_ = dir_.path() + "/data";
  socket_dir_ = dir_.path() + "/socket";
  log_path_ = dir_.path() + "/postgres.log";
  MakeDir(data_dir_, 0700);
  MakeDir(socket_dir_, 0755);
  const int log = open(log_path_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot create " + log_path_);
  close(log);
  // initdb and postgres refuse to run as root: then they run as the `postgres` system user, who
  // must own what they write to (the TempDir itself is searchable by everyone).
  as_postgres_ = geteuid() == 0;
  if (as_postgres_) {
    const passwd* user = getpwnam("postgres");
    if (!user) {
      throw std::runtime_error(
          "running as root, PostgreSQL needs the `postgres` system user, and there is none");
    }
    for (const auto& path : {data_dir_, socket_dir_, log_path_}) Chown(path, *user);
  }
  try {
    const CommandResult init = RunCommand(
        AsServerUser({Bin("initdb"), "-D", data_dir_, "-U", "postgres", "--auth-local=trust",
                      "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C",
                      // Only initdb's closing flush of the new cluster: the server runs with
                      // fsync on; a test kills processes, not the machine.
                      "--no-sync", "--no-instructions"}),
        std::chrono::seconds(120));
    if (init.exit_code != 0) throw std::runtime_error("initdb failed: " + Describe(init));
    password_ = RandomHex(24);
    for (int attempt = 1;; ++attempt) {
      port_ = FreeLoopbackPort();
      bool port_taken = false;
      const std::string error = StartOnce(port_taken);
      if (error.empty()) break;
      if (!port_taken || attempt == kPortAttempts) {
        throw std::runtime_error("PostgreSQL did not start on port " + std::to_string(port_) +
                                 " (attempt " + std::to_string(attempt) + "): " + error);
      }
    }
    CreateRoleAndDatabase();
  } catch (...) {
    Shutdown();
    throw;
  }
}

PostgresServer::~PostgresServer() { Shutdown(); }

std::vector<std::string> PostgresServer::AsServerUser(std::vector<std::string> argv) const {
  if (!as_postgres_) return argv;
  const char* runuser = access("/usr/sbin/runuser", X_OK) == 0 ? "/usr/sbin/runuser" : "runuser";
  argv.insert(argv.begin(), {runuser, "-u", "postgres", "--"});
  return argv;
}

std::string PostgresServer::StartOnce(bool& port_taken) {
  port_taken = false;
  const size_t log_before = ReadAll(log_path_).size();
  // pg_ctl hands -o to a shell; the socket directory is a mkdtemp path (no quotes in it).
  const std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
                              " -c unix_socket_directories='" + socket_dir_ +
                              "' -c shared_buffers=16MB -c max_connections=50";
  // -l: the postmaster's output goes to the log, so it holds none of RunCommand's pipes.
  const CommandResult r = RunCommand(AsServerUser({Bin("pg_ctl"), "-D", data_dir_, "-l", log_path_,
                                                   "-w", "-t", "60", "-o", options, "start"}),
                                     std::chrono::seconds(90));
  if (r.exit_code == 0) {
    pid_ = PidFromFile();
    if (pid_ > 0) {
      running_ = true;
      return "";
    }
  }
  std::string log = ReadAll(log_path_);
  log.erase(0, std::min(log_before, log.size()));
  port_taken = log.find("Address already in use") != std::string::npos;
  // Whatever pg_ctl left behind (it timed out, or the pid file is unreadable) goes.
  Shutdown();
  return "pg_ctl start: " + Describe(r) + "\nserver log:\n" + Tail(log);
}

void PostgresServer::CreateRoleAndDatabase() {
  PGconn* conn = PQconnectdb((socket_conninfo() + " connect_timeout=10").c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = "cannot connect over the socket: " + std::string(PQerrorMessage(conn));
  }
  // The password is hex: nothing to quote.
  for (const std::string& sql : {"CREATE ROLE hollerith LOGIN PASSWORD '" + password_ + "'",
                                 std::string("CREATE DATABASE hollerith OWNER hollerith")}) {
    if (!error.empty()) break;
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      error = sql.substr(0, sql.find(" PASSWORD")) + ": " + PQresultErrorMessage(result);
    }
    PQclear(result);
  }
  PQfinish(conn);
  if (!error.empty()) throw std::runtime_error("PostgreSQL set-up failed: " + error);
}

void PostgresServer::Stop(std::chrono::milliseconds timeout) {
  if (!running_) return;
  const auto seconds =
      std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(timeout).count());
  const CommandResult r = RunCommand(AsServerUser({Bin("pg_ctl"), "-D", data_dir_, "-m", "fast",
                                                   "-w", "-t", std::to_string(seconds), "stop"}),
                                     timeout + std::chrono::seconds(30));
  if (r.exit_code != 0) {
    throw std::runtime_error("pg_ctl stop failed: " + Describe(r) + "\nserver log:\n" +
                             Tail(Log()));
  }
  // pg_ctl returns once postmaster.pid is gone, a moment before the process is.
  WaitForProcessExit(pid_, kExitWait);
  running_ = false;
}

void PostgresServer::Kill() {
  if (!running_) throw std::runtime_error("PostgresServer::Kill: the server is not running");
  const pid_t from_file = PidFromFile();
  const pid_t pid = from_file > 0 ? from_file : pid_;
  if (!KillTree(pid)) {
    throw std::runtime_error("the postmaster " + std::to_string(pid) + " survived SIGKILL");
  }
  running_ = false;
  RemoveStaleLockFiles();
}

void PostgresServer::Start() {
  if (running_) throw std::runtime_error("PostgresServer::Start: the server is running");
  bool port_taken = false;
  const std::string error = StartOnce(port_taken);
  if (!error.empty()) {
    throw std::runtime_error("PostgreSQL did not start again on port " + std::to_string(port_) +
                             ": " + error);
  }
}

void PostgresServer::Restart() {
  Stop();
  Start();
}

std::string PostgresServer::socket_conninfo() const {
  return "host=" + socket_dir_ + " port=" + std::to_string(port_) +
         " user=postgres dbname=postgres";
}

std::string PostgresServer::tcp_conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=hollerith dbname=hollerith";
}

std::string PostgresServer::WritePassfile() const {
  const std::string path = dir_.path() + "/pgpass";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  const std::string line =
      "127.0.0.1:" + std::to_string(port_) + ":hollerith:hollerith:" + password_ + "\n";
  const bool ok = fchmod(fd, 0600) == 0 &&
                  write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
  return path;
}

std::string PostgresServer::Log() const { return ReadAll(log_path_); }

pid_t PostgresServer::PidFromFile() const {
  const std::string content = ReadAll(data_dir_ + "/postmaster.pid");
  const pid_t pid = static_cast<pid_t>(std::atoi(content.c_str()));
  return pid > 0 ? pid : -1;
}

bool PostgresServer::IsOurPostmaster(pid_t pid) const {
  if (pid <= 0 || !Alive(pid)) return false;
  // A pid may have been reused: ours has `-D data_dir_` on its command line.
  const std::string cmdline = ReadAll("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.find(data_dir_) != std::string::npos;
}

bool PostgresServer::KillTree(pid_t pid) const {
  if (pid <= 0) return true;
  kill(pid, SIGSTOP);  // forks no more children while they are listed
  const std::vector<pid_t> children = ChildrenOf(pid);
  kill(pid, SIGKILL);
  for (pid_t child : children) kill(child, SIGKILL);
  bool gone = WaitForProcessExit(pid, kExitWait);
  for (pid_t child : children) gone = WaitForProcessExit(child, kExitWait) && gone;
  return gone;
}

void PostgresServer::RemoveStaleLockFiles() const {
  const std::string socket = socket_dir_ + "/.s.PGSQL." + std::to_string(port_);
  for (const auto& path : {data_dir_ + "/postmaster.pid", socket + ".lock", socket}) {
    unlink(path.c_str());
  }
}

void PostgresServer::Shutdown() noexcept {
  try {
    const pid_t from_file = PidFromFile();
    if (IsOurPostmaster(from_file) || IsOurPostmaster(pid_)) {
      RunCommand(AsServerUser(
                     {Bin("pg_ctl"), "-D", data_dir_, "-m", "immediate", "-w", "-t", "20", "stop"}),
                 std::chrono::seconds(30));
    }
    bool killed = false;
    for (pid_t pid : {from_file, pid_}) {
      if (IsOurPostmaster(pid)) {
        KillTree(pid);
        killed = true;
      }
    }
    // Its lock files would name a pid that may stay a zombie (when nobody reaps orphans).
    if (killed) RemoveStaleLockFiles();
  } catch (...) {
    // A destructor's last resort: nothing to report to.
  }
  running_ = false;
}

}  // namespace hollerith::testing
