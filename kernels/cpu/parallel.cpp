#include "kernels/cpu/parallel.h"

#include <cblas.h>
#include <omp.h>

namespace facet::cpu {

int pool_threads() { return omp_get_max_threads(); }

void set_pool_threads_for_caller(int threads) { omp_set_num_threads(threads < 1 ? 1 : threads); }

const char* blas_thread_pool() {
  switch (openblas_get_parallel()) {
    case 0: return "sequential";
    case 1: return "pthreads";
    case 2: return "openmp";
  }
  return "unknown";
}

}  // namespace facet::cpu
