#include "kernels/cuda/launch_count.h"

#include <atomic>

namespace facet::cuda {
namespace {
std::atomic<uint64_t> g_launches{0}, g_copies{0};
}
void count_launch() { g_launches.fetch_add(1, std::memory_order_relaxed); }
uint64_t launch_count() { return g_launches.load(std::memory_order_relaxed); }
void count_copy() { g_copies.fetch_add(1, std::memory_order_relaxed); }
uint64_t copy_count() { return g_copies.load(std::memory_order_relaxed); }
}  // namespace facet::cuda
