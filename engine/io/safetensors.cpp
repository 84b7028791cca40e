// safetensors reader/writer with facet's integrity checks (format: safetensors.h and
// docs/formats-checkpoint.md). The reader treats every file as hostile: each number in the
// header is checked before it is used, so a truncated, corrupted or foreign file is refused with
// a message naming the file and the tensor instead of crashing or loading garbage.
// The rules follow the reference implementation: header <= 100 MB, starts with '{', no
// duplicate keys, offsets relative to the data buffer, tensors tile the buffer exactly (no holes,
// no overlap, nothing after the last one), byte length = numel(shape) x dtype size, shape []
// is a scalar. The writer orders tensors by descending dtype size then name and pads the header
// with spaces to 8 bytes, like the reference, so every tensor is aligned for zero-copy readers.
#include "engine/io/safetensors.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors I/O assumes a little-endian host (the format is little-endian)"
#endif

namespace facet {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100000000;  // the reference implementation's limit
constexpr const char* kKeyFormat = "facet.format";
constexpr const char* kKeyCrc = "facet.crc32";
constexpr const char* kKeyHeaderCrc = "facet.header_crc32";

// One row of the tensor table, as written to / read from the header.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // relative to the data buffer
};

const char* st_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    default: return nullptr;
  }
}

bool st_dtype_from_name(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::F32;
  else if (s == "F64") *out = DType::F64;
  else if (s == "F16") *out = DType::F16;
  else if (s == "BF16") *out = DType::BF16;
  else return false;
  return true;
}

std::string hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

uint32_t crc_update(uint32_t crc, const void* p, size_t n) {
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(p), n));
}

// The text covered by facet.header_crc32: every tensor (sorted by name) as
// "name\tDTYPE\td0,d1,..\tbegin\tend\n", then every metadata pair except facet.header_crc32
// (sorted by key) as "key\tvalue\n". Sorting by UTF-8 bytes = Python's sorted() on str.
std::string header_crc_text(std::vector<const Entry*> entries, const std::map<std::string, std::string>& meta) {
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });
  std::string s;
  for (const Entry* e : entries) {
    s += e->name;
    s += '\t';
    s += st_dtype_name(e->dtype);
    s += '\t';
    for (size_t i = 0; i < e->shape.size(); ++i) s += (i ? "," : "") + std::to_string(e->shape[i]);
    s += '\t' + std::to_string(e->begin) + '\t' + std::to_string(e->end) + '\n';
  }
  for (const auto& [k, v] : meta) {
    if (k == kKeyHeaderCrc) continue;
    s += k + '\t' + v + '\n';
  }
  return s;
}

uint32_t header_crc(const std::vector<Entry>& entries, const std::map<std::string, std::string>& meta) {
  std::vector<const Entry*> ptrs;
  for (const Entry& e : entries) ptrs.push_back(&e);
  std::string text = header_crc_text(ptrs, meta);
  return crc_update(crc32_z(0, nullptr, 0), text.data(), text.size());
}

// Names for error messages: "a, b, c" (at most `limit`, then "and N more").
std::string name_list(const std::vector<std::string>& names, size_t limit = 20) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < limit; ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > limit) s += detail::concat(" and ", names.size() - limit, " more");
  return s;
}

// RAII FILE* for reading.
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Reads exactly n bytes or throws naming the file and what was being read.
void read_exact(std::FILE* f, void* dst, size_t n, const std::string& path, const std::string& what) {
  if (n == 0) return;
  size_t got = std::fread(dst, 1, n, f);
  if (got != n) {
    int err = errno;
    throw Error(detail::concat("checkpoint '", path, "': cannot read ", what, " (", got, " of ", n, " bytes): ",
                               std::ferror(f) ? std::strerror(err) : "unexpected end of file"));
  }
}

uint64_t json_u64(const nlohmann::json& v, const std::string& path, const std::string& tensor, const char* field) {
  FACET_CHECK(v.is_number_unsigned(), "checkpoint '", path, "': tensor '", tensor, "': ", field,
              " must hold non-negative integers, found ", v.dump());
  return v.get<uint64_t>();
}

