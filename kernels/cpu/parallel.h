// The CPU backend's one thread pool: OpenMP's. OpenBLAS (its OpenMP build, see the top-level
// CMakeLists) and oneDNN run on the same libgomp pool, so a step never has two pools of spinning
// threads fighting over the cores. Work is cut into chunks of a FIXED size (never "one chunk per
// thread"), so that anything a chunk computes -- including partial sums combined afterwards in
// chunk order -- is the same whatever the number of threads.
#pragma once
#include <algorithm>
#include <cstdint>

namespace facet::cpu {

// Threads in the pool (OMP_NUM_THREADS, else one per core).
int pool_threads();

// Threads for parallel work started from the calling thread from now on (OpenMP's per-thread
// setting; other threads keep theirs). A stage running one engine context per worker thread, with
// as many workers as cores, sets 1 in each worker so that workers x pool threads never exceed the cores.
void set_pool_threads_for_caller(int threads);

// Which thread pool the BLAS this library calls runs on, as the loader bound it: "openmp" (this
// pool), "pthreads" (OpenBLAS's own threads, e.g. when a library loaded earlier, such as OpenCV,
// brought Debian's default libblas.so.3 first), "sequential".
const char* blas_thread_pool();

// Elements per chunk for streaming loops: large enough that a chunk outweighs the cost of
// handing it to a thread (a few microseconds), small enough to spread a 1 MiB tensor over 8 cores.
constexpr int64_t kParallelGrain = 32 * 1024;

// Calls fn(begin, end) for consecutive chunks [c*grain, min(n, (c+1)*grain)) covering [0, n),
// in parallel when there is more than one chunk. fn must only write what its chunk owns.
template <typename Fn>
void parallel_chunks(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t chunks = (n + grain - 1) / grain;
  if (chunks == 1) {
    fn(int64_t(0), n);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) fn(c * grain, std::min(n, (c + 1) * grain));
}

// Calls fn(i) for i in [0, n), items spread over the threads (each item a sizeable piece of work:
// an image, a sample, an output row block).
template <typename Fn>
void parallel_items(int64_t n, Fn&& fn) {
  if (n <= 0) return;
  if (n == 1) {
    fn(int64_t(0));
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace facet::cpu
