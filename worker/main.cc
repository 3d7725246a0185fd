// `hollerith-worker`: the node daemon. Thin: flags in options.cc, everything else in worker.cc.
#include <asio/io_context.hpp>

#include "common/base/asio_timers.h"
#include "common/log/log.h"
#include "proto/rpc_runtime.h"
#include "worker/options.h"
#include "worker/worker.h"

int main(int argc, char** argv) {
  using namespace hollerith::worker;
  hollerith::rpc::SkipMutexCycleChecks();
  ParsedOptions parsed = ParseWorkerOptions(argc, argv);
  if (!parsed.options) return parsed.exit_code;
  WorkerOptions& options = *parsed.options;

  hollerith::log::Setup("worker", options.log_level,
                        *hollerith::log::ParseFormat(options.log_format));

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
