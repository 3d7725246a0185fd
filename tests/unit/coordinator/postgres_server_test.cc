// The test PostgreSQL server (tests/support/postgres_server.h) against a real PostgreSQL 15: it
// starts, takes the superuser over its socket and the role `hollerith` by password over TCP,
// keeps committed rows across a restart and a crash, and is gone after Stop and its destructor.
#include "tests/support/postgres_server.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "tests/support/process.h"

namespace hollerith::testing {
namespace {

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

Conn Connect(const std::string& conninfo) {
  return Conn(PQconnectdb((conninfo + " connect_timeout=10").c_str()));
}

// The first column of the first row of `sql`'s result; "ERROR: ..." when it fails.
std::string Query(PGconn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  std::string out;
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
    out = PQgetvalue(result, 0, 0);
  } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    out = std::string("ERROR: ") + PQresultErrorMessage(result);
  }
  PQclear(result);
  return out;
}

TEST(PostgresServerTest, StartsAndTakesTheSuperuserOverItsSocket) {
  PostgresServer pg;
  EXPECT_TRUE(pg.running());
  EXPECT_GT(pg.port(), 0);
  EXPECT_GT(pg.postmaster_pid(), 0);
  EXPECT_TRUE(std::filesystem::exists(pg.data_dir() + "/PG_VERSION"));
  EXPECT_TRUE(std::filesystem::exists(pg.socket_dir() + "/.s.PGSQL." + std::to_string(pg.port())));

  Conn conn = Connect(pg.socket_conninfo());
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_EQ(Query(conn.get(), "SELECT 1"), "1");
  EXPECT_EQ(Query(conn.get(), "SELECT current_user"), "postgres");
  EXPECT_EQ(Query(conn.get(), "SHOW server_version_num").substr(0, 2), "15");
  EXPECT_EQ(Query(conn.get(), "SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(Query(conn.get(), "SHOW fsync"), "on");
  EXPECT_EQ(Query(conn.get(),
                  "SELECT pg_get_userbyid(datdba) FROM pg_database "
                  "WHERE datname = 'hollerith'"),
            "hollerith");
}

TEST(PostgresServerTest, TheRoleLogsInOverTcpWithItsPasswordOnly) {
  PostgresServer pg;
  EXPECT_EQ(pg.tcp_conninfo().find("password"), std::string::npos);
  EXPECT_EQ(pg.password().size(), 48u);

  Conn good = Connect(pg.tcp_conninfo() + " password=" + pg.password());
  ASSERT_EQ(PQstatus(good.get()), CONNECTION_OK) << PQerrorMessage(good.get());
  EXPECT_EQ(Query(good.get(), "SELECT 1"), "1");
  EXPECT_EQ(Query(good.get(), "SELECT current_user || '@' || current_database()"),
            "hollerith@hollerith");
  EXPECT_EQ(Query(good.get(), "SELECT inet_server_addr()"), "127.0.0.1");
  // It owns its database: it may create tables in it.
  EXPECT_EQ(Query(good.get(), "CREATE TABLE mine (x int)"), "");

  Conn wrong = Connect(pg.tcp_conninfo() + " password=not-" + pg.password());
  EXPECT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(wrong.get())).find("password authentication failed"),
            std::string::npos)
      << PQerrorMessage(wrong.get());

  // The passfile holds the password (0600, or libpq would ignore it).
  const std::string passfile = pg.WritePassfile();
  EXPECT_EQ(std::filesystem::status(passfile).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  Conn from_file = Connect(pg.tcp_conninfo() + " passfile=" + passfile);
  ASSERT_EQ(PQstatus(from_file.get()), CONNECTION_OK) << PQerrorMessage(from_file.get());
  EXPECT_EQ(Query(from_file.get(), "SELECT 1"), "1");
}

TEST(PostgresServerTest, RestartKeepsCommittedRows) {
  PostgresServer pg;
  const int port = pg.port();
  const pid_t first_pid = pg.postmaster_pid();
  {
    Conn conn = Connect(pg.tcp_conninfo() + " password=" + pg.password());
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
    ASSERT_EQ(Query(conn.get(), "CREATE TABLE t (x int)"), "");
    ASSERT_EQ(Query(conn.get(), "INSERT INTO t VALUES (42)"), "");
  }
  pg.Restart();
  EXPECT_TRUE(pg.running());
  EXPECT_EQ(pg.port(), port);
  EXPECT_NE(pg.postmaster_pid(), first_pid);
  EXPECT_TRUE(WaitForProcessExit(first_pid, std::chrono::seconds(1)));

  Conn conn = Connect(pg.tcp_conninfo() + " password=" + pg.password());
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_EQ(Query(conn.get(), "SELECT x FROM t"), "42");
}

TEST(PostgresServerTest, KillIsACrashThatKeepsCommittedRows) {
  PostgresServer pg;
  const pid_t first_pid = pg.postmaster_pid();
  Conn conn = Connect(pg.tcp_conninfo() + " password=" + pg.password());
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  ASSERT_EQ(Query(conn.get(), "CREATE TABLE t (x int)"), "");
  ASSERT_EQ(Query(conn.get(), "INSERT INTO t VALUES (7)"), "");
  pg.Kill();
  EXPECT_FALSE(pg.running());
  EXPECT_TRUE(WaitForProcessExit(first_pid, std::chrono::seconds(1)));
  // The open connection's backend was killed with it.
  EXPECT_NE(Query(conn.get(), "SELECT 1"), "1");
  conn.reset();

  pg.Start();
  conn = Connect(pg.tcp_conninfo() + " password=" + pg.password());
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_EQ(Query(conn.get(), "SELECT x FROM t"), "7");
  EXPECT_NE(pg.Log().find("database system was interrupted"), std::string::npos) << pg.Log();
}

TEST(PostgresServerTest, AfterStopNothingConnects) {
  PostgresServer pg;
  const pid_t pid = pg.postmaster_pid();
  pg.Stop();
  EXPECT_FALSE(pg.running());
  EXPECT_TRUE(WaitForProcessExit(pid, std::chrono::seconds(1)));
  Conn tcp = Connect(pg.tcp_conninfo() + " password=" + pg.password());
  EXPECT_EQ(PQstatus(tcp.get()), CONNECTION_BAD);
  Conn socket = Connect(pg.socket_conninfo());
  EXPECT_EQ(PQstatus(socket.get()), CONNECTION_BAD);
  pg.Stop();  // a second Stop does nothing
}

TEST(PostgresServerTest, TheDestructorStopsTheServerAndRemovesItsDirectories) {
  pid_t pid = -1;
  std::string data_dir, socket_dir;
  Conn conn;  // left open past the destructor: the stop must not wait for it
  {
    PostgresServer pg;
    pid = pg.postmaster_pid();
    data_dir = pg.data_dir();
    socket_dir = pg.socket_dir();
    conn = Connect(pg.socket_conninfo());
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  }
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WaitForProcessExit(pid, std::chrono::seconds(1)));
  EXPECT_FALSE(std::filesystem::exists(data_dir));
  EXPECT_FALSE(std::filesystem::exists(socket_dir));
}

TEST(PostgresServerTest, MissingBinariesFailWithAClearMessage) {
  try {
    PostgresServer pg("/nonexistent/postgresql/bin");
    FAIL() << "started without binaries";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/postgresql/bin/initdb is missing"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace hollerith::testing
