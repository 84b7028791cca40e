// options.json: creation, resume rules and (de)serialisation (see train_options.h).
#include "pipeline/train/train_options.h"

#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "pipeline/common/time_text.h"
#include "pipeline/train/train_option_table.h"

namespace facet::train {

using nlohmann::json;

namespace {

template <typename T>
std::string str(const T& v) {
  std::ostringstream os;
  os.precision(12);
  if constexpr (std::is_same_v<T, bool>)
    os << (v ? "true" : "false");
  else
    os << v;
  return os.str();
}

// Applies a requested network option over `net` (creation) or compares it (resume).
struct FixedField {
  std::string name;
  std::string stored, requested;
};

std::vector<FixedField> requested_fixed(const ModelSpec& stored, const TrainRequest& req) {
  std::vector<FixedField> f;
  const models::SaehdOptions& n = stored.net;
  // A preset names a whole network; explicit options override it, as at creation. Compare every
  // field the request determines.
  std::optional<models::SaehdOptions> p;
  if (req.preset) p = models::saehd_preset(*req.preset);
  const char* via = req.preset ? " (from --preset and the options given)" : "";
  auto cmp = [&](const char* name, const std::string& have, std::optional<std::string> want) {
    if (want) f.push_back({std::string(name) + via, have, *want});
  };
  auto pick_int = [&](std::optional<int> explicit_v, int models::SaehdOptions::*field) -> std::optional<std::string> {
    if (explicit_v) return str(*explicit_v);
    if (p) return str((*p).*field);
    return std::nullopt;
  };
  cmp("resolution", str(n.resolution), pick_int(req.resolution, &models::SaehdOptions::resolution));
  cmp("ae_dims", str(n.ae_dims), pick_int(req.ae_dims, &models::SaehdOptions::ae_dims));
  cmp("e_dims", str(n.e_dims), pick_int(req.e_dims, &models::SaehdOptions::e_dims));
  cmp("d_dims", str(n.d_dims), pick_int(req.d_dims, &models::SaehdOptions::d_dims));
  if (req.d_mask_dims) {
    cmp("d_mask_dims", str(n.d_mask_dims), str(*req.d_mask_dims));
  } else if (p || req.d_dims) {
    const int d = req.d_dims ? *req.d_dims : p->d_dims;
    const bool small = p ? p->allow_small_dims : n.allow_small_dims;
    cmp("d_mask_dims", str(n.d_mask_dims), str(req.d_dims ? models::default_d_mask_dims(d, small) : p->d_mask_dims));
  }
  if (req.archi || p)
    cmp("archi", models::parse_archi(n.archi).str(), models::parse_archi(req.archi ? *req.archi : p->archi).str());
  if (req.face_type) cmp("face_type", n.face_type, *req.face_type);  // presets do not choose it
  if (req.optimizer) f.push_back({"optimizer", stored.optimizer, *req.optimizer});
  if (req.seed) f.push_back({"seed", str(stored.seed), str(*req.seed)});
  return f;
}

// Applies the changeable options of `req` to `s`; calls on_change(name, from, to) for each
// value that differs.
template <typename F>
void apply_settings(TrainSettings& s, const TrainRequest& req, F&& on_change) {
  for_each_train_option([&](const auto& o) {
    if (o.fixed()) return;
    auto& field = s.*o.setting;
    const auto& want = req.*o.requested;
    if (!want || *want == field) return;
    on_change(o.name, str(field), str(*want));
    field = *want;
  });
}

json settings_json(const TrainSettings& s) {
  json j = json::object();
  for_each_train_option([&](const auto& o) {
    if (!o.fixed()) j[o.name] = s.*o.setting;
  });
  return j;
}

// "preset, resolution, ...": the fixed options, for the message refusing a change.
std::string fixed_option_names() {
  std::string names;
  for_each_train_option([&](const auto& o) {
    if (o.fixed()) names += (names.empty() ? "" : ", ") + std::string(o.name);
  });
  return names;
}

template <typename T>
void get_if(const json& j, const char* key, T& v) {
  if (j.contains(key)) v = j.at(key).get<T>();
}

}  // namespace

void check_optimizer_name(const std::string& name) {
  FACET_CHECK(name == "adabelief" || name == "adam" || name == "rmsprop", "unknown optimizer '", name,
              "' (choose adabelief, adam or rmsprop)");
}

void check_ct_mode(const std::string& mode) {
  const bool dfl_only = mode == "lct" || mode == "mkl" || mode == "idt" || mode == "sot";
  FACET_CHECK(!dfl_only, "ct_mode '", mode, "' is not supported: facet implements ct_mode none and rct (DeepFaceLab's ",
              "lct, mkl, idt and sot are not implemented)");
  FACET_CHECK(mode == "none" || mode == "rct", "unknown ct_mode '", mode, "' (choose none or rct)");
}

void validate_settings(const TrainSettings& s) {
  FACET_CHECK(s.batch >= 1 && s.batch <= 4096, "batch = ", s.batch, " must be in 1..4096 (faces per side)");
  FACET_CHECK(s.target_iter >= 0, "target iteration ", s.target_iter, " must be >= 0 (0 = no target)");
  FACET_CHECK(s.lr > 0 && s.lr < 1, "lr = ", s.lr, " must be in (0, 1)");
  FACET_CHECK(s.autosave_min >= 0, "autosave_min = ", s.autosave_min, " must be >= 0 (0 = off)");
  FACET_CHECK(s.backups >= 0, "backups = ", s.backups, " must be >= 0");
  FACET_CHECK(s.preview_every >= 0, "preview_every = ", s.preview_every, " must be >= 0 (0 = only at saves)");
  FACET_CHECK(s.status_every >= 1, "status_every = ", s.status_every, " must be >= 1");
  FACET_CHECK(s.random_hsv_power >= 0 && s.random_hsv_power <= 0.3, "random_hsv_power = ", s.random_hsv_power,
              " must be in 0..0.3 (DFL's range; 0 = off)");
  check_ct_mode(s.ct_mode);
  FACET_CHECK(s.face_style_power >= 0 && s.face_style_power <= 100, "face_style_power = ", s.face_style_power,
              " must be in 0..100 (DFL's range; 0 = off)");
  FACET_CHECK(s.bg_style_power >= 0 && s.bg_style_power <= 100, "bg_style_power = ", s.bg_style_power,
              " must be in 0..100 (DFL's range; 0 = off)");
}

ModelRecord new_model_record(const TrainRequest& req, Device device) {
  ModelRecord r;
  r.created_utc = utc_now();
  r.spec.preset = req.preset.value_or("saehd");
  models::SaehdOptions n = models::saehd_preset(r.spec.preset);
  for_each_train_option([&](const auto& o) {
    if (o.network && req.*o.requested) n.*o.network = *(req.*o.requested);
  });
  if (req.d_dims && !req.d_mask_dims) n.d_mask_dims = 0;  // re-derive from the new d_dims
  r.spec.net = models::validated(n);
  r.spec.net.archi = models::parse_archi(r.spec.net.archi).str();
  r.spec.optimizer = req.optimizer.value_or("adabelief");
  check_optimizer_name(r.spec.optimizer);
  r.spec.seed = req.seed ? *req.seed : (static_cast<uint64_t>(std::random_device{}()) << 32 | std::random_device{}());
  r.settings.batch = device.is_cpu() ? 4 : 8;
  r.settings.masked_training = r.spec.net.masked_training;
  r.settings.eyes_mouth_prio = r.spec.net.eyes_mouth_prio;
  apply_settings(r.settings, req, [](const char*, const std::string&, const std::string&) {});
  validate_settings(r.settings);
  return r;
}

ModelRecord resume_model_record(const ModelRecord& stored, const TrainRequest& req, int64_t iteration) {
  for (const FixedField& f : requested_fixed(stored.spec, req))
    FACET_CHECK(f.stored == f.requested, "option ", f.name, " is fixed when a model is created: this model has ",
                f.stored, ", the command line asks for ", f.requested, ". Fixed options: ", fixed_option_names(),
                ". Drop the option to continue this model, or train a new model folder.");
  ModelRecord r = stored;
  apply_settings(r.settings, req, [&](const char* name, const std::string& from, const std::string& to) {
    r.changes.push_back({iteration, name, from, to});
  });
  validate_settings(r.settings);
  return r;
}

std::string model_record_to_json(const ModelRecord& r) {
  const models::SaehdOptions& n = r.spec.net;
  json model = {{"type", "saehd"}, {"allow_small_dims", n.allow_small_dims}};
  for_each_train_option([&](const auto& o) {
    if (o.network) model[o.name] = n.*o.network;
  });
  json j = {{"facet_model", r.version},
            {"created_utc", r.created_utc},
            {"preset", r.spec.preset},
            {"model", model},
            {"optimizer", r.spec.optimizer},
            {"seed", std::to_string(r.spec.seed)},  // a string: JSON readers may hold numbers in doubles
            {"train", settings_json(r.settings)},
            {"changes", json::array()}};
  for (const OptionChange& c : r.changes)
    j["changes"].push_back({{"iteration", c.iteration}, {"option", c.option}, {"from", c.from}, {"to", c.to}});
  return j.dump(1) + "\n";
}

ModelRecord model_record_from_json(const std::string& text, const std::string& what) {
  try {
    const json j = json::parse(text);
    ModelRecord r;
    r.version = j.at("facet_model").get<int>();
    FACET_CHECK(r.version <= kModelFormatVersion, what, ": model format version ", r.version,
                " is newer than this facet understands (", kModelFormatVersion, ")");
    get_if(j, "created_utc", r.created_utc);
    get_if(j, "preset", r.spec.preset);
    const json& m = j.at("model");
    FACET_CHECK(m.value("type", std::string("saehd")) == "saehd", what, ": unknown model type ", m.value("type", ""));
    models::SaehdOptions& n = r.spec.net;
    for_each_train_option([&](const auto& o) {
      if (o.network) m.at(o.name).get_to(n.*o.network);  // required: they shape the network
    });
    get_if(m, "allow_small_dims", n.allow_small_dims);
    n = models::validated(n);
    r.spec.optimizer = j.at("optimizer").get<std::string>();
    check_optimizer_name(r.spec.optimizer);
    r.spec.seed = std::stoull(j.at("seed").get<std::string>());
    const json& t = j.at("train");
    TrainSettings& s = r.settings;
    // A setting absent (from a file older than the setting) keeps its default.
    for_each_train_option([&](const auto& o) {
      if (!o.fixed()) get_if(t, o.name, s.*o.setting);
    });
    validate_settings(s);
    if (j.contains("changes"))
      for (const json& c : j["changes"])
        r.changes.push_back({c.at("iteration").get<int64_t>(), c.at("option").get<std::string>(),
                             c.at("from").get<std::string>(), c.at("to").get<std::string>()});
    return r;
  } catch (const json::exception& e) {
    throw Error(detail::concat(what, ": malformed model options (", e.what(), ")"));
  } catch (const std::logic_error& e) {  // stoull
    throw Error(detail::concat(what, ": malformed model options (", e.what(), ")"));
  }
}

TrainSettings pretrain_overrides(const TrainSettings& s) {
  if (!s.pretrain) return s;
  TrainSettings e = s;
  e.random_warp = false;
  e.src_flip = e.dst_flip = true;
  e.uniform_yaw = true;
  e.face_style_power = e.bg_style_power = 0;
  e.random_hsv_power = 0;
  e.ct_mode = "none";
  e.lr_dropout = false;
  return e;
}

models::SaehdOptions loss_options(const ModelRecord& r) {
  models::SaehdOptions o = r.spec.net;
  o.masked_training = r.settings.masked_training;
  o.eyes_mouth_prio = r.settings.eyes_mouth_prio;
  return o;
}

}  // namespace facet::train
