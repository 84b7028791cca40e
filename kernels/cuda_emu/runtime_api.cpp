// The CUDA runtime calls facet makes, implemented on the host for the emulated device (the
// declarations are NVIDIA's, from cuda_runtime_api.h). One device; device memory is host memory
// the emulator registers (filled with all-ones bytes, which read back as NaN, since cudaMalloc
// leaves memory undefined); work runs when it is enqueued, which keeps every stream's order.
//
// Strict where CUDA is undefined: a copy whose pointers do not match its cudaMemcpyKind fails, a
// memset of host memory fails, a destroyed stream or event is refused. A device-to-host copy on a
// stream is delivered only when the host synchronises with that stream (stream, event or device
// synchronisation); until then its destination holds all-ones bytes, so a host read that forgot
// the synchronisation sees NaN instead of the right numbers by luck.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "kernels/cuda_emu/emu_memory.h"
#include "kernels/cuda_emu/emu_state.h"
#include "kernels/cuda_emu/scheduler.h"

namespace facet::emu {
namespace {

constexpr unsigned char kPoison = 0xff;
constexpr size_t kAlignment = 256;  // cudaMalloc's guarantee

struct PendingCopy {
  void* dst;
  std::vector<unsigned char> bytes;
};

struct Stream {
  std::vector<PendingCopy> pending;  // device-to-host copies not yet delivered
};

struct Event {
  bool recorded = false;
  cudaStream_t stream = nullptr;
  double ms = 0;
};

Stream& legacy_stream() {
  static Stream* s = new Stream();
  return *s;
}

Stream* stream_of(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return &legacy_stream();
  return reinterpret_cast<Stream*>(s);
}

double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

size_t& device_bytes_in_use() {
  static size_t bytes = 0;
  return bytes;
}

// FACET_EMULATED_MEMORY_MB shrinks the device, so out-of-memory paths can be tested.
size_t device_capacity() {
  static const size_t cap = [] {
    const char* v = std::getenv("FACET_EMULATED_MEMORY_MB");
    const long long mb = v ? std::atoll(v) : 0;
    return mb > 0 ? static_cast<size_t>(mb) << 20 : device_properties().totalGlobalMem;
  }();
  return cap;
}

void deliver(Stream& s) {
  for (PendingCopy& c : s.pending) std::memcpy(c.dst, c.bytes.data(), c.bytes.size());
  s.pending.clear();
}

cudaError_t fail(cudaError_t err, const std::string& why) {
  report_misuse(why);
  return set_last_error(err);
}

bool is_host(MemKind k) { return k != MemKind::Device; }

// Checks dst/src against the direction of the copy, as the CUDA documentation requires
// ("pointers that do not match the direction of the copy result in undefined behavior").
cudaError_t check_copy(const char* call, void* dst, const void* src, size_t count, cudaMemcpyKind& kind) {
  if (count == 0) return cudaSuccess;
  if (!dst || !src) return fail(cudaErrorInvalidValue, std::string(call) + ": null pointer");
  MemRange d, s;
  try {
    d = find_range(dst, count, call);
    s = find_range(src, count, call);
  } catch (const std::exception& e) {
    return fail(cudaErrorInvalidValue, e.what());
  }
  if (kind == cudaMemcpyDefault) {
    kind = is_host(s.kind) ? (is_host(d.kind) ? cudaMemcpyHostToHost : cudaMemcpyHostToDevice)
                           : (is_host(d.kind) ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice);
    return cudaSuccess;
  }
  bool ok = false;
  switch (kind) {
    case cudaMemcpyHostToHost: ok = is_host(s.kind) && is_host(d.kind); break;
    case cudaMemcpyHostToDevice: ok = is_host(s.kind) && d.kind == MemKind::Device; break;
    case cudaMemcpyDeviceToHost: ok = s.kind == MemKind::Device && is_host(d.kind); break;
    case cudaMemcpyDeviceToDevice: ok = s.kind == MemKind::Device && d.kind == MemKind::Device; break;
    default: return fail(cudaErrorInvalidMemcpyDirection, std::string(call) + ": unknown cudaMemcpyKind");
  }
  if (!ok) {
    const char* names[] = {"pageable host", "device", "page-locked host"};
    return fail(cudaErrorInvalidValue, std::string(call) + ": destination is " + names[int(d.kind)] +
                                           " memory and source is " + names[int(s.kind)] +
                                           " memory, which does not match the cudaMemcpyKind " +
                                           std::to_string(int(kind)) + " (use cudaMemcpyDefault for mapped memory)");
  }
  return cudaSuccess;
}

}  // namespace
}  // namespace facet::emu

