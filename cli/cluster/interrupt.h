// Ctrl-C and SIGTERM as a flag: commands that own child processes poll it and shut down in order
// instead of dying with their children still running.
#pragma once

namespace hollerith::cli {

// Installs handlers for SIGINT, SIGTERM and SIGHUP that record the signal (idempotent).
void InstallInterruptHandler();
// The first signal received since InstallInterruptHandler, or 0.
int InterruptSignal();

}  // namespace hollerith::cli
