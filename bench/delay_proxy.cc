// hollerith-delay-proxy: a TCP link with a fixed latency, for benchmarks on a kernel without netem
// (issue 30: chain_hop across a link with 0.5 ms RTT). Three modes in one small binary:
//
//   hollerith-delay-proxy --listen HOST:PORT --to HOST:PORT --delay-us N
//       proxy: every chunk read on either side is written to the other side N µs after it was read
//       (so a round trip through it grows by 2N); order kept, TCP_NODELAY on both sides
//   hollerith-delay-proxy echo --listen HOST:PORT
//       a TCP echo server (the far end of `rtt`)
//   hollerith-delay-proxy rtt --to HOST:PORT [--samples N] [--size B]
//       ping-pong of B-byte messages; prints {"p50_us": .., "p99_us": .., ...} on stdout
//
// Listening modes take port 0 and print `listening on HOST:PORT` (flushed) once bound.
// One thread: each chunk carries a steady-clock deadline and one steady_timer per direction wakes
// for the oldest. Timer wake-ups on a VM land ~35 µs late (p50) even with no timer slack, so the
// timer is set --spin-us early and the rest is a busy wait (which holds the other direction up for
// at most that long). --stats prints at exit how late chunks were written: the proxy's own
// precision, apart from the kernel's wake-ups around it.
#include <algorithm>
#include <array>
#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/prctl.h>

#include <CLI/CLI.hpp>

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// "HOST:PORT" with a numeric host ("[v6]:PORT" too): no resolver, no DNS.
std::optional<tcp::endpoint> ParseEndpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  asio::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  try {
    const int port = std::stoi(text.substr(colon + 1));
    if (port < 0 || port > 65535) return std::nullopt;
    return tcp::endpoint(address, static_cast<unsigned short>(port));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string Format(const tcp::endpoint& e) {
  const auto host = e.address().to_string();
  return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
}

// Binds, listens and prints the bound address; nullopt (after a message) if it cannot.
std::optional<tcp::acceptor> Listen(asio::io_context& io, const tcp::endpoint& at) {
  tcp::acceptor acceptor(io);
  asio::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", Format(at).c_str(), ec.message().c_str());
    return std::nullopt;
  }
  std::printf("listening on %s\n", Format(acceptor.local_endpoint()).c_str());
  std::fflush(stdout);
  return acceptor;
}

void NoDelay(tcp::socket& s) {
  asio::error_code ignored;
  s.set_option(tcp::no_delay(true), ignored);
}

// Bytes one direction may hold in flight before it stops reading (the sender then sees TCP
// back-pressure, as on a real link whose bandwidth-delay product is full).
constexpr std::size_t kMaxQueuedBytes = 8u << 20;
constexpr std::size_t kReadSize = 64u << 10;

