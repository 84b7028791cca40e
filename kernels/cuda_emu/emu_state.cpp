// The emulated device's shared state (see emu_state.h): the allocation registry that tells device
// memory and page-locked host memory from everything else, the set of live streams, the last
// error, the device's properties and the one lock.
#include "kernels/cuda_emu/emu_state.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

#include "kernels/cuda_emu/emu_memory.h"

namespace facet::emu {

namespace {

struct Allocation {
  size_t bytes;
  MemKind kind;
};

struct State {
  std::map<const char*, Allocation> allocations;  // keyed by base address
  std::set<cudaStream_t> streams;
  cudaError_t last_error = cudaSuccess;
  cudaError_t sticky_error = cudaSuccess;  // a fault in device code: every later call reports it
  std::string last_misuse;
};

State& state() {
  static State* s = new State();  // never destroyed: stand-ins may be called from static destructors
  return *s;
}

}  // namespace

std::recursive_mutex& device_lock() {
  static std::recursive_mutex* mu = new std::recursive_mutex();
  return *mu;
}

void register_allocation(const void* p, size_t bytes, MemKind kind) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  state().allocations[static_cast<const char*>(p)] = Allocation{bytes, kind};
}

bool unregister_allocation(const void* p, MemKind kind) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  auto& a = state().allocations;
  auto it = a.find(static_cast<const char*>(p));
  if (it == a.end() || it->second.kind != kind) return false;
  a.erase(it);
  return true;
}

MemRange find_range(const void* p, size_t bytes, const char* what) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* c = static_cast<const char*>(p);
  auto& a = state().allocations;
  auto it = a.upper_bound(c);
  if (it == a.begin()) return {};
  --it;
  const char* base = it->first;
  const size_t size = it->second.bytes;
  // A pointer one past the end of an allocation belongs to it only for an empty range.
  if (c > base + size || (c == base + size && bytes > 0)) return {};
  if (static_cast<size_t>(c - base) + bytes > size) {
    char msg[256];
    std::snprintf(msg, sizeof msg, "%s: %zu bytes at offset %zu run past the end of a %zu-byte allocation", what,
                  bytes, static_cast<size_t>(c - base), size);
    throw std::runtime_error(msg);
  }
  return MemRange{it->second.kind, base, size};
}

bool device_accessible(const void* p, size_t bytes) {
  if (p == nullptr) return false;
  try {
    return find_range(p, bytes, "device access").kind != MemKind::Pageable;
  } catch (const std::runtime_error&) {
    return false;
  }
}

void register_stream(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  state().streams.insert(s);
}

bool unregister_stream(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  return state().streams.erase(s) == 1;
}

bool stream_alive(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return true;
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  return state().streams.count(s) == 1;
}

cudaError_t set_last_error(cudaError_t err) {
  if (err != cudaSuccess) {
    std::lock_guard<std::recursive_mutex> lock(device_lock());
    state().last_error = err;
  }
  return err;
}

cudaError_t set_sticky_error(cudaError_t err) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  state().sticky_error = err;
  state().last_error = err;
  return err;
}

cudaError_t sticky_error() {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  return state().sticky_error;
}

void clear_sticky_error() {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  state().sticky_error = cudaSuccess;
  state().last_error = cudaSuccess;
}

cudaError_t take_last_error() {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const cudaError_t e = state().last_error;
  state().last_error = state().sticky_error;  // a sticky error is never cleared
  return e;
}

cudaError_t peek_last_error() {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  return state().last_error;
}

void report_misuse(const std::string& message) {
  {
    std::lock_guard<std::recursive_mutex> lock(device_lock());
    state().last_misuse = message;
  }
  // Loud on purpose: the status code a caller sees rarely says which check failed.
  std::fprintf(stderr, "facet emulated device: %s\n", message.c_str());
}

const std::string& last_misuse() {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  return state().last_misuse;
}

namespace {

// "7.5" -> {7, 5}; anything else -> Hopper, the newest architecture facet is built for.
void compute_capability(int& major, int& minor) {
  major = 9;
  minor = 0;
  const char* v = std::getenv("FACET_EMULATED_CC");
  int ma = 0, mi = 0;
  if (v && std::sscanf(v, "%d.%d", &ma, &mi) == 2 && ma >= 3 && ma <= 12 && mi >= 0 && mi <= 9) {
    major = ma;
    minor = mi;
  }
}

cudaDeviceProp make_properties() {
  cudaDeviceProp p;
  std::memset(&p, 0, sizeof p);
  compute_capability(p.major, p.minor);
  std::snprintf(p.name, sizeof p.name, "facet emulated device (CPU, compute %d.%d; tests only)", p.major, p.minor);
  p.totalGlobalMem = size_t(16) << 30;
  p.sharedMemPerBlock = 48 * 1024;
  p.sharedMemPerBlockOptin = p.major >= 9 ? 227 * 1024 : (p.major >= 8 ? 163 * 1024 : 64 * 1024);
  p.sharedMemPerMultiprocessor = p.sharedMemPerBlockOptin + 1024;
  p.regsPerBlock = 65536;
  p.warpSize = kWarpSize;
  p.maxThreadsPerBlock = kMaxThreadsPerBlock;
  p.maxThreadsDim[0] = 1024;
  p.maxThreadsDim[1] = 1024;
  p.maxThreadsDim[2] = 64;
  p.maxGridSize[0] = 2147483647;
  p.maxGridSize[1] = 65535;
  p.maxGridSize[2] = 65535;
  p.multiProcessorCount = 4;
  p.maxThreadsPerMultiProcessor = 2048;
  p.totalConstMem = 65536;
  p.memPitch = 2147483647;
  p.textureAlignment = 512;
  p.unifiedAddressing = 1;
  p.canMapHostMemory = 1;
  p.managedMemory = 1;
  p.concurrentKernels = 1;
  p.asyncEngineCount = 2;
  p.l2CacheSize = 50 * 1024 * 1024;
  p.memoryBusWidth = 5120;
  p.pciBusID = 0;
  p.integrated = 0;
  return p;
}

}  // namespace

const cudaDeviceProp& device_properties() {
  static const cudaDeviceProp p = make_properties();
  return p;
}

}  // namespace facet::emu
