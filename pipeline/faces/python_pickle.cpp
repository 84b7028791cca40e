// The pickle subset reader (see python_pickle.h). A stack machine over the opcodes of
// CPython's Lib/pickletools.py; numpy arrays arrive as
//   GLOBAL numpy.core.multiarray._reconstruct, (numpy.ndarray, (0,), b'b') REDUCE,
//   (1, shape, dtype, is_fortran, raw bytes) BUILD
// with dtype = GLOBAL numpy.dtype, ('f4', False, True) REDUCE, (3, '<', None, ...) BUILD
// (numpy's array_reduce / array_setstate and arraydescr_reduce / arraydescr_setstate).
#include "pipeline/faces/python_pickle.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>
#include <utility>

#include "engine/core/error.h"

namespace facet::faces {

namespace {

constexpr size_t kMaxDepth = 100;  // DFL's dicts nest 4 deep; anything far deeper is not a face file
constexpr int kMaxDims = 32;       // numpy's NPY_MAXDIMS

using T = PyValue::Type;

double half_to_double(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1F, frac = h & 0x3FF;
  double v;
  if (exp == 0) v = std::ldexp(frac, -24);
  else if (exp == 31) v = frac ? NAN : INFINITY;
  else v = std::ldexp(frac + 1024, exp - 25);
  return sign ? -v : v;
}

// numpy dtype strings as array_reduce writes them: kind letter + item size, e.g. "f4", "u1", "b1".
bool parse_dtype_code(const std::string& code, char& kind, int& itemsize) {
  if (code.size() < 2) return false;
  kind = code[0];
  itemsize = 0;
  for (size_t k = 1; k < code.size(); ++k) {
    if (code[k] < '0' || code[k] > '9' || itemsize > 16) return false;
    itemsize = itemsize * 10 + (code[k] - '0');
  }
  switch (kind) {
    case 'f': return itemsize == 2 || itemsize == 4 || itemsize == 8;
    case 'i': case 'u': return itemsize == 1 || itemsize == 2 || itemsize == 4 || itemsize == 8;
    case 'b': return itemsize == 1;
    default: return false;
  }
}

const std::set<std::string>& allowed_globals() {
  static const std::set<std::string> g = {
      "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
      "numpy.core.multiarray.scalar",       "numpy._core.multiarray.scalar",
      "numpy.core.numeric._frombuffer",     "numpy._core.numeric._frombuffer",
      "numpy.ndarray",                      "numpy.dtype",
      "_codecs.encode",                     "builtins.bytearray"};
  return g;
}

// The part of a global's name that matters: "numpy._core.multiarray.scalar" -> "scalar".
std::string callable_of(const PyValue* g) { return g->s.substr(g->s.rfind('.') + 1); }

class Reader {
 public:
  Reader(const uint8_t* d, size_t n, const std::string& what, Pickle& out) : d_(d), n_(n), what_(what), out_(out) {}

  const PyValue* run() {
    while (true) {
      op_pos_ = pos_;
      const uint8_t op = u8();
      if (op == '.') {  // STOP
        need(stack_.size() == 1 && marks_.empty(), "STOP with ", stack_.size(), " values on the stack");
        const PyValue* root = stack_.back();
        check_tree(root);
        return root;
      }
      step(op);
    }
  }

 private:
  const uint8_t* d_;
  size_t n_, pos_ = 0, op_pos_ = 0;
  const std::string& what_;
  Pickle& out_;
  std::vector<PyValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyValue*> memo_;

  template <typename... A>
  [[noreturn]] void fail(const A&... a) const {
    throw Error(detail::concat(what_, ": DeepFaceLab metadata pickle is broken: ", a..., " (opcode at byte ",
                               op_pos_, ")"));
  }
  template <typename... A>
  void need(bool ok, const A&... a) const {
    if (!ok) fail(a...);
  }