double Percentile(const std::vector<double>& sorted, double p) {
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(rank);
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

// How late the proxy wrote each chunk (write start - deadline): its own precision, apart from the
// kernel's wake-up of the proxy on a read and of the peer on a write.
class Lateness {
 public:
  void Record(Clock::duration late) {
    if (us_.size() < kMaxSamples) {
      us_.push_back(std::chrono::duration<double, std::micro>(late).count());
    }
  }
  void Print() {
    if (us_.empty()) {
      std::fprintf(stderr, "{\"chunks\": 0}\n");
      return;
    }
    std::sort(us_.begin(), us_.end());
    std::fprintf(stderr,
                 "{\"chunks\": %zu, \"late_p50_us\": %.1f, \"late_p99_us\": %.1f, "
                 "\"late_max_us\": %.1f}\n",
                 us_.size(), Percentile(us_, 50), Percentile(us_, 99), us_.back());
  }

 private:
  static constexpr std::size_t kMaxSamples = 10'000'000;
  std::vector<double> us_;
};

// One proxied connection: two directions, each a FIFO of (deadline, bytes) between a read from
// one socket and a write to the other. An empty chunk is the sender's EOF, passed on as a
// shutdown(send) when due. An error on either side closes both.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket client, asio::io_context& io, Clock::duration delay, Clock::duration spin,
          Lateness* lateness)
      : lateness_(lateness),
        client_(std::move(client)),
        server_(io),
        delay_(delay),
        spin_(spin),
        up_(client_, server_, io),
        down_(server_, client_, io) {}

  void Start(const tcp::endpoint& to) {
    NoDelay(client_);
    server_.async_connect(to, [self = shared_from_this()](const asio::error_code& ec) {
      if (ec) {
        std::fprintf(stderr, "connect to upstream failed: %s\n", ec.message().c_str());
        self->Close();
        return;
      }
      NoDelay(self->server_);
      self->Read(self->up_);
      self->Read(self->down_);
    });
  }

 private:
  struct Chunk {
    Clock::time_point due;
    std::vector<char> bytes;  // empty: end of stream
  };
  struct Direction {
    Direction(tcp::socket& f, tcp::socket& t, asio::io_context& io) : from(f), to(t), timer(io) {}
    tcp::socket& from;
    tcp::socket& to;
    asio::steady_timer timer;
    std::array<char, kReadSize> buffer;
    std::deque<Chunk> queue;
    std::size_t queued_bytes = 0;
    bool timer_armed = false;
    bool writing = false;
    bool read_paused = false;
    bool finished = false;  // EOF passed on
  };

  void Read(Direction& d) {
    d.from.async_read_some(asio::buffer(d.buffer), [self = shared_from_this(), &d](
                                                       const asio::error_code& ec, std::size_t n) {
      const auto due = Clock::now() + self->delay_;
      if (self->closed_) return;
      if (ec == asio::error::eof) {
        d.queue.push_back({due, {}});
      } else if (ec) {
        self->Close();
        return;
      } else {
        d.queue.push_back({due, std::vector<char>(d.buffer.data(), d.buffer.data() + n)});
        d.queued_bytes += n;
      }
      self->Pump(d);
      if (ec) return;  // EOF: nothing more to read
      if (d.queued_bytes < kMaxQueuedBytes) {
        self->Read(d);
      } else {
        d.read_paused = true;
      }
    });
  }

  // Writes every chunk that is due (one gather write), or arms the timer for the oldest.
  void Pump(Direction& d) {
    if (closed_ || d.writing || d.queue.empty()) return;
    auto now = Clock::now();
    const auto due = d.queue.front().due;
    if (due > now && due - now <= spin_) {
      // Timer wake-ups on a VM land tens of µs late: the last stretch is a busy wait.
      while ((now = Clock::now()) < due) {
      }
    }
    if (due > now) {
      if (!d.timer_armed) {
        d.timer_armed = true;
        d.timer.expires_at(due - spin_);
        d.timer.async_wait([self = shared_from_this(), &d](const asio::error_code& ec) {
          d.timer_armed = false;
          if (!ec) self->Pump(d);
        });
      }
      return;
    }
    if (d.queue.front().bytes.empty()) {  // EOF is due: pass it on
      asio::error_code ignored;
      d.to.shutdown(tcp::socket::shutdown_send, ignored);
      d.queue.clear();
      d.finished = true;
      if (up_.finished && down_.finished) Close();
      return;
    }
    std::vector<asio::const_buffer> buffers;
    for (const auto& c : d.queue) {
      if (c.due > now || c.bytes.empty() || buffers.size() == 64) break;
      buffers.push_back(asio::buffer(c.bytes));
    }
    if (lateness_) lateness_->Record(now - due);
    d.writing = true;
    const std::size_t count = buffers.size();
    asio::async_write(
        d.to, buffers,
        [self = shared_from_this(), &d, count](const asio::error_code& ec, std::size_t n) {
          d.writing = false;
          if (ec || self->closed_) {
            self->Close();
            return;
          }
          d.queue.erase(d.queue.begin(), d.queue.begin() + count);
          d.queued_bytes -= n;
          self->Pump(d);
          if (d.read_paused && d.queued_bytes < kMaxQueuedBytes) {
            d.read_paused = false;
            self->Read(d);
          }
        });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ignored;
    up_.timer.cancel();
    down_.timer.cancel();
    client_.close(ignored);
    server_.close(ignored);
  }

  Lateness* lateness_;  // null: not measured
  tcp::socket client_;
  tcp::socket server_;
  Clock::duration delay_;
  Clock::duration spin_;  // wake this much early and busy-wait to the deadline
  Direction up_;          // client -> server
  Direction down_;        // server -> client
  bool closed_ = false;
};

void AcceptProxied(tcp::acceptor& acceptor, asio::io_context& io, const tcp::endpoint& to,
                   Clock::duration delay, Clock::duration spin, Lateness* lateness) {
  acceptor.async_accept(
      [&acceptor, &io, to, delay, spin, lateness](const asio::error_code& ec, tcp::socket s) {
        if (!ec) std::make_shared<Session>(std::move(s), io, delay, spin, lateness)->Start(to);
        if (ec != asio::error::operation_aborted) {
          AcceptProxied(acceptor, io, to, delay, spin, lateness);
        }
      });
}

class Echo : public std::enable_shared_from_this<Echo> {
 public:
  explicit Echo(tcp::socket s) : socket_(std::move(s)) { NoDelay(socket_); }
  void Read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                              if (ec) return;
                              asio::async_write(self->socket_, asio::buffer(self->buffer_, n),
                                                [self](const asio::error_code& ec2, std::size_t) {
                                                  if (!ec2) self->Read();
                                                });
                            });
  }

 private:
  tcp::socket socket_;
  std::array<char, kReadSize> buffer_;
};

void AcceptEcho(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](const asio::error_code& ec, tcp::socket s) {
    if (!ec) std::make_shared<Echo>(std::move(s))->Read();
    if (ec != asio::error::operation_aborted) AcceptEcho(acceptor);
  });
}

// Runs `io` until SIGINT or SIGTERM.
int RunUntilSignalled(asio::io_context& io) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const asio::error_code&, int) { io.stop(); });
  io.run();
  return 0;
}

