// The emulated device's cuBLAS: host implementations of the cuBLAS and cuBLASLt calls facet makes
// (handle lifetime, stream, workspace, math mode, status strings, cublasGemmEx), written from
// NVIDIA's cuBLAS documentation and compiled against the real cublas_api.h / cublasLt.h.
//
// The emulator is a test backend, so it is strict where cuBLAS is strict or where the behaviour
// is undefined (unknown or destroyed handles, dead streams, host pointers passed as device data,
// leading dimensions or extents the documentation rejects, type combinations outside the
// documented table), and exact in arithmetic: every product is accumulated in the compute type
// (float for the 32F compute types, double for 64F) in index order k = 0..K-1, then scaled,
// blended with beta * C (C is not read when beta == 0) and rounded once to the output type
// (round to nearest even). Where the documentation allows cuBLAS to lower the precision of the
// inputs (the _FAST_ compute types, the TF32 math mode) the emulator does lower it, so a caller
// that relies on full fp32 products while asking for a fast mode finds out on the CPU.
// Build with -ffp-contract=off so that no multiply-add is fused and the results are the same on
// every x86-64 CPU. Every refusal is reported through report_misuse before its status returns.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "kernels/cuda_emu/emu_numeric.h"
#include "kernels/cuda_emu/emu_state.h"

// The opaque handle types cublas_api.h and cublasLt.h declare. Handles are never freed: a
// destroyed one stays allocated, marked dead, so a later call with it is recognised and refused
// (a freed address could otherwise be handed out again and look alive).
struct cublasContext {
  bool alive = true;
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;  // user workspace (cublasSetWorkspace); the emulated GEMM needs none
  size_t workspace_bytes = 0;
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;
};

struct cublasLtContext {
  bool alive = true;
};

