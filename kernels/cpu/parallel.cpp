#include "kernels/cpu/parallel.h"

#include <cblas.h>
#include <omp.h>

namespace facet::cpu {

int pool_threads() { return omp_get_max_threads(); }

const char* blas_thread_pool() {
  switch (openblas_get_parallel()) {
    case 0: return "sequential";
    case 1: return "pthreads";
    case 2: return "openmp";
  }
  return "unknown";
}

}  // namespace facet::cpu