using namespace facet::emu;

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return set_last_error(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return set_last_error(cudaErrorInvalidValue);
  if (device != 0) return set_last_error(cudaErrorInvalidDevice);
  *prop = device_properties();
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return set_last_error(cudaErrorInvalidValue);
  if (device != 0) return set_last_error(cudaErrorInvalidDevice);
  const cudaDeviceProp& p = device_properties();
  switch (attr) {
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; return cudaSuccess;
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); return cudaSuccess;
    case cudaDevAttrUnifiedAddressing: *value = 1; return cudaSuccess;
    case cudaDevAttrCanMapHostMemory: *value = 1; return cudaSuccess;
    default: return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute " + std::to_string(int(attr)) +
                                                    " is not emulated");
  }
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : set_last_error(cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int* device) {
  if (!device) return set_last_error(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* v) {
  if (!v) return set_last_error(cudaErrorInvalidValue);
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* v) { return cudaDriverGetVersion(v); }

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (!free_bytes || !total) return set_last_error(cudaErrorInvalidValue);
  *total = device_capacity();
  *free_bytes = *total - device_bytes_in_use();
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t size) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (!p) return set_last_error(cudaErrorInvalidValue);
  *p = nullptr;
  if (size == 0) return cudaSuccess;
  const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  if (device_bytes_in_use() + rounded > device_capacity()) return set_last_error(cudaErrorMemoryAllocation);
  void* mem = std::aligned_alloc(kAlignment, rounded);
  if (!mem) return set_last_error(cudaErrorMemoryAllocation);
  std::memset(mem, kPoison, rounded);
  register_allocation(mem, size, MemKind::Device);
  device_bytes_in_use() += rounded;
  *p = mem;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (!p) return cudaSuccess;
  const MemRange r = find_range(p, 0, "cudaFree");
  if (r.kind != MemKind::Device || r.base != p)
    return fail(cudaErrorInvalidValue, "cudaFree: the pointer is not the start of a device allocation");
  device_bytes_in_use() -= (r.bytes + kAlignment - 1) / kAlignment * kAlignment;
  unregister_allocation(p, MemKind::Device);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** p, size_t size, unsigned int flags) {
  if (!p) return set_last_error(cudaErrorInvalidValue);
  *p = nullptr;
  const unsigned known = cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined;
  if (flags & ~known) return fail(cudaErrorInvalidValue, "cudaHostAlloc: unknown flags");
  if (size == 0) return cudaSuccess;
  void* mem = std::aligned_alloc(4096, (size + 4095) / 4096 * 4096);
  if (!mem) return set_last_error(cudaErrorMemoryAllocation);
  register_allocation(mem, size, MemKind::PinnedHost);
  *p = mem;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t size) { return cudaHostAlloc(p, size, cudaHostAllocDefault); }

cudaError_t cudaFreeHost(void* p) {
  if (!p) return cudaSuccess;
  if (!unregister_allocation(p, MemKind::PinnedHost))
    return fail(cudaErrorInvalidValue, "cudaFreeHost: the pointer is not the start of a page-locked allocation");
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaHostGetDevicePointer(void** device, void* host, unsigned int flags) {
  if (!device || flags != 0) return set_last_error(cudaErrorInvalidValue);
  const MemRange r = find_range(host, 0, "cudaHostGetDevicePointer");
  if (r.kind != MemKind::PinnedHost)
    return fail(cudaErrorInvalidValue, "cudaHostGetDevicePointer: the pointer is not page-locked host memory");
  *device = host;  // unified addressing: the device sees page-locked memory at its host address
  return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void* p) {
  if (!a) return set_last_error(cudaErrorInvalidValue);
  std::memset(a, 0, sizeof *a);
  const MemRange r = find_range(p, 0, "cudaPointerGetAttributes");
  a->type = r.kind == MemKind::Device ? cudaMemoryTypeDevice
                                      : (r.kind == MemKind::PinnedHost ? cudaMemoryTypeHost : cudaMemoryTypeUnregistered);
  a->device = 0;
  a->devicePointer = r.kind == MemKind::Pageable ? nullptr : const_cast<void*>(p);
  a->hostPointer = r.kind == MemKind::Device ? nullptr : const_cast<void*>(p);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  if (!s || (flags & ~cudaStreamNonBlocking)) return set_last_error(cudaErrorInvalidValue);
  Stream* st = new Stream();
  *s = reinterpret_cast<cudaStream_t>(st);
  register_stream(*s);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (s == nullptr || !unregister_stream(s))
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: not a live stream");
  Stream* st = stream_of(s);
  deliver(*st);  // work enqueued before the destruction still completes
  delete st;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (!stream_alive(s)) return fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: the stream was destroyed");
  deliver(*stream_of(s));
  return sticky_error() != cudaSuccess ? set_last_error(sticky_error()) : cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t s) { return cudaStreamSynchronize(s); }

cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  if (!stream_alive(s) || !e) return set_last_error(cudaErrorInvalidResourceHandle);
  return cudaSuccess;  // work runs when enqueued, so the event's work is already done
}