namespace facet::emu {
namespace {

using Lock = std::lock_guard<std::recursive_mutex>;

// Every handle of one kind ever created (live or destroyed); guarded by device_lock().
template <typename Context>
std::unordered_set<const Context*>& handle_registry() {
  static auto* r = new std::unordered_set<const Context*>();  // never destroyed (see emu_state.cpp)
  return *r;
}

cublasStatus_t refuse(cublasStatus_t status, const std::string& call, const std::string& problem) {
  report_misuse(call + ": " + problem + " (" + cublasGetStatusString(status) + ")");
  return status;
}

template <typename Context>
bool handle_alive(const Context* h) {
  return h != nullptr && handle_registry<Context>().count(h) == 1 && h->alive;
}

// NOT_INITIALIZED is cuBLAS's answer to a handle that was never created or has been destroyed.
cublasStatus_t check_handle(const cublasContext* h, const char* call) {
  if (!handle_alive(h))
    return refuse(CUBLAS_STATUS_NOT_INITIALIZED, call,
                  h ? "the handle was destroyed or never created by cublasCreate" : "the handle is NULL");
  return CUBLAS_STATUS_SUCCESS;
}

// ---- GEMM ----------------------------------------------------------------------------------

// How the operands' values are read: at full precision, or lowered first as a fast mode allows.
enum class InputRounding { None, TF32, BF16, F16 };

float lower(float v, InputRounding r) {
  switch (r) {
    case InputRounding::TF32: return round_to_tf32(v);
    case InputRounding::BF16: return __bfloat162float(__float2bfloat16(v));
    case InputRounding::F16: return __half2float(__float2half(v));
    case InputRounding::None: break;
  }
  return v;
}

struct GemmShape {
  bool trans_a, trans_b;
  int m, n, k, lda, ldb, ldc;
};

// Element (i, l) of op(A), i < m, l < k, in column-major storage with leading dimension lda.
inline size_t a_index(const GemmShape& s, int i, int l) {
  return s.trans_a ? static_cast<size_t>(i) * s.lda + l : static_cast<size_t>(l) * s.lda + i;
}
// Element (l, j) of op(B), l < k, j < n.
inline size_t b_index(const GemmShape& s, int l, int j) {
  return s.trans_b ? static_cast<size_t>(l) * s.ldb + j : static_cast<size_t>(j) * s.ldb + l;
}

// C = alpha * op(A) op(B) + beta * C, products summed in k order in the accumulator type A.
template <typename TA, typename TC, typename Acc>
void gemm(const GemmShape& s, Acc alpha, const TA* a, const TA* b, Acc beta, TC* c, InputRounding rounding) {
  for (int j = 0; j < s.n; ++j) {
    for (int i = 0; i < s.m; ++i) {
      Acc sum = 0;
      for (int l = 0; l < s.k; ++l) {
        Acc x = to_acc(a[a_index(s, i, l)]), y = to_acc(b[b_index(s, l, j)]);
        if constexpr (sizeof(Acc) == sizeof(float)) {
          x = lower(x, rounding);
          y = lower(y, rounding);
        }
        sum += x * y;
      }
      TC& out = c[static_cast<size_t>(j) * s.ldc + i];
      Acc v = alpha * sum;
      if (beta != Acc(0)) v += beta * to_acc(out);  // beta == 0: C is not read (it may hold NaN)
      out = from_acc<TC, Acc>(v);
    }
  }
}

// The (Atype/Btype, Ctype, computeType) combinations of the real-valued rows of cublasGemmEx's
// table of supported types that the emulator models. The scale type (alpha, beta) is float for
// the 32F compute types and double for 64F.
enum class GemmKind { None, F32, BF16_BF16, BF16_F32, F16_F16, F16_F32, F64 };

GemmKind gemm_kind(cudaDataType ab, cudaDataType c, cublasComputeType_t compute) {
  switch (compute) {
    case CUBLAS_COMPUTE_32F:
    case CUBLAS_COMPUTE_32F_PEDANTIC:
      if (ab == CUDA_R_32F && c == CUDA_R_32F) return GemmKind::F32;
      if (ab == CUDA_R_16BF && c == CUDA_R_16BF) return GemmKind::BF16_BF16;
      if (ab == CUDA_R_16BF && c == CUDA_R_32F) return GemmKind::BF16_F32;
      if (ab == CUDA_R_16F && c == CUDA_R_16F) return GemmKind::F16_F16;
      if (ab == CUDA_R_16F && c == CUDA_R_32F) return GemmKind::F16_F32;
      return GemmKind::None;
    case CUBLAS_COMPUTE_32F_FAST_16F:
    case CUBLAS_COMPUTE_32F_FAST_16BF:
    case CUBLAS_COMPUTE_32F_FAST_TF32:
      return ab == CUDA_R_32F && c == CUDA_R_32F ? GemmKind::F32 : GemmKind::None;
    case CUBLAS_COMPUTE_64F:
    case CUBLAS_COMPUTE_64F_PEDANTIC:
      return ab == CUDA_R_64F && c == CUDA_R_64F ? GemmKind::F64 : GemmKind::None;
    default:
      return GemmKind::None;
  }
}

bool known_compute_type(cublasComputeType_t t) {
  switch (t) {
    case CUBLAS_COMPUTE_16F: case CUBLAS_COMPUTE_16F_PEDANTIC: case CUBLAS_COMPUTE_32F:
    case CUBLAS_COMPUTE_32F_PEDANTIC: case CUBLAS_COMPUTE_32F_FAST_16F: case CUBLAS_COMPUTE_32F_FAST_16BF:
    case CUBLAS_COMPUTE_32F_FAST_TF32: case CUBLAS_COMPUTE_32F_EMULATED_16BFX9: case CUBLAS_COMPUTE_64F:
    case CUBLAS_COMPUTE_64F_PEDANTIC: case CUBLAS_COMPUTE_64F_EMULATED_FIXEDPOINT: case CUBLAS_COMPUTE_32I:
    case CUBLAS_COMPUTE_32I_PEDANTIC:
      return true;
  }
  return false;
}

bool known_algo(cublasGemmAlgo_t a) {
  return a == CUBLAS_GEMM_DEFAULT || (a >= CUBLAS_GEMM_ALGO0 && a <= CUBLAS_GEMM_ALGO23) ||
         (a >= CUBLAS_GEMM_DEFAULT_TENSOR_OP && a <= CUBLAS_GEMM_ALGO15_TENSOR_OP);
}

size_t element_bytes(cudaDataType t) {
  switch (t) {
    case CUDA_R_16F: case CUDA_R_16BF: return 2;
    case CUDA_R_32F: return 4;
    case CUDA_R_64F: return 8;
    default: return 0;
  }
}

// Bytes from the first to one past the last element a column-major rows x cols matrix with
// leading dimension ld touches (0 for an empty one).
size_t matrix_span(int rows, int cols, int ld, size_t elem) {
  if (rows == 0 || cols == 0) return 0;
  return (static_cast<size_t>(cols - 1) * ld + rows) * elem;
}

InputRounding gemm_rounding(cublasComputeType_t compute, cublasMath_t math_mode, GemmKind kind) {
  if (kind != GemmKind::F32) return InputRounding::None;
  switch (compute) {
    case CUBLAS_COMPUTE_32F_FAST_TF32: return InputRounding::TF32;
    case CUBLAS_COMPUTE_32F_FAST_16BF: return InputRounding::BF16;
    case CUBLAS_COMPUTE_32F_FAST_16F: return InputRounding::F16;
    case CUBLAS_COMPUTE_32F:  // the TF32 math mode lets cuBLAS use TF32 tensor cores for fp32 GEMMs
      return (math_mode & 0xf) == CUBLAS_TF32_TENSOR_OP_MATH ? InputRounding::TF32 : InputRounding::None;
    default: return InputRounding::None;
  }
}

// The argument checks of cublasGemmEx's documentation, in its order.
cublasStatus_t check_gemm_arguments(cublasOperation_t transa, cublasOperation_t transb, const GemmShape& s,
                                    const void* alpha, const void* beta) {
  const char* call = "cublasGemmEx";
  auto valid_op = [](cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; };
  if (!valid_op(transa) || !valid_op(transb))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call, "transa/transb must be CUBLAS_OP_N, CUBLAS_OP_T or CUBLAS_OP_C");
  if (s.m < 0 || s.n < 0 || s.k < 0)
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                  "m, n, k must be >= 0 (got " + std::to_string(s.m) + ", " + std::to_string(s.n) + ", " +
                      std::to_string(s.k) + ")");
  auto at_least = [](int v) { return v > 1 ? v : 1; };
  const int min_lda = at_least(s.trans_a ? s.k : s.m), min_ldb = at_least(s.trans_b ? s.n : s.k);
  if (s.lda < min_lda)
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                  "lda = " + std::to_string(s.lda) + " is below max(1, " + (s.trans_a ? "k" : "m") + ") = " +
                      std::to_string(min_lda));
  if (s.ldb < min_ldb)
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                  "ldb = " + std::to_string(s.ldb) + " is below max(1, " + (s.trans_b ? "n" : "k") + ") = " +
                      std::to_string(min_ldb));
  if (s.ldc < at_least(s.m))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                  "ldc = " + std::to_string(s.ldc) + " is below max(1, m) = " + std::to_string(at_least(s.m)));
  if (!alpha || !beta) return refuse(CUBLAS_STATUS_INVALID_VALUE, call, "alpha and beta must not be NULL");
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t check_gemm_types(cudaDataType atype, cudaDataType btype, cudaDataType ctype,
                                cublasComputeType_t compute, cublasGemmAlgo_t algo, GemmKind& kind) {
  const char* call = "cublasGemmEx";
  if (!known_compute_type(compute))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                  "computeType " + std::to_string(static_cast<int>(compute)) + " is no cublasComputeType_t");
  if (!known_algo(algo))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                  "algo " + std::to_string(static_cast<int>(algo)) + " is no cublasGemmAlgo_t");
  kind = atype == btype ? gemm_kind(atype, ctype, compute) : GemmKind::None;
  if (kind == GemmKind::None)
    return refuse(CUBLAS_STATUS_NOT_SUPPORTED, call,
                  "Atype " + std::to_string(static_cast<int>(atype)) + ", Btype " +
                      std::to_string(static_cast<int>(btype)) + ", Ctype " + std::to_string(static_cast<int>(ctype)) +
                      " with computeType " + std::to_string(static_cast<int>(compute)) +
                      " is not a supported combination (the emulator models the real-valued 16F/16BF/32F inputs "
                      "with 32F compute and 64F with 64F compute)");
  return CUBLAS_STATUS_SUCCESS;
}

