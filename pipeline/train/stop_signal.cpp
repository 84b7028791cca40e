// SIGINT / SIGTERM -> an atomic flag the training loop polls (see stop_signal.h).
#include "pipeline/train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace facet::train {

namespace {

std::atomic<int> g_stop_signal{0};  // the signal number, 0 = none (static: a handler can reach nothing else)
static_assert(std::atomic<int>::is_always_lock_free, "the stop flag must be async-signal-safe");

using Handler = void (*)(int);
Handler g_prev_int = SIG_DFL, g_prev_term = SIG_DFL;
std::atomic<int> g_guards{0};

}  // namespace

void stop_signal_handler(int sig) {
  int expected = 0;
  if (!g_stop_signal.compare_exchange_strong(expected, sig)) {
    // Second signal: the user insists. Default action (terminate) right now.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

bool stop_requested() { return g_stop_signal.load() != 0; }
int stop_signal_number() { return g_stop_signal.load(); }
void clear_stop_request() { g_stop_signal.store(0); }

StopSignalGuard::StopSignalGuard() {
  clear_stop_request();
  if (g_guards.fetch_add(1) == 0) {
    g_prev_int = std::signal(SIGINT, stop_signal_handler);
    g_prev_term = std::signal(SIGTERM, stop_signal_handler);
  }
}

StopSignalGuard::~StopSignalGuard() {
  if (g_guards.fetch_sub(1) == 1) {
    std::signal(SIGINT, g_prev_int == SIG_ERR ? SIG_DFL : g_prev_int);
    std::signal(SIGTERM, g_prev_term == SIG_ERR ? SIG_DFL : g_prev_term);
  }
}

}  // namespace facet::train