  // ---- raw reads, every one bounds-checked
  const uint8_t* take(uint64_t k) {
    need(k <= n_ - pos_, "truncated (needs ", k, " more bytes, ", n_ - pos_, " left)");
    const uint8_t* p = d_ + pos_;
    pos_ += size_t(k);
    return p;
  }
  uint8_t u8() { return *take(1); }
  uint64_t le(int k) {
    const uint8_t* p = take(uint64_t(k));
    uint64_t v = 0;
    for (int j = k - 1; j >= 0; --j) v = v << 8 | p[j];
    return v;
  }
  std::string line() {  // GLOBAL's newline-terminated text
    size_t e = pos_;
    while (e < n_ && d_[e] != '\n') ++e;
    need(e < n_, "truncated (unterminated text line)");
    std::string s(reinterpret_cast<const char*>(d_ + pos_), e - pos_);
    pos_ = e + 1;
    return s;
  }
  std::string text(uint64_t k) {
    const uint8_t* p = take(k);
    return std::string(reinterpret_cast<const char*>(p), size_t(k));
  }

  // ---- stack
  PyValue* make(T t) {
    PyValue* v = out_.make();
    v->type = t;
    return v;
  }
  void push(PyValue* v) { stack_.push_back(v); }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  PyValue* pop() {
    need(stack_.size() > floor(), "stack underflow");
    PyValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PyValue* top() {
    need(stack_.size() > floor(), "stack underflow");
    return stack_.back();
  }
  std::vector<const PyValue*> pop_to_mark() {
    need(!marks_.empty(), "no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<const PyValue*> items(stack_.begin() + std::ptrdiff_t(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  PyValue* tuple_of(std::vector<const PyValue*> items) {
    PyValue* t = make(T::Tuple);
    t->items = std::move(items);
    return t;
  }
  void memo_put(uint64_t idx) { memo_[idx] = top(); }
  void memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    need(it != memo_.end(), "memo entry ", idx, " is used before it is stored");
    push(it->second);
  }

  void append_items(PyValue* list, const std::vector<const PyValue*>& items) {
    need(list->type == T::List, "APPEND onto a ", list->type_name(), ", not a list");
    list->items.insert(list->items.end(), items.begin(), items.end());
  }
  void set_items(PyValue* dict, const std::vector<const PyValue*>& kv) {
    need(dict->type == T::Dict, "SETITEM onto a ", dict->type_name(), ", not a dict");
    need(kv.size() % 2 == 0, "SETITEMS with an odd number of values");
    dict->items.insert(dict->items.end(), kv.begin(), kv.end());
  }

  void step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        const int v = u8();
        need(v >= 2 && v <= 5, "pickle protocol ", v, " (DeepFaceLab writes 3 or 4; 2-5 are read)");
        return;
      }
      case 0x95: le(8); return;  // FRAME: framing only, the bytes follow inline
      case '(': marks_.push_back(stack_.size()); return;
      case '0': pop(); return;
      case '1': pop_to_mark(); return;
      case '2': push(top()); return;
      case 'N': push(make(T::None)); return;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        PyValue* v = make(T::Bool);
        v->b = op == 0x88;
        return push(v);
      }
      case 'J': return push_int(int64_t(int32_t(uint32_t(le(4)))));
      case 'K': return push_int(int64_t(le(1)));
      case 'M': return push_int(int64_t(le(2)));
      case 0x8a: return push_long(le(1));
      case 0x8b: {
        const uint64_t k = le(4);
        need(k < 0x80000000u, "negative LONG4 length");
        return push_long(k);
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int j = 0; j < 8; ++j) bits = bits << 8 | p[j];
        PyValue* v = make(T::Float);
        std::memcpy(&v->f, &bits, 8);
        return push(v);
      }
      case 'X': return push_str(T::Str, le(4));
      case 0x8c: return push_str(T::Str, le(1));
      case 0x8d: return push_str(T::Str, le(8));
      case 'T': return push_str(T::Str, le(4));  // BINSTRING / SHORT_BINSTRING (Python 2 str)
      case 'U': return push_str(T::Str, le(1));
      case 'B': return push_str(T::Bytes, le(4));
      case 'C': return push_str(T::Bytes, le(1));
      case 0x8e: return push_str(T::Bytes, le(8));
      case 0x96: return push_str(T::Bytes, le(8));  // BYTEARRAY8
      case ']': return push(make(T::List));
      case ')': return push(make(T::Tuple));
      case '}': return push(make(T::Dict));
      case 'l': {
        PyValue* v = make(T::List);
        v->items = pop_to_mark();
        return push(v);
      }
      case 't': return push(tuple_of(pop_to_mark()));
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        std::vector<const PyValue*> items(size_t(op - 0x84));
        for (size_t k = items.size(); k-- > 0;) items[k] = pop();
        return push(tuple_of(std::move(items)));
      }
      case 'd': {
        std::vector<const PyValue*> kv = pop_to_mark();
        PyValue* v = make(T::Dict);
        set_items(v, kv);
        return push(v);
      }
      case 'a': {
        const PyValue* item = pop();
        return append_items(top(), {item});
      }
      case 'e': {
        std::vector<const PyValue*> items = pop_to_mark();
        return append_items(top(), items);
      }
      case 's': {
        const PyValue* value = pop();
        const PyValue* key = pop();
        return set_items(top(), {key, value});
      }
      case 'u': {
        std::vector<const PyValue*> kv = pop_to_mark();
        return set_items(top(), kv);
      }
      case 'q': return memo_put(le(1));
      case 'r': return memo_put(le(4));
      case 0x94: return memo_put(memo_.size());
      case 'h': return memo_get(le(1));
      case 'j': return memo_get(le(4));
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = line();
        return push_global(module + "." + line());
      }
      case 0x93: {  // STACK_GLOBAL
        const PyValue* name = pop();
        const PyValue* module = pop();
        need(name->type == T::Str && module->type == T::Str, "STACK_GLOBAL needs two strings");
        return push_global(module->s + "." + name->s);
      }
      case 'R': {
        const PyValue* args = pop();
        const PyValue* fn = pop();
        return push(reduce(fn, args));
      }
      case 'b': {
        const PyValue* state = pop();
        return build(top(), state);
      }
      default:
        fail("opcode 0x", hex(op), " is not part of the data subset DeepFaceLab writes");
    }
  }

  static std::string hex(uint8_t b) {
    const char* h = "0123456789abcdef";
    return {h[b >> 4], h[b & 15]};
  }

  void push_int(int64_t x) {
    PyValue* v = make(T::Int);
    v->i = x;
    push(v);
  }
  void push_long(uint64_t k) {  // little-endian two's complement of k bytes
    need(k <= 8, "integer of ", k, " bytes does not fit 64 bits");
    const uint8_t* p = take(k);
    uint64_t u = 0;
    for (uint64_t j = k; j-- > 0;) u = u << 8 | p[j];
    if (k > 0 && k < 8 && (p[k - 1] & 0x80)) u |= ~uint64_t(0) << (8 * k);  // sign-extend
    push_int(int64_t(u));
  }
  void push_str(T t, uint64_t k) {
    PyValue* v = make(t);
    v->s = text(k);
    push(v);
  }
  void push_global(const std::string& name) {
    need(allowed_globals().count(name), "refers to '", name,
         "', which is not a numpy array/dtype name (only plain data is read; nothing is executed)");
    PyValue* v = make(T::Global);
    v->s = name;
    push(v);
  }

  const PyValue* arg(const PyValue* args, size_t k, T t, const char* fn) const {
    need(args->type == T::Tuple && args->items.size() > k, fn, "() called with too few arguments");
    const PyValue* a = args->items[k];
    PyValue expected;
    expected.type = t;
    need(a->type == t, fn, "() argument ", k + 1, " is a ", a->type_name(), ", expected ", expected.type_name());
    return a;
  }

  PyValue* reduce(const PyValue* fn, const PyValue* args) {
    need(fn->type == T::Global, "REDUCE calls a ", fn->type_name(), ", not a numpy function");
    need(args->type == T::Tuple, "REDUCE arguments are a ", args->type_name(), ", not a tuple");
    const std::string f = callable_of(fn);
    if (f == "_reconstruct") {
      const PyValue* cls = arg(args, 0, T::Global, "_reconstruct");
      need(cls->s == "numpy.ndarray", "_reconstruct() of ", cls->s, ", not numpy.ndarray");
      return make(T::Array);  // filled by BUILD
    }
    if (f == "dtype") {
      PyValue* dt = make(T::Dtype);
      dt->s = arg(args, 0, T::Str, "dtype")->s;
      char kind;
      int size;
      need(parse_dtype_code(dt->s, kind, size), "numpy dtype '", dt->s,
           "' is not a bool, integer or float type");
      return dt;
    }
    if (f == "scalar") {  // numpy scalar: (dtype, raw bytes of one element)
      const PyValue* dt = arg(args, 0, T::Dtype, "scalar");
      const PyValue* raw = args->items.size() > 1 ? args->items[1] : nullptr;
      need(raw && (raw->type == T::Bytes || raw->type == T::Str), "scalar() without its bytes");
      PyArray a = make_array(dt, {}, raw->s, false);
      PyValue* v = make(a.kind == 'f' ? T::Float : a.kind == 'b' ? T::Bool : T::Int);
      const double x = a.at(0);
      if (a.kind == 'f') v->f = x;
      else if (a.kind == 'b') v->b = x != 0;
      else v->i = element_int(a);
      return v;
    }
    if (f == "_frombuffer") {  // protocol 5: (buffer, dtype, shape, order)
      const PyValue* buf = arg(args, 0, T::Bytes, "_frombuffer");
      const PyValue* dt = arg(args, 1, T::Dtype, "_frombuffer");
      const PyValue* shape = arg(args, 2, T::Tuple, "_frombuffer");
      const PyValue* order = arg(args, 3, T::Str, "_frombuffer");
      PyValue* v = make(T::Array);
      v->array = std::make_shared<PyArray>(make_array(dt, shape_of(shape), buf->s, order->s == "F"));
      return v;
    }
    if (f == "encode") {  // _codecs.encode(str, 'latin1'): protocol 2's bytes
      const std::string& s = arg(args, 0, T::Str, "encode")->s;
      PyValue* v = make(T::Bytes);
      v->s = latin1_from_utf8(s);
      return v;
    }
    if (f == "bytearray") {
      PyValue* v = make(T::Bytes);
      if (!args->items.empty()) {
        const PyValue* a = args->items[0];
        need(a->type == T::Bytes || a->type == T::Str, "bytearray() of a ", a->type_name());
        v->s = a->type == T::Bytes ? a->s : latin1_from_utf8(a->s);
      }
      return v;
    }
    fail("'", fn->s, "' cannot be called here");
  }

  void build(PyValue* obj, const PyValue* state) {
    need(state->type == T::Tuple, "BUILD state is a ", state->type_name(), ", not a tuple");
    const auto& s = state->items;
    if (obj->type == T::Dtype) {  // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
      need(s.size() >= 2 && s[1]->type == T::Str, "numpy dtype state without a byte order");
      const std::string& bo = s[1]->s;
      need(bo == "<" || bo == ">" || bo == "|" || bo == "=", "numpy dtype byte order '", bo, "'");
      need(s.size() < 3 || s[2]->type == T::None, "numpy sub-array dtypes are not supported");
      need(s.size() < 4 || s[3]->type == T::None, "numpy structured dtypes are not supported");
      obj->dtype_byteorder = bo;
      return;
    }
    need(obj->type == T::Array && !obj->array, "BUILD on a ", obj->type_name(), " (only numpy arrays and dtypes)");
    // (version, shape, dtype, is_fortran, data); version 0 omits the first item
    const size_t o = s.size() == 5 ? 1 : 0;
    need(s.size() == 4 || s.size() == 5, "numpy array state has ", s.size(), " items, expected 4 or 5");
    need(s[o]->type == T::Tuple, "numpy array shape is a ", s[o]->type_name());
    need(s[o + 1]->type == T::Dtype, "numpy array dtype is a ", s[o + 1]->type_name());
    need(s[o + 2]->type == T::Bool || s[o + 2]->type == T::Int, "numpy array order flag is a ", s[o + 2]->type_name());
    const PyValue* raw = s[o + 3];
    need(raw->type == T::Bytes || raw->type == T::Str, "numpy array data is a ", raw->type_name(),
         " (object arrays are not supported)");
    const bool fortran = s[o + 2]->type == T::Bool ? s[o + 2]->b : s[o + 2]->i != 0;
    const std::string bytes = raw->type == T::Bytes ? raw->s : latin1_from_utf8(raw->s);
    obj->array = std::make_shared<PyArray>(make_array(s[o + 1], shape_of(s[o]), bytes, fortran));
  }

  std::vector<int64_t> shape_of(const PyValue* t) const {
    need(int(t->items.size()) <= kMaxDims, "numpy array of ", t->items.size(), " dimensions");
    std::vector<int64_t> shape;
    for (const PyValue* d : t->items) {
      need(d->type == T::Int && d->i >= 0, "numpy array shape holds a ", d->type == T::Int ? "negative size" : d->type_name());
      shape.push_back(d->i);
    }
    return shape;
  }

  // A C-ordered little-endian copy; checks that the data size matches shape and dtype exactly.
  PyArray make_array(const PyValue* dt, std::vector<int64_t> shape, const std::string& raw, bool fortran) const {
    PyArray a;
    need(parse_dtype_code(dt->s, a.kind, a.itemsize), "numpy dtype '", dt->s, "'");
    a.shape = std::move(shape);
    uint64_t count = 1;
    for (int64_t d : a.shape) {
      need(d == 0 || count <= raw.size() / uint64_t(d), "numpy array shape does not match its ", raw.size(), " data bytes");
      count *= uint64_t(d);
    }
    need(count <= raw.size() / uint64_t(a.itemsize) && count * uint64_t(a.itemsize) == raw.size(),
         "numpy array of ", count, " ", dt->s, " elements has ", raw.size(), " data bytes");
    a.data.assign(raw.begin(), raw.end());
    const std::string& bo = dt->dtype_byteorder;
    if (bo == ">" && a.itemsize > 1)
      for (size_t k = 0; k < a.data.size(); k += size_t(a.itemsize))
        std::reverse(a.data.begin() + std::ptrdiff_t(k), a.data.begin() + std::ptrdiff_t(k) + a.itemsize);
    if (fortran && a.shape.size() > 1) a.data = fortran_to_c(a);
    return a;
  }

  static std::vector<uint8_t> fortran_to_c(const PyArray& a) {
    const size_t nd = a.shape.size(), is = size_t(a.itemsize);
    std::vector<uint8_t> out(a.data.size());
    std::vector<int64_t> idx(nd, 0);
    const int64_t n = a.size();
    for (int64_t c = 0; c < n; ++c) {  // c walks C order; f is the same element's Fortran offset
      int64_t f = 0, stride = 1;
      for (size_t k = 0; k < nd; ++k) f += idx[k] * stride, stride *= a.shape[k];
      std::memcpy(&out[size_t(c) * is], &a.data[size_t(f) * is], is);
      for (size_t k = nd; k-- > 0;) {
        if (++idx[k] < a.shape[k]) break;
        idx[k] = 0;
      }
    }
    return out;
  }

  int64_t element_int(const PyArray& a) const {
    uint64_t u = 0;
    for (int j = a.itemsize - 1; j >= 0; --j) u = u << 8 | a.data[size_t(j)];
    if (a.kind == 'i' && a.itemsize < 8 && (u >> (8 * a.itemsize - 1)) & 1) u |= ~uint64_t(0) << (8 * a.itemsize);
    need(a.kind != 'u' || a.itemsize < 8 || u <= uint64_t(INT64_MAX), "uint64 scalar does not fit int64");
    return int64_t(u);
  }

  std::string latin1_from_utf8(const std::string& s) const {
    std::string out;
    for (size_t k = 0; k < s.size();) {
      const uint8_t c = uint8_t(s[k]);
      if (c < 0x80) {
        out.push_back(char(c));
        ++k;
      } else {
        need((c == 0xC2 || c == 0xC3) && k + 1 < s.size() && (uint8_t(s[k + 1]) & 0xC0) == 0x80,
             "latin-1 text holds a character above U+00FF");
        out.push_back(char(((c & 0x03) << 6) | (uint8_t(s[k + 1]) & 0x3F)));
        k += 2;
      }
    }
    return out;
  }

  // Every value reachable from the root is finished data, no container contains itself, and the
  // nesting stays under kMaxDepth (iterative, so hostile depth cannot overflow the C++ stack).
  void check_tree(const PyValue* root) {
    std::unordered_map<const PyValue*, int> state;  // 1 = on the current path, 2 = done
    std::vector<std::pair<const PyValue*, size_t>> path{{root, 0}};
    state[root] = 1;
    while (!path.empty()) {
      auto& [v, next] = path.back();
      if (next == 0) {
        need(v->type != T::Global && v->type != T::Dtype, "a bare ", v->type_name(), " is left in the data");
        need(v->type != T::Array || v->array, "a numpy array was never given its data (no BUILD)");
      }
      if (next < v->items.size()) {
        const PyValue* c = v->items[next++];
        int& st = state[c];
        need(st != 1, "a ", c->type_name(), " contains itself");
        if (st == 2) continue;
        need(path.size() < kMaxDepth, "values nest deeper than ", kMaxDepth, " levels");
        st = 1;
        path.emplace_back(c, 0);
        continue;
      }
      state[v] = 2;
      path.pop_back();
    }
  }
};

}  // namespace

