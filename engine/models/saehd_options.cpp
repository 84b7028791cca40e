// Validation and presets for SaehdOptions; ranges from DFL's prompts (Model_SAEHD/Model.py L17-184).
#include "engine/models/saehd_options.h"

#include <algorithm>

#include "engine/core/error.h"
#include "engine/core/range_check.h"

namespace facet::models {

std::string Archi::str() const {
  std::string s = is_df() ? "df" : "liae";
  if (u || d || t) s += "-";
  if (u) s += "u";
  if (d) s += "d";
  if (t) s += "t";
  return s;
}

Archi parse_archi(const std::string& archi) {
  const std::string help = " (expected \"df\" or \"liae\", optionally followed by \"-\" and any of u, d, t, e.g. \"liae-ud\")";
  Archi a;
  const size_t dash = archi.find('-');
  const std::string type = archi.substr(0, dash);
  if (type == "df") {
    a.type = Archi::Type::DF;
  } else if (type == "liae") {
    a.type = Archi::Type::LIAE;
  } else {
    throw Error(detail::concat("archi: unknown type \"", type, "\" in \"", archi, "\"", help));
  }
  if (dash == std::string::npos) return a;
  const std::string opts = archi.substr(dash + 1);
  FACET_CHECK(!opts.empty(), "archi: \"", archi, "\" has no options after \"-\"", help);
  for (char c : opts) {
    if (c == 'u') {
      a.u = true;
    } else if (c == 'd') {
      a.d = true;
    } else if (c == 't') {
      a.t = true;
    } else if (c == 'c') {
      throw Error(detail::concat("archi: option 'c' (x*cos(x) activations) in \"", archi, "\" is not supported", help));
    } else {
      throw Error(detail::concat("archi: unknown option '", c, "' in \"", archi, "\"", help));
    }
  }
  return a;
}

int default_d_mask_dims(int d_dims, bool allow_small_dims) {
  int m = d_dims / 3;
  m += m % 2;
  return std::max(m, allow_small_dims ? 2 : 16);
}

namespace {

void check_dims(const char* name, int v, int lo, int hi, bool even) {
  check_range<int>(name, v, lo, hi, even ? ", even" : "");
  FACET_CHECK(!even || v % 2 == 0, name, " = ", v, " must be even (allowed ", lo, "..", hi, ", even)");
}

}  // namespace

SaehdOptions validated(const SaehdOptions& in) {
  SaehdOptions o = in;
  const Archi a = parse_archi(o.archi);
  // `d` puts the Inter at R/32; `t` adds a fifth stride-2 conv, whose output only matches the
  // R//32 that DFL sizes the Inter with (DeepFakeArchi.py, Encoder.get_out_res) when R is a
  // multiple of 32. Read from DFL's source; DFL's behaviour otherwise was not run.
  const int mult = (a.d || a.t) ? 32 : 16;
  check_range("resolution", o.resolution, 64, 512, ", a multiple of " + std::to_string(mult));
  FACET_CHECK(o.resolution % mult == 0, "resolution = ", o.resolution, " must be a multiple of ", mult,
              " for archi \"", o.archi, "\"", mult == 32 ? " (the `d` and `t` options need 32)" : "",
              "; allowed 64..512");
  const std::vector<std::string> faces = {"h", "mf", "f", "wf", "head"};
  FACET_CHECK(std::find(faces.begin(), faces.end(), o.face_type) != faces.end(), "face_type = \"", o.face_type,
              "\" is not one of h, mf, f, wf, head");
  const int small = o.allow_small_dims ? 2 : 0;
  check_dims("ae_dims", o.ae_dims, small ? small : 32, 1024, false);
  check_dims("e_dims", o.e_dims, small ? small : 16, 256, true);
  check_dims("d_dims", o.d_dims, small ? small : 16, 256, true);
  if (o.d_mask_dims == 0) o.d_mask_dims = default_d_mask_dims(o.d_dims, o.allow_small_dims);
  check_dims("d_mask_dims", o.d_mask_dims, small ? small : 16, 256, true);
  return o;
}

SaehdOptions saehd_preset(const std::string& name) {
  SaehdOptions o;
  if (name == "quick96") {
    o.resolution = 96;
    o.archi = "df-ud";
    o.ae_dims = 128;
    o.e_dims = 64;
    o.d_dims = 64;
    o.d_mask_dims = 16;
  } else if (name == "saehd") {
    o.resolution = 128;
    o.archi = "liae-ud";
    o.ae_dims = 256;
    o.e_dims = 64;
    o.d_dims = 64;
    o.d_mask_dims = 22;
  } else if (name == "df128") {
    o.resolution = 128;
    o.archi = "df-ud";
    o.ae_dims = 256;
    o.e_dims = 64;
    o.d_dims = 64;
    o.d_mask_dims = 22;
  } else if (name == "tiny") {
    o.resolution = 64;
    o.archi = "df-ud";
    o.ae_dims = 64;
    o.e_dims = 16;
    o.d_dims = 16;
    o.d_mask_dims = 8;
    o.allow_small_dims = true;  // d_mask_dims 8 is below DFL's 16
  } else {
    std::string names;
    for (const auto& n : saehd_preset_names()) names += (names.empty() ? "" : ", ") + n;
    throw Error(detail::concat("unknown SAEHD preset \"", name, "\" (known: ", names, ")"));
  }
  return validated(o);
}

std::vector<std::string> saehd_preset_names() { return {"quick96", "saehd", "df128", "tiny"}; }

int encoder_out_res(const SaehdOptions& opt) { return opt.resolution / (parse_archi(opt.archi).t ? 32 : 16); }

int lowest_dense_res(const SaehdOptions& opt) { return opt.resolution / (parse_archi(opt.archi).d ? 32 : 16); }

int inter_out_res(const SaehdOptions& opt) { return lowest_dense_res(opt) * (parse_archi(opt.archi).t ? 1 : 2); }

int decoder_in_channels(const SaehdOptions& opt) { return parse_archi(opt.archi).is_df() ? opt.ae_dims : 4 * opt.ae_dims; }

}  // namespace facet::models
