// `hollerith-worker`: the node daemon. Thin: flags in options.cc, everything else in worker.cc.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>

#include "common/base/asio_timers.h"
#include "worker/options.h"
#include "worker/worker.h"

int main(int argc, char** argv) {
  using namespace hollerith::worker;
  ParsedOptions parsed = ParseWorkerOptions(argc, argv);
  if (!parsed.options) return parsed.exit_code;
  WorkerOptions& options = *parsed.options;

  auto logger = spdlog::stderr_color_mt("worker");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.log_level));

  asio::io_context io;
  hollerith::AsioTimerFactory time(io);
  int exit_code = kExitOk;
  {
    Worker worker(io, time, std::move(options));
    worker.Start([&](int code) {
      exit_code = code;
      io.stop();
    });
    io.run();
  }
  return exit_code;
}
