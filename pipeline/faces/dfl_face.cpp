// DeepFaceLab face files (see dfl_face.h). The dict's values arrive in the shapes DFL's tools
// write them (mainscripts/Extractor.py, XSegEditor, XSegUtil.py): landmarks as nested lists of
// floats (`.tolist()`), source_rect and image_to_face_mat as numpy arrays, seg_ie_polys as
// {'polys': [{'type': 0|1, 'pts': float32 array}]} (or the older [(type, pts), ...]), xseg_mask
// as the uint8 numpy array cv2.imencode returns. Each accessor accepts lists, tuples and arrays alike.
#include "pipeline/faces/dfl_face.h"

#include <algorithm>
#include <map>

#include "engine/core/error.h"
#include "pipeline/faces/python_pickle.h"

namespace facet::faces {

namespace {

using T = PyValue::Type;

bool is_sequence(const PyValue* v) { return v->type == T::List || v->type == T::Tuple; }

// A flat list of numbers from a (nested) list/tuple or an array, with the shape it had.
void flatten(const PyValue* v, std::vector<double>& out, std::vector<int64_t>& shape, size_t depth,
             const std::string& what) {
  if (v->type == T::Array) {
    const PyArray& a = *v->array;
    if (depth == shape.size()) shape.insert(shape.end(), a.shape.begin(), a.shape.end());
    for (int64_t i = 0; i < a.size(); ++i) out.push_back(a.at(i));
    return;
  }
  if (v->is_number()) {
    out.push_back(v->number());
    return;
  }
  FACET_CHECK(is_sequence(v), what, " holds a ", v->type_name(), " where numbers are expected");
  FACET_CHECK(depth < 4, what, " is nested too deeply");
  if (depth == shape.size()) shape.push_back(int64_t(v->items.size()));
  for (const PyValue* c : v->items) flatten(c, out, shape, depth + 1, what);
}

std::vector<double> numbers(const PyValue* v, const std::string& what, std::vector<int64_t>* shape_out = nullptr) {
  std::vector<double> out;
  std::vector<int64_t> shape;
  flatten(v, out, shape, 0, what);
  if (shape_out) *shape_out = shape;
  return out;
}

Landmarks points(const PyValue* v, const std::string& what) {
  std::vector<int64_t> shape;
  const std::vector<double> xy = numbers(v, what, &shape);
  FACET_CHECK(xy.empty() || (shape.size() == 2 && shape[1] == 2 && int64_t(xy.size()) == shape[0] * 2), what,
              " must be a list of [x, y] points");
  Landmarks l;
  for (size_t i = 0; i + 1 < xy.size(); i += 2) l.emplace_back(xy[i], xy[i + 1]);
  return l;
}

const PyValue* present(const PyValue& dict, const char* key) {
  const PyValue* v = dict.get(key);
  return v && v->type != T::None ? v : nullptr;
}

std::vector<SegPolygon> seg_polygons(const PyValue* v, const std::string& what) {
  // SegIEPolys.load: a dict {'polys': [...]} or the older list of (type, pts) pairs
  std::vector<std::pair<const PyValue*, const PyValue*>> raw;  // type, pts
  if (v->type == T::Dict) {
    const PyValue* polys = v->get("polys");
    FACET_CHECK(polys && is_sequence(polys), what, ": seg_ie_polys has no 'polys' list");
    for (const PyValue* p : polys->items) {
      FACET_CHECK(p->type == T::Dict && p->get("type") && p->get("pts"), what,
                  ": seg_ie_polys entries must be dicts with 'type' and 'pts'");
      raw.emplace_back(p->get("type"), p->get("pts"));
    }
  } else {
    FACET_CHECK(is_sequence(v), what, ": seg_ie_polys is a ", v->type_name(), ", not a dict or list");
    for (const PyValue* p : v->items) {
      FACET_CHECK(is_sequence(p) && p->items.size() == 2, what, ": seg_ie_polys entries must be (type, points) pairs");
      raw.emplace_back(p->items[0], p->items[1]);
    }
  }
  std::vector<SegPolygon> includes, excludes;  // SegIEPolys.sort(): includes first, then excludes
  for (const auto& [type, pts] : raw) {
    FACET_CHECK(type->type == T::Int || type->type == T::Bool, what, ": seg_ie_polys type is a ", type->type_name());
    const int64_t t = type->type == T::Int ? type->i : int64_t(type->b);
    FACET_CHECK(t == 0 || t == 1, what, ": seg_ie_polys type ", t, " is neither 1 (include) nor 0 (exclude)");
    SegPolygon p{t == 1, points(pts, what + ": seg_ie_polys points")};
    (p.include ? includes : excludes).push_back(std::move(p));
  }
  includes.insert(includes.end(), excludes.begin(), excludes.end());
  return includes;
}

std::vector<uint8_t> xseg_mask_bytes(const PyValue* v, const std::string& what) {
  if (v->type == T::Bytes) return std::vector<uint8_t>(v->s.begin(), v->s.end());
  FACET_CHECK(v->type == T::Array && v->array->kind == 'u' && v->array->itemsize == 1, what,
              ": xseg_mask is a ", v->type_name(), ", expected the uint8 buffer of an encoded image");
  return v->array->data;
}

}  // namespace

FaceMetadata dfl_metadata_from_dict(const PyValue& d, int width, int height, const std::string& what) {
  FACET_CHECK(d.type == T::Dict, what, ": DeepFaceLab metadata is a ", d.type_name(), ", not a dict");
  FaceMetadata m;
  m.width = width, m.height = height;
  const PyValue* ft = present(d, "face_type");
  const std::string type = ft ? (ft->type == T::Str ? ft->s : std::string()) : "full_face";  // DFLJPG.get_face_type
  FACET_CHECK(!type.empty(), what, ": DeepFaceLab face_type is a ", ft ? ft->type_name() : "", ", not a name");
  FACET_CHECK(type != "mark_only", what, ": a DeepFaceLab 'mark_only' face is a whole frame, not an aligned face");
  try {
    m.face_type = parse_face_type(type);
  } catch (const Error&) {
    throw Error(what + ": unknown DeepFaceLab face_type '" + type + "'");
  }

  const PyValue* lm = present(d, "landmarks");
  FACET_CHECK(lm, what, ": DeepFaceLab metadata has no landmarks");
  m.landmarks = points(lm, what + ": landmarks");
  FACET_CHECK(m.landmarks.size() == 68, what, ": landmarks has ", m.landmarks.size(), " points, expected 68");

  if (const PyValue* v = present(d, "source_filename")) {
    FACET_CHECK(v->type == T::Str, what, ": source_filename is a ", v->type_name());
    m.source_filename = v->s;
  }
  if (const PyValue* v = present(d, "source_rect")) {
    const std::vector<double> r = numbers(v, what + ": source_rect");
    FACET_CHECK(r.size() == 4, what, ": source_rect has ", r.size(), " numbers, expected 4 (left, top, right, bottom)");
    std::copy(r.begin(), r.end(), m.source_rect.begin());
  }
  if (const PyValue* v = present(d, "source_landmarks")) {
    m.source_landmarks = points(v, what + ": source_landmarks");
    FACET_CHECK(m.source_landmarks.empty() || m.source_landmarks.size() == 68, what, ": source_landmarks has ",
                m.source_landmarks.size(), " points, expected 68");
  }
  if (const PyValue* v = present(d, "image_to_face_mat")) {
    std::vector<int64_t> shape;
    const std::vector<double> a = numbers(v, what + ": image_to_face_mat", &shape);
    FACET_CHECK(a.size() == 6 && shape.size() == 2, what, ": image_to_face_mat must be 2x3");
    for (int k = 0; k < 6; ++k) m.image_to_face(k / 3, k % 3) = a[size_t(k)];
  } else if (m.source_landmarks.size() == 68 && width > 0) {
    // what DFL's merger itself does: the matrix from the frame landmarks (merger/MergeMasked.py)
    m.image_to_face = get_transform_mat(m.source_landmarks, width, m.face_type);
  }
  if (const PyValue* v = present(d, "eyebrows_expand_mod")) {
    FACET_CHECK(v->is_number() || v->type == T::Array, what, ": eyebrows_expand_mod is a ", v->type_name());
    m.eyebrows_expand_mod = v->number();
  }
  if (const PyValue* v = present(d, "seg_ie_polys")) m.seg_polygons = seg_polygons(v, what);
  if (const PyValue* v = present(d, "xseg_mask")) m.xseg_mask = xseg_mask_bytes(v, what);
  return m;
}

std::optional<FaceMetadata> read_dfl_metadata(const std::vector<uint8_t>& jpeg, const std::string& what) {
  const std::optional<std::string> app15 = extract_foreign_jpeg_app15(jpeg, what);
  // Every pickle of protocol 2 or later starts with PROTO (0x80); other APP15 users are not DFL.
  if (!app15 || app15->empty() || uint8_t((*app15)[0]) != 0x80) return std::nullopt;
  const auto [w, h] = jpeg_dimensions(jpeg, what);
  const Pickle p = parse_pickle(reinterpret_cast<const uint8_t*>(app15->data()), app15->size(), what);
  return dfl_metadata_from_dict(*p.root, w, h, what);
}

Alignments alignments_from_frame_files(FaceSet& set, const std::vector<std::string>& frame_files,
                                       const std::string& source, std::vector<std::string>* unmatched) {
  std::map<std::string, int64_t> frame_of;
  for (size_t i = 0; i < frame_files.size(); ++i) frame_of.emplace(frame_files[i], int64_t(i));
  Alignments al;
  al.source = source;
  // Every frame of the folder was looked at by DFL's extractor: frames without faces are listed empty.
  for (size_t i = 0; i < frame_files.size(); ++i) al.frames.push_back({int64_t(i), -1, {}});
  bool first = true;
  for (FaceSetEntry& e : set.faces) {  // natural file-name order, so "00001_0" before "00001_1"
    FaceMetadata& m = e.meta;
    auto it = frame_of.find(m.source_filename);
    if (it == frame_of.end()) {
      if (unmatched) unmatched->push_back(e.filename);
      continue;
    }
    FrameAlignments& f = al.frames[size_t(it->second)];
    m.source_frame = it->second;
    m.face_index = int(f.faces.size());
    f.faces.push_back({m.face_index, e.filename, m.source_rect, m.source_landmarks, m.image_to_face});
    if (first) al.face_type = m.face_type, al.face_size = m.width, first = false;
  }
  return al;
}

}  // namespace facet::faces