// Parses one tensor entry of the header (no cross-entry checks yet).
Entry parse_entry(const std::string& name, const nlohmann::json& v, const std::string& path) {
  const std::string where = detail::concat("checkpoint '", path, "': tensor '", name, "'");
  FACET_CHECK(!name.empty(), "checkpoint '", path, "': tensor with an empty name");
  FACET_CHECK(v.is_object(), where, ": entry must be an object with dtype, shape and data_offsets, found ", v.dump());
  for (const char* field : {"dtype", "shape", "data_offsets"})
    FACET_CHECK(v.contains(field), where, ": missing \"", field, "\"");
  Entry e;
  e.name = name;
  const auto& dt = v["dtype"];
  FACET_CHECK(dt.is_string(), where, ": dtype must be a string, found ", dt.dump());
  FACET_CHECK(st_dtype_from_name(dt.get<std::string>(), &e.dtype), where, ": dtype ", dt.dump(),
              " is not supported (facet reads F32, F64, F16, BF16)");
  const auto& sh = v["shape"];
  FACET_CHECK(sh.is_array(), where, ": shape must be an array, found ", sh.dump());
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : sh) {
    uint64_t x = json_u64(d, path, name, "shape");
    FACET_CHECK(x <= static_cast<uint64_t>(INT64_MAX), where, ": dimension ", x, " is too large");
    e.shape.push_back(static_cast<int64_t>(x));
    overflow |= __builtin_mul_overflow(numel, x, &numel);
  }
  uint64_t nbytes = 0;
  overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(e.dtype)), &nbytes);
  FACET_CHECK(!overflow, where, ": shape ", shape_str(e.shape), " overflows 64-bit byte counts");
  const auto& off = v["data_offsets"];
  FACET_CHECK(off.is_array() && off.size() == 2, where, ": data_offsets must be [begin, end], found ", off.dump());
  e.begin = json_u64(off[0], path, name, "data_offsets");
  e.end = json_u64(off[1], path, name, "data_offsets");
  FACET_CHECK(e.begin <= e.end, where, ": data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  FACET_CHECK(e.end - e.begin == nbytes, where, ": data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin,
              " bytes but ", st_dtype_name(e.dtype), " shape ", shape_str(e.shape), " needs ", nbytes);
  return e;
}

// Parses the JSON header, rejecting duplicate keys at any level (nlohmann would silently keep
// the last one, which is how two tensors can alias the same name).
nlohmann::json parse_header(const std::string& text, const std::string& path) {
  FACET_CHECK(!text.empty() && text[0] == '{', "checkpoint '", path,
              "': header does not start with '{' (not a safetensors file, or a corrupted one)");
  // nlohmann stops at a NUL byte as if the input ended; JSON never contains a raw one.
  FACET_CHECK(text.find('\0') == std::string::npos, "checkpoint '", path,
              "': header contains a NUL byte (headers are padded with spaces, not zeros)");
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto cb = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) keys.emplace_back();
    else if (ev == E::object_end && !keys.empty()) keys.pop_back();
    else if (ev == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::exception& ex) {
    throw Error(detail::concat("checkpoint '", path, "': header is not valid JSON (", ex.what(), ")"));
  }
  FACET_CHECK(duplicate.empty(), "checkpoint '", path, "': header has the key '", duplicate, "' twice");
  FACET_CHECK(j.is_object(), "checkpoint '", path, "': header must be a JSON object");
  return j;
}

}  // namespace

const Tensor* LoadedTensors::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

