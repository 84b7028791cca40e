// Kernel launches made through FACET_LAUNCH (and library calls our wrappers count as one each),
// since the process started: `facet bench train` reports launches per training step.
#pragma once
#include <cstdint>

namespace facet::cuda {
void count_launch();
uint64_t launch_count();
}  // namespace facet::cuda
