// CUDA twins of kernels/cpu/layout.h: pixel shuffle (DCR) and its inverse, pixel_norm, and the
// rank-generic pad / slice / concat / split / permute copies. The pure copies move bytes, so they
// accept every dtype; pixel_norm computes in f32 and takes F32 or BF16. All are deterministic
// (pixel_norm reduces one sample per block in a fixed tree order). `stream` is a cudaStream_t.
#pragma once
#include <cstdint>

#include "kernels/common/dtype.h"

namespace facet::cuda {

// Highest rank pad/slice/permute take after merging axes that are copied whole.
constexpr int kLayoutMaxRank = 8;

// Same arguments and index map as cpu::pixel_shuffle / cpu::space_to_depth (C = the channel
// count of the high-resolution side, H/W = the low-resolution sizes).
void pixel_shuffle(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r,
                   void* stream);
void space_to_depth(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r,
                    void* stream);

void pixel_norm(DType dt, const void* x, void* y, int64_t N, int64_t D, double eps, void* stream);
void pixel_norm_backward(DType dt, const void* x, const void* dy, void* dx, int64_t N, int64_t D, double eps,
                         void* stream);

// Shapes/pads are host arrays of `rank` entries (read before the call returns).
void pad(DType dt, const void* x, void* y, int rank, const int64_t* shape, const int64_t* before,
         const int64_t* after, double value, void* stream);
void slice(DType dt, const void* x, void* y, int rank, const int64_t* shape, const int64_t* begin,
           const int64_t* out_shape, void* stream);
// xs: host array of n device pointers. One strided copy per input; split skips null entries.
void concat(DType dt, const void* const* xs, const int64_t* sizes, int n, void* y, int64_t outer, int64_t inner,
            void* stream);
void split(DType dt, const void* y, void* const* xs, const int64_t* sizes, int n, int64_t outer, int64_t inner,
           void* stream);
void permute(DType dt, const void* x, void* y, int rank, const int64_t* shape, const int* perm, void* stream);

}  // namespace facet::cuda