void save_safetensors(Context& ctx, const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Validate and bring everything to the host before touching the file system.
  std::set<std::string> seen;
  std::vector<Entry> entries;
  std::vector<Tensor> host;
  for (const auto& [name, t] : tensors) {
    FACET_CHECK(!name.empty(), "saving '", path, "': tensor with an empty name");
    FACET_CHECK(name != "__metadata__", "saving '", path, "': '__metadata__' cannot name a tensor");
    FACET_CHECK(seen.insert(name).second, "saving '", path, "': tensor name '", name, "' appears twice");
    FACET_CHECK(t.defined(), "saving '", path, "': tensor '", name, "' is undefined");
    FACET_CHECK(st_dtype_name(t.dtype()) != nullptr, "saving '", path, "': tensor '", name, "' has dtype ",
                dtype_name(t.dtype()), ", which safetensors checkpoints do not support");
    entries.push_back({name, t.dtype(), t.shape(), 0, 0});
    host.push_back(t.to(ctx, Device::cpu()));  // device->host copy is synchronous
  }

  // Descending element size, then name: every tensor starts aligned to its element size.
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    size_t sa = dtype_size(entries[a].dtype), sb = dtype_size(entries[b].dtype);
    return sa != sb ? sa > sb : entries[a].name < entries[b].name;
  });

  uint64_t offset = 0;
  uint32_t crc = crc32_z(0, nullptr, 0);
  std::vector<Entry> sorted;
  for (size_t i : order) {
    Entry e = entries[i];
    e.begin = offset;
    e.end = offset + host[i].nbytes();
    offset = e.end;
    crc = crc_update(crc, host[i].data(), host[i].nbytes());
    sorted.push_back(std::move(e));
  }

  std::map<std::string, std::string> meta = metadata;
  meta[kKeyFormat] = kCheckpointFormat;
  meta[kKeyCrc] = hex32(crc);
  meta.erase(kKeyHeaderCrc);
  meta[kKeyHeaderCrc] = hex32(header_crc(sorted, meta));

  // __metadata__ first, then tensors in data order (as the reference writer does).
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : meta) header["__metadata__"][k] = v;
  for (const Entry& e : sorted) {
    nlohmann::ordered_json je = nlohmann::ordered_json::object();
    je["dtype"] = st_dtype_name(e.dtype);
    je["shape"] = e.shape;
    je["data_offsets"] = {e.begin, e.end};
    header[e.name] = std::move(je);
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& ex) {  // e.g. a name that is not valid UTF-8
    throw Error(detail::concat("saving '", path, "': cannot encode the header: ", ex.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();

  write_file_atomically(path, [&](std::FILE* f) {
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    write_all(f, len, 8, path);
    write_all(f, text.data(), text.size(), path);
    for (size_t i : order) write_all(f, host[i].data(), host[i].nbytes(), path);
  });
}

LoadedTensors load_safetensors(Context& ctx, const std::string& path, Device device) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    int err = errno;
    throw Error(detail::concat("cannot open checkpoint '", path, "': ", std::strerror(err)));
  }
  std::FILE* f = file.get();
  struct stat st{};
  FACET_CHECK(::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode), "checkpoint '", path, "' is not a regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  FACET_CHECK(file_size >= 8, "checkpoint '", path, "' is ", file_size,
              " bytes, too short to be a safetensors file (truncated?)");

  unsigned char len[8];
  read_exact(f, len, 8, path, "the header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len[i]) << (8 * i);
  FACET_CHECK(n <= file_size - 8, "checkpoint '", path, "': header length ", n, " exceeds the file size of ",
              file_size, " bytes (truncated or not a safetensors file)");
  FACET_CHECK(n <= kMaxHeaderBytes, "checkpoint '", path, "': header length ", n, " is over the 100 MB limit");
  std::string text(n, '\0');
  read_exact(f, text.data(), n, path, "the header");
  const nlohmann::json header = parse_header(text, path);
  const uint64_t data_size = file_size - 8 - n;

  LoadedTensors out;
  std::vector<Entry> entries;
  for (const auto& [key, v] : header.items()) {
    if (key == "__metadata__") {
      if (v.is_null()) continue;
      FACET_CHECK(v.is_object(), "checkpoint '", path, "': __metadata__ must be an object of strings");
      for (const auto& [mk, mv] : v.items()) {
        FACET_CHECK(mv.is_string(), "checkpoint '", path, "': __metadata__ value for '", mk,
                    "' must be a string, found ", mv.dump());
        out.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(key, v, path));
    const Entry& e = entries.back();
    FACET_CHECK(e.end <= data_size, "checkpoint '", path, "': tensor '", e.name, "' data_offsets [", e.begin, ", ",
                e.end, "] run past the data buffer of ", data_size, " bytes (file truncated?)");
  }

  // The tensors must tile the data buffer: sorted by offset, each starts where the last ended.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end != b.end ? a.end < b.end : a.name < b.name;
  });
  uint64_t pos = 0;
  for (const Entry& e : entries) {
    FACET_CHECK(e.begin >= pos, "checkpoint '", path, "': tensor '", e.name, "' data_offsets [", e.begin, ", ",
                e.end, "] overlap the previous tensor, which ends at ", pos);
    FACET_CHECK(e.begin == pos, "checkpoint '", path, "': hole in the data buffer: bytes [", pos, ", ", e.begin,
                ") before tensor '", e.name, "' belong to no tensor");
    pos = e.end;
  }
  FACET_CHECK(pos == data_size, "checkpoint '", path, "': the tensors cover ", pos, " data bytes but the file holds ",
              data_size, " (", data_size - pos, " trailing bytes; wrong header length or appended data?)");

  auto fmt = out.metadata.find(kKeyFormat);
  FACET_CHECK(fmt == out.metadata.end() || fmt->second == kCheckpointFormat, "checkpoint '", path, "': format '",
              fmt == out.metadata.end() ? "" : fmt->second, "' is not supported (expected '", kCheckpointFormat, "')");
  // A facet file always carries both checksums, so a corrupted key name cannot switch them off.
  if (fmt != out.metadata.end()) {
    for (const char* key : {kKeyCrc, kKeyHeaderCrc})
      FACET_CHECK(out.metadata.count(key), "checkpoint '", path, "': __metadata__ lacks '", key,
                  "' (every ", kCheckpointFormat, " file has it): the header is corrupted");
  }
  auto hcrc = out.metadata.find(kKeyHeaderCrc);
  if (hcrc != out.metadata.end()) {
    std::string actual = hex32(header_crc(entries, out.metadata));
    FACET_CHECK(actual == hcrc->second, "checkpoint '", path, "': header checksum mismatch (stored ", hcrc->second,
                ", computed ", actual, "): the header is corrupted");
  }

  // Read the data in file order (sequential I/O), checksumming as we go.
  uint32_t crc = crc32_z(0, nullptr, 0);
  std::vector<Tensor> host;
  host.reserve(entries.size());
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(ctx, e.shape, e.dtype, Device::cpu());
    read_exact(f, t.data(), t.nbytes(), path, detail::concat("the data of tensor '", e.name, "'"));
    crc = crc_update(crc, t.data(), t.nbytes());
    host.push_back(std::move(t));
  }
  auto dcrc = out.metadata.find(kKeyCrc);
  if (dcrc != out.metadata.end()) {
    FACET_CHECK(hex32(crc) == dcrc->second, "checkpoint '", path, "': data checksum mismatch (stored ", dcrc->second,
                ", computed ", hex32(crc), "): the tensor data is corrupted");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    out.tensors.emplace_back(entries[i].name, host[i].to(ctx, device).set_name(entries[i].name));
  }
  return out;
}

