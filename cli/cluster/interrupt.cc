#include "cli/cluster/interrupt.h"

#include <signal.h>

#include <atomic>

namespace hollerith::cli {
namespace {

std::atomic<int> g_signal{0};

void OnSignal(int sig) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
}

}  // namespace

void InstallInterruptHandler() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

int InterruptSignal() { return g_signal.load(); }

}  // namespace hollerith::cli