// Device code cannot dereference pageable host memory: each operand must lie in device or
// page-locked memory over every byte the operation touches.
cublasStatus_t check_gemm_memory(const GemmShape& s, const void* a, const void* b, const void* c, size_t ab_elem,
                                 size_t c_elem, bool reads_ab) {
  const char* call = "cublasGemmEx";
  const size_t a_bytes = reads_ab ? matrix_span(s.trans_a ? s.k : s.m, s.trans_a ? s.m : s.k, s.lda, ab_elem) : 0;
  const size_t b_bytes = reads_ab ? matrix_span(s.trans_b ? s.n : s.k, s.trans_b ? s.k : s.n, s.ldb, ab_elem) : 0;
  const size_t c_bytes = matrix_span(s.m, s.n, s.ldc, c_elem);
  struct Operand {
    const char* name;
    const void* p;
    size_t bytes;
  } ops[] = {{"A", a, a_bytes}, {"B", b, b_bytes}, {"C", c, c_bytes}};
  for (const Operand& o : ops)
    if (o.bytes > 0 && !device_accessible(o.p, o.bytes))
      return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                    std::string(o.name) + " (" + std::to_string(o.bytes) +
                        " bytes from the given pointer) is not device-accessible memory: host pointer, freed "
                        "allocation, or a range running past its allocation");
  return CUBLAS_STATUS_SUCCESS;
}

