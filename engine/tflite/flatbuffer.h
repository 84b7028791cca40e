// A small read-only FlatBuffers accessor that treats its input as hostile. TFLite models are
// FlatBuffers; rather than depend on the flatbuffers runtime (whose generated accessors trust the
// buffer unless a separate verifier runs first) we read the few tables we need through these
// classes, which check every offset, length and vtable entry against the file size before
// touching memory. A truncated or corrupted file therefore becomes a facet::Error naming the file
// and the offset, never an out-of-bounds read.
//
// Wire format recap (little-endian): a table starts with an int32 soffset to its vtable
// (vtable = table - soffset); the vtable is [u16 vtable bytes, u16 table bytes, u16 field
// offsets...], a zero field offset meaning "absent, use the default". Reference fields (tables,
// vectors, strings) hold a u32 offset relative to their own position. A vector is a u32 length
// followed by the elements; a string is a byte vector (plus a NUL we do not rely on).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace facet::tflite::fb {

// The whole buffer plus the name used in error messages (usually the file path).
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size, std::string name) : data_(data), size_(size), name_(std::move(name)) {}

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& name() const { return name_; }

  [[noreturn]] void fail(const std::string& what) const;
  // Throws unless [pos, pos + len) lies inside the buffer. `what` names the object being read.
  void check_range(uint64_t pos, uint64_t len, const char* what) const;

  template <typename T>
  T get(uint64_t pos, const char* what) const {
    check_range(pos, sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos, sizeof(T));  // memcpy: fields need not be aligned in a corrupt file
    return v;
  }
  // Follows the u32 offset stored at `pos` (relative to pos) and checks the target is in range.
  uint64_t deref(uint64_t pos, const char* what) const;

 private:
  const uint8_t* data_;
  size_t size_;
  std::string name_;
};

class Vector;

// A validated table: its header and vtable lie inside the buffer.
class Table {
 public:
  Table() = default;  // "absent"
  Table(const Bytes& b, uint64_t pos, const char* what);

  bool present() const { return b_ != nullptr; }
  bool has(int field) const { return field_offset(field) != 0; }

  template <typename T>
  T get(int field, T def) const {
    const uint64_t p = field_pos(field, sizeof(T));
    return p ? b_->get<T>(p, what_) : def;
  }
  Table table(int field, const char* what) const;                     // absent -> !present()
  Vector vector(int field, size_t elem_size, const char* what) const;  // absent -> empty
  std::string string(int field, const char* what) const;              // absent -> ""

 private:
  uint16_t field_offset(int field) const;
  uint64_t field_pos(int field, size_t size) const;  // 0 when absent

  const Bytes* b_ = nullptr;
  const char* what_ = "";
  uint64_t pos_ = 0, vt_ = 0;
  uint16_t vt_size_ = 0;
};

// A validated vector: length and elements lie inside the buffer.
class Vector {
 public:
  Vector() = default;
  Vector(const Bytes& b, uint64_t pos, size_t elem_size, const char* what);

  size_t size() const { return n_; }
  uint64_t data_pos() const { return data_; }  // absolute position of element 0

  template <typename T>
  T get(size_t i) const {
    return b_->get<T>(data_ + i * sizeof(T), what_);  // in range: the constructor checked n * elem
  }
  Table table(size_t i, const char* what) const;  // elements are u32 offsets to tables
  std::string string(size_t i, const char* what) const;

 private:
  const Bytes* b_ = nullptr;
  const char* what_ = "";
  uint64_t data_ = 0;
  size_t n_ = 0;
};

// The root table of a FlatBuffer whose 4-byte file identifier (bytes 4..8) must equal `ident`.
Table root(const Bytes& b, const char* ident, const char* format_name);

}  // namespace facet::tflite::fb