cudaError_t cudaDeviceSynchronize() {
  // Only the streams the emulator can reach: the legacy one here; the others are synchronised by
  // their owners (facet synchronises its context's stream explicitly).
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  deliver(legacy_stream());
  return sticky_error() != cudaSuccess ? set_last_error(sticky_error()) : cudaSuccess;
}

cudaError_t cudaDeviceReset() {
  // What the emulator can reset: the sticky error (tests that provoke one call this after).
  clear_sticky_error();
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (!stream_alive(stream)) return fail(cudaErrorInvalidResourceHandle, "cudaMemcpyAsync: the stream was destroyed");
  if (cudaError_t e = check_copy("cudaMemcpyAsync", dst, src, count, kind); e != cudaSuccess) return e;
  if (count == 0) return cudaSuccess;
  if (kind == cudaMemcpyDeviceToHost) {
    const auto* s = static_cast<const unsigned char*>(src);
    stream_of(stream)->pending.push_back(PendingCopy{dst, std::vector<unsigned char>(s, s + count)});
    std::memset(dst, kPoison, count);
  } else {
    std::memmove(dst, src, count);
  }
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (cudaError_t e = check_copy("cudaMemcpy", dst, src, count, kind); e != cudaSuccess) return e;
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t count, cudaStream_t stream) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (!stream_alive(stream)) return fail(cudaErrorInvalidResourceHandle, "cudaMemsetAsync: the stream was destroyed");
  if (count == 0) return cudaSuccess;
  MemRange r;
  try {
    r = find_range(dst, count, "cudaMemsetAsync");
  } catch (const std::exception& e) {
    return fail(cudaErrorInvalidValue, e.what());
  }
  if (r.kind != MemKind::Device) return fail(cudaErrorInvalidValue, "cudaMemsetAsync: the destination is not device memory");
  std::memset(dst, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemset(void* dst, int value, size_t count) { return cudaMemsetAsync(dst, value, count, nullptr); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  if (!e || (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming | cudaEventInterprocess)))
    return set_last_error(cudaErrorInvalidValue);
  *e = reinterpret_cast<cudaEvent_t>(new Event());
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (!e) return set_last_error(cudaErrorInvalidResourceHandle);
  delete reinterpret_cast<Event*>(e);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (!e) return set_last_error(cudaErrorInvalidResourceHandle);
  if (!stream_alive(s)) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: the stream was destroyed");
  Event* ev = reinterpret_cast<Event*>(e);
  ev->recorded = true;
  ev->stream = s;
  ev->ms = now_ms();  // the work before it has already run
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (!e) return set_last_error(cudaErrorInvalidResourceHandle);
  Event* ev = reinterpret_cast<Event*>(e);
  if (ev->recorded && stream_alive(ev->stream)) deliver(*stream_of(ev->stream));
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t e) { return cudaEventSynchronize(e); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms || !start || !end) return set_last_error(cudaErrorInvalidValue);
  const Event* a = reinterpret_cast<Event*>(start);
  const Event* b = reinterpret_cast<Event*>(end);
  if (!a->recorded || !b->recorded) return set_last_error(cudaErrorInvalidResourceHandle);
  *ms = static_cast<float>(b->ms - a->ms);
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return set_last_error(cudaErrorInvalidDeviceFunction);
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) return set_max_dynamic_shared(func, value);
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute " + std::to_string(int(attr)) + " is not emulated");
}

cudaError_t cudaGetLastError() { return take_last_error(); }
cudaError_t cudaPeekAtLastError() { return peek_last_error(); }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define FACET_EMU_NAME(x) \
  case x: return #x;
    FACET_EMU_NAME(cudaSuccess)
    FACET_EMU_NAME(cudaErrorInvalidValue)
    FACET_EMU_NAME(cudaErrorMemoryAllocation)
    FACET_EMU_NAME(cudaErrorInvalidConfiguration)
    FACET_EMU_NAME(cudaErrorInvalidDevice)
    FACET_EMU_NAME(cudaErrorInvalidDeviceFunction)
    FACET_EMU_NAME(cudaErrorInvalidMemcpyDirection)
    FACET_EMU_NAME(cudaErrorInvalidResourceHandle)
    FACET_EMU_NAME(cudaErrorIllegalAddress)
    FACET_EMU_NAME(cudaErrorLaunchFailure)
    FACET_EMU_NAME(cudaErrorNotSupported)
    FACET_EMU_NAME(cudaErrorNoDevice)
#undef FACET_EMU_NAME
    default: return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    default: return "unknown error";
  }
}