int Rtt(const tcp::endpoint& to, int samples, int warmup, std::size_t size) {
  asio::io_context io;
  tcp::socket s(io);
  asio::error_code ec;
  s.connect(to, ec);
  if (ec) {
    std::fprintf(stderr, "cannot connect to %s: %s\n", Format(to).c_str(), ec.message().c_str());
    return 1;
  }
  NoDelay(s);
  std::vector<char> out(size, 'p');
  std::vector<char> in(size);
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(samples));
  for (int i = 0; i < warmup + samples; ++i) {
    const auto t0 = Clock::now();
    asio::write(s, asio::buffer(out), ec);
    if (!ec) asio::read(s, asio::buffer(in), ec);
    const auto t1 = Clock::now();
    if (ec) {
      std::fprintf(stderr, "ping %d failed: %s\n", i, ec.message().c_str());
      return 1;
    }
    if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  std::printf(
      "{\"samples\": %d, \"size\": %zu, \"p50_us\": %.1f, \"p99_us\": %.1f, \"min_us\": %.1f, "
      "\"max_us\": %.1f, \"mean_us\": %.1f}\n",
      samples, size, Percentile(us, 50), Percentile(us, 99), us.front(), us.back(),
      sum / static_cast<double>(us.size()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "A TCP proxy that delays every byte by a fixed time in each direction (a link with RTT + "
      "2 x delay, where the kernel has no netem), plus an echo server and a round-trip meter");
  std::string listen, to;
  long delay_us = 0;
  app.add_option("--listen", listen, "Proxy: HOST:PORT to accept on (port 0: any free port)");
  app.add_option("--to", to, "Proxy: HOST:PORT to forward each connection to");
  app.add_option("--delay-us", delay_us, "Proxy: one-way delay added in each direction, µs")
      ->check(CLI::Range(0L, 10'000'000L))
      ->capture_default_str();
  bool stats = false;
  app.add_flag("--stats", stats,
               "Proxy: at exit (SIGINT/SIGTERM), print to stderr as JSON how late chunks were "
               "written after their deadline (p50/p99/max µs)");
  long spin_us = 60;
  app.add_option("--spin-us", spin_us,
                 "Proxy: wake this long before each deadline and busy-wait the rest (timer "
                 "wake-ups are late by tens of µs on a VM; 0: timers only)")
      ->check(CLI::Range(0L, 10'000L))
      ->capture_default_str();

  auto* echo = app.add_subcommand("echo", "Serve a TCP echo (the far end of `rtt`)");
  std::string echo_listen;
  echo->add_option("--listen", echo_listen, "HOST:PORT to accept on (port 0: any free port)")
      ->required();

  auto* rtt = app.add_subcommand(
      "rtt", "Measure round trips of small messages to an echo; prints p50/p99 µs as JSON");
  std::string rtt_to;
  int samples = 1000, warmup = 100;
  std::size_t size = 64;
  rtt->add_option("--to", rtt_to, "HOST:PORT of an echo (directly or through a proxy)")->required();
  rtt->add_option("--samples", samples, "Round trips measured")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  rtt->add_option("--warmup", warmup, "Round trips before measuring")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
  rtt->add_option("--size", size, "Bytes per message")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.require_subcommand(0, 1);
  CLI11_PARSE(app, argc, argv);

  // Timers of this thread fire when asked, not up to 50 µs later (the default slack).
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

  if (*rtt) {
    const auto endpoint = ParseEndpoint(rtt_to);
    if (!endpoint) {
      std::fprintf(stderr, "--to %s: expected NUMERIC_HOST:PORT\n", rtt_to.c_str());
      return 2;
    }
    return Rtt(*endpoint, samples, warmup, size);
  }
  asio::io_context io(1);
  if (*echo) {
    const auto at = ParseEndpoint(echo_listen);
    if (!at) {
      std::fprintf(stderr, "--listen %s: expected NUMERIC_HOST:PORT\n", echo_listen.c_str());
      return 2;
    }
    auto acceptor = Listen(io, *at);
    if (!acceptor) return 1;
    AcceptEcho(*acceptor);
    return RunUntilSignalled(io);
  }
  if (listen.empty() || to.empty()) {
    std::fprintf(stderr, "the proxy needs --listen and --to (or a subcommand; see --help)\n");
    return 2;
  }
  const auto at = ParseEndpoint(listen);
  const auto upstream = ParseEndpoint(to);
  if (!at || !upstream) {
    std::fprintf(stderr, "--listen and --to take NUMERIC_HOST:PORT\n");
    return 2;
  }
  auto acceptor = Listen(io, *at);
  if (!acceptor) return 1;
  Lateness lateness;
  AcceptProxied(*acceptor, io, *upstream, std::chrono::microseconds(delay_us),
                std::chrono::microseconds(std::min(spin_us, delay_us)),
                stats ? &lateness : nullptr);
  const int rc = RunUntilSignalled(io);
  if (stats) lateness.Print();
  return rc;
}