void run_gemm(GemmKind kind, const GemmShape& s, const void* alpha, const void* beta, const void* a, const void* b,
              void* c, InputRounding r) {
  const float fa = kind == GemmKind::F64 ? 0.f : *static_cast<const float*>(alpha);
  const float fb = kind == GemmKind::F64 ? 0.f : *static_cast<const float*>(beta);
  switch (kind) {
    case GemmKind::F32:
      gemm(s, fa, static_cast<const float*>(a), static_cast<const float*>(b), fb, static_cast<float*>(c), r);
      break;
    case GemmKind::BF16_BF16:
      gemm(s, fa, static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(b), fb,
           static_cast<__nv_bfloat16*>(c), r);
      break;
    case GemmKind::BF16_F32:
      gemm(s, fa, static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(b), fb,
           static_cast<float*>(c), r);
      break;
    case GemmKind::F16_F16:
      gemm(s, fa, static_cast<const __half*>(a), static_cast<const __half*>(b), fb, static_cast<__half*>(c), r);
      break;
    case GemmKind::F16_F32:
      gemm(s, fa, static_cast<const __half*>(a), static_cast<const __half*>(b), fb, static_cast<float*>(c), r);
      break;
    case GemmKind::F64:
      gemm(s, *static_cast<const double*>(alpha), static_cast<const double*>(a), static_cast<const double*>(b),
           *static_cast<const double*>(beta), static_cast<double*>(c), r);
      break;
    case GemmKind::None:
      break;
  }
}

}  // namespace
}  // namespace facet::emu

using namespace facet::emu;