void load_into(Context& ctx, const std::string& path, const std::vector<std::pair<std::string, Tensor>>& dest) {
  std::set<std::string> wanted;
  for (const auto& [name, t] : dest) {
    FACET_CHECK(t.defined(), "loading '", path, "': destination tensor '", name, "' is undefined");
    FACET_CHECK(wanted.insert(name).second, "loading '", path, "': destination tensor '", name, "' listed twice");
  }
  LoadedTensors lt = load_safetensors(ctx, path, Device::cpu());
  std::map<std::string, const Tensor*> in_file;
  for (const auto& [name, t] : lt.tensors) in_file[name] = &t;

  std::vector<std::string> missing, unexpected;
  for (const auto& [name, t] : dest)
    if (!in_file.count(name)) missing.push_back(name);
  for (const auto& [name, t] : in_file)
    if (!wanted.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty()) {
    std::string msg = detail::concat("checkpoint '", path, "' does not match the model:");
    if (!missing.empty()) msg += detail::concat(" missing ", missing.size(), " tensor(s): ", name_list(missing));
    if (!missing.empty() && !unexpected.empty()) msg += ";";
    if (!unexpected.empty())
      msg += detail::concat(" unexpected ", unexpected.size(), " tensor(s): ", name_list(unexpected));
    throw Error(msg);
  }

  std::string mismatches;
  for (const auto& [name, t] : dest) {
    const Tensor& src = *in_file[name];
    if (src.shape() != t.shape() || src.dtype() != t.dtype())
      mismatches += detail::concat(mismatches.empty() ? " " : "; ", "tensor '", name, "' is ", dtype_name(src.dtype()),
                                   shape_str(src.shape()), " in the file, expected ", dtype_name(t.dtype()),
                                   shape_str(t.shape()));
  }
  FACET_CHECK(mismatches.empty(), "checkpoint '", path, "' does not match the model:", mismatches);

  for (const auto& [name, t] : dest) {
    Tensor d = t;  // handle copy; writes into the caller's storage
    d.copy_from(ctx, *in_file[name]);
  }
}

}  // namespace facet
