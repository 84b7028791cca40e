// Bounds-checked FlatBuffers reading (see flatbuffer.h). All arithmetic on positions is done in
// uint64_t, where a u32 offset plus a position below the file size cannot overflow.
#include "engine/tflite/flatbuffer.h"

#include <cstdio>

#include "engine/core/error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the TFLite reader assumes a little-endian host (FlatBuffers are little-endian)"
#endif

namespace facet::tflite::fb {

void Bytes::fail(const std::string& what) const { throw Error(name_ + ": " + what); }

void Bytes::check_range(uint64_t pos, uint64_t len, const char* what) const {
  if (pos > size_ || len > size_ - pos)
    fail(detail::concat("truncated or corrupt TFLite file: ", what, " at offset ", pos, " (", len,
                        " bytes) lies outside the file (", size_, " bytes)"));
}

uint64_t Bytes::deref(uint64_t pos, const char* what) const {
  const uint64_t target = pos + get<uint32_t>(pos, what);
  if (target >= size_)
    fail(detail::concat("truncated or corrupt TFLite file: offset out of range: ", what, " at offset ", pos,
                        " points to ", target, ", past the end of the file (", size_, " bytes)"));
  return target;
}

Table::Table(const Bytes& b, uint64_t pos, const char* what) : b_(&b), what_(what), pos_(pos) {
  const int32_t soff = b.get<int32_t>(pos, what);
  const int64_t vt = static_cast<int64_t>(pos) - soff;
  if (vt < 0 || static_cast<uint64_t>(vt) + 4 > b.size())
    b.fail(detail::concat("truncated or corrupt TFLite file: offset out of range: the vtable of ", what,
                          " at offset ", pos, " would be at ", vt, " (file is ", b.size(), " bytes)"));
  vt_ = static_cast<uint64_t>(vt);
  vt_size_ = b.get<uint16_t>(vt_, what);
  const uint16_t table_size = b.get<uint16_t>(vt_ + 2, what);
  if (vt_size_ < 4 || vt_size_ % 2 != 0 || table_size < 4)
    b.fail(detail::concat("corrupt TFLite file: malformed vtable of ", what, " at offset ", vt_));
  b.check_range(vt_, vt_size_, what);
  b.check_range(pos_, table_size, what);
}

uint16_t Table::field_offset(int field) const {
  if (!b_) return 0;
  const uint64_t o = 4 + 2 * static_cast<uint64_t>(field);
  if (o + 2 > vt_size_) return 0;  // field newer than the writer's schema: absent
  return b_->get<uint16_t>(vt_ + o, what_);
}

uint64_t Table::field_pos(int field, size_t size) const {
  const uint16_t off = field_offset(field);
  if (off == 0) return 0;
  b_->check_range(pos_ + off, size, what_);
  return pos_ + off;
}

Table Table::table(int field, const char* what) const {
  const uint64_t p = field_pos(field, 4);
  if (!p) return Table();
  return Table(*b_, b_->deref(p, what), what);
}

Vector Table::vector(int field, size_t elem_size, const char* what) const {
  const uint64_t p = field_pos(field, 4);
  if (!p) return Vector();
  return Vector(*b_, b_->deref(p, what), elem_size, what);
}

std::string Table::string(int field, const char* what) const {
  Vector v = vector(field, 1, what);
  return v.size() ? std::string(reinterpret_cast<const char*>(b_->data() + v.data_pos()), v.size()) : std::string();
}

Vector::Vector(const Bytes& b, uint64_t pos, size_t elem_size, const char* what) : b_(&b), what_(what) {
  const uint32_t n = b.get<uint32_t>(pos, what);
  data_ = pos + 4;
  b.check_range(data_, static_cast<uint64_t>(n) * elem_size, what);
  n_ = n;
}

Table Vector::table(size_t i, const char* what) const {
  return Table(*b_, b_->deref(data_ + 4 * static_cast<uint64_t>(i), what), what);
}

std::string Vector::string(size_t i, const char* what) const {
  Vector v(*b_, b_->deref(data_ + 4 * static_cast<uint64_t>(i), what), 1, what);
  return v.size() ? std::string(reinterpret_cast<const char*>(b_->data() + v.data_pos()), v.size()) : std::string();
}

Table root(const Bytes& b, const char* ident, const char* format_name) {
  if (b.size() == 0) b.fail(detail::concat("empty file, not a ", format_name, " model"));
  if (b.size() < 8)
    b.fail(detail::concat("not a ", format_name, " file (", b.size(), " bytes, too short for a FlatBuffer header)"));
  if (std::memcmp(b.data() + 4, ident, 4) != 0) {
    std::string got;
    for (int i = 4; i < 8; ++i) {
      const char c = static_cast<char>(b.data()[i]);
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(b.data()[i]));
      got += (c >= 32 && c < 127) ? std::string(1, c) : std::string(hex);
    }
    b.fail(detail::concat("not a ", format_name, " file (file identifier \"", got, "\", expected \"", ident, "\")"));
  }
  return Table(b, b.deref(0, "root table offset"), "the root Model table");
}

}  // namespace facet::tflite::fb