extern "C" {

cublasStatus_t CUBLASWINAPI cublasCreate_v2(cublasHandle_t* handle) {
  Lock lock(device_lock());
  if (!handle) return refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate", "handle is NULL");
  auto* h = new cublasContext();
  handle_registry<std::remove_pointer_t<decltype(h)>>().insert(h);
  *handle = h;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasDestroy_v2(cublasHandle_t handle) {
  Lock lock(device_lock());
  if (cublasStatus_t s = check_handle(handle, "cublasDestroy")) return s;
  handle->alive = false;  // kept allocated (see cublasContext)
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId) {
  Lock lock(device_lock());
  if (cublasStatus_t s = check_handle(handle, "cublasSetStream")) return s;
  if (!stream_alive(streamId))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasSetStream", "the stream was destroyed or never created");
  handle->stream = streamId;
  // As documented: setting the stream resets the workspace to cuBLAS's default pool.
  handle->workspace = nullptr;
  handle->workspace_bytes = 0;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasGetStream_v2(cublasHandle_t handle, cudaStream_t* streamId) {
  Lock lock(device_lock());
  if (cublasStatus_t s = check_handle(handle, "cublasGetStream")) return s;
  if (!streamId) return refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasGetStream", "streamId is NULL");
  *streamId = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t workspaceSizeInBytes) {
  Lock lock(device_lock());
  const char* call = "cublasSetWorkspace";
  if (cublasStatus_t s = check_handle(handle, call)) return s;
  if (reinterpret_cast<uintptr_t>(workspace) % 256 != 0)
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call, "the workspace pointer is not aligned to 256 bytes");
  if (workspaceSizeInBytes > 0 && !device_accessible(workspace, workspaceSizeInBytes))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, call,
                  "the workspace (" + std::to_string(workspaceSizeInBytes) + " bytes) is not device memory");
  handle->workspace = workspace;
  handle->workspace_bytes = workspaceSizeInBytes;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  Lock lock(device_lock());
  if (cublasStatus_t s = check_handle(handle, "cublasSetMathMode")) return s;
  const int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  const bool known = base == CUBLAS_DEFAULT_MATH || base == CUBLAS_TENSOR_OP_MATH || base == CUBLAS_PEDANTIC_MATH ||
                     base == CUBLAS_TF32_TENSOR_OP_MATH || base == CUBLAS_FP32_EMULATED_BF16X9_MATH ||
                     base == CUBLAS_FP64_EMULATED_FIXEDPOINT_MATH;
  if (!known)
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasSetMathMode",
                  "mode " + std::to_string(static_cast<int>(mode)) + " is no cublasMath_t");
  handle->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* CUBLASWINAPI cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t CUBLASWINAPI cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                                         int lda, const void* B, cudaDataType Btype, int ldb, const void* beta,
                                         void* C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
                                         cublasGemmAlgo_t algo) {
  Lock lock(device_lock());
  const char* call = "cublasGemmEx";
  if (cublasStatus_t s = check_handle(handle, call)) return s;
  if (!stream_alive(handle->stream))
    return refuse(CUBLAS_STATUS_EXECUTION_FAILED, call, "the handle's stream has been destroyed");
  const GemmShape shape{transa != CUBLAS_OP_N, transb != CUBLAS_OP_N, m, n, k, lda, ldb, ldc};
  if (cublasStatus_t s = check_gemm_arguments(transa, transb, shape, alpha, beta)) return s;
  GemmKind kind = GemmKind::None;
  if (cublasStatus_t s = check_gemm_types(Atype, Btype, Ctype, computeType, algo, kind)) return s;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;  // nothing to write, nothing read
  if (cublasStatus_t s = check_gemm_memory(shape, A, B, C, element_bytes(Atype), element_bytes(Ctype), k > 0))
    return s;
  run_gemm(kind, shape, alpha, beta, A, B, C, gemm_rounding(computeType, handle->math_mode, kind));
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasLtCreate(cublasLtHandle_t* lightHandle) {
  Lock lock(device_lock());
  if (!lightHandle) return refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasLtCreate", "lightHandle is NULL");
  auto* h = new cublasLtContext();
  handle_registry<std::remove_pointer_t<decltype(h)>>().insert(h);
  *lightHandle = h;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasLtDestroy(cublasLtHandle_t lightHandle) {
  Lock lock(device_lock());
  if (!lightHandle) return refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasLtDestroy", "lightHandle is NULL");
  if (!handle_alive(lightHandle))
    return refuse(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtDestroy",
                  "the handle was destroyed or never created by cublasLtCreate");
  lightHandle->alive = false;
  return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
