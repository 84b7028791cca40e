// Stopping a long training run cleanly from outside: SIGINT (Ctrl-C) and SIGTERM (kill, a job
// scheduler) only set a flag; the trainer polls it at each step boundary, saves a checkpoint and
// returns, so the process exits 0 with nothing half-written. A second signal while the first is
// being handled restores the default action and re-raises it: "press Ctrl-C twice to quit now"
// (safe too, since every checkpoint file is replaced atomically).
//
// This is the one piece of process-wide state in the pipeline, because a signal handler can only
// reach static storage. The flag is a lock-free std::atomic<int>, which is async-signal-safe.
#pragma once

namespace facet::train {

// Installs the handler for SIGINT and SIGTERM (remembering the previous handlers) and clears the
// flag. While a guard is alive, stop_requested() reports signals.
class StopSignalGuard {
 public:
  StopSignalGuard();
  ~StopSignalGuard();  // restores the previous handlers
  StopSignalGuard(const StopSignalGuard&) = delete;
  StopSignalGuard& operator=(const StopSignalGuard&) = delete;
};

// The handler itself (what the kernel calls on SIGINT / SIGTERM). Tests call it directly, or
// std::raise(SIGINT) with a guard installed, to stop a run by the same path a user's Ctrl-C takes.
void stop_signal_handler(int sig);

bool stop_requested();
int stop_signal_number();  // the signal that asked to stop (0 when none)
void clear_stop_request();

}  // namespace facet::train