int64_t PyArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

double PyArray::at(int64_t i) const {
  const uint8_t* p = &data[size_t(i) * size_t(itemsize)];
  uint64_t u = 0;
  for (int j = itemsize - 1; j >= 0; --j) u = u << 8 | p[j];
  switch (kind) {
    case 'f':
      if (itemsize == 2) return half_to_double(uint16_t(u));
      if (itemsize == 4) {
        float f;
        const uint32_t b = uint32_t(u);
        std::memcpy(&f, &b, 4);
        return f;
      } else {
        double d;
        std::memcpy(&d, &u, 8);
        return d;
      }
    case 'i':
      if (itemsize < 8 && (u >> (8 * itemsize - 1)) & 1) u |= ~uint64_t(0) << (8 * itemsize);
      return double(int64_t(u));
    default: return double(u);
  }
}

double PyValue::number() const {
  switch (type) {
    case Type::Int: return double(i);
    case Type::Float: return f;
    case Type::Bool: return b ? 1 : 0;
    case Type::Array:
      if (array && array->size() == 1) return array->at(0);
      break;
    default: break;
  }
  throw Error(std::string("expected a number, got a ") + type_name());
}

const PyValue* PyValue::get(const std::string& key) const {
  if (type != Type::Dict) return nullptr;
  for (size_t k = items.size(); k >= 2; k -= 2)
    if (items[k - 2]->type == Type::Str && items[k - 2]->s == key) return items[k - 1];
  return nullptr;
}

const char* PyValue::type_name() const {
  switch (type) {
    case Type::None: return "None";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::Str: return "str";
    case Type::Bytes: return "bytes";
    case Type::List: return "list";
    case Type::Tuple: return "tuple";
    case Type::Dict: return "dict";
    case Type::Array: return "numpy array";
    case Type::Global: return "global name";
    case Type::Dtype: return "numpy dtype";
  }
  return "?";
}

PyValue* Pickle::make() {
  values_.push_back(std::make_unique<PyValue>());
  return values_.back().get();
}

Pickle parse_pickle(const uint8_t* data, size_t size, const std::string& what) {
  Pickle p;
  p.root = Reader(data, size, what, p).run();
  return p;
}

}  // namespace facet::faces
