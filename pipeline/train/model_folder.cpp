// Checkpoints, state.json and backups of a model folder (see model_folder.h).
#include "pipeline/train/model_folder.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/read_file.h"
#include "engine/io/safetensors.h"
#include "pipeline/common/time_text.h"

namespace facet::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string iter_tag(int64_t it) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(it));
  return buf;
}

json sampler_json(const SamplerState& s) {
  // Offsets as strings: they are 64-bit and JSON readers may keep numbers in doubles.
  json j = {{"perm_offset", std::to_string(s.perm_offset)}, {"pos", s.pos}, {"epoch", s.epoch}};
  if (!s.in_bin.empty()) {  // uniform_yaw: one state per yaw bin
    j["in_bin"] = json::array();
    for (const SamplerState& b : s.in_bin) j["in_bin"].push_back(sampler_json(b));
  }
  return j;
}
SamplerState sampler_from(const json& j) {
  SamplerState s;
  s.perm_offset = std::stoull(j.at("perm_offset").get<std::string>());
  s.pos = j.at("pos").get<int64_t>();
  s.epoch = j.at("epoch").get<int64_t>();
  if (j.contains("in_bin"))
    for (const json& b : j.at("in_bin")) s.in_bin.push_back(sampler_from(b));
  return s;
}

bool is_checkpoint_file(const std::string& name) {
  auto ends_with = [&](const char* suf) {
    const size_t n = std::char_traits<char>::length(suf);
    return name.size() >= n && name.compare(name.size() - n, n, suf) == 0;
  };
  return (name.rfind("weights-", 0) == 0 || name.rfind("optimizer-", 0) == 0) &&
         (ends_with(".safetensors") || name.find(".safetensors.tmp-") != std::string::npos);
}

// Removes checkpoint files (and leftover temporaries of killed saves) not named by `keep`.
void remove_stale_checkpoint_files(const ModelFolder& folder, const std::vector<std::string>& keep) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder.dir(), ec)) {
    const std::string name = e.path().filename().string();
    if (!is_checkpoint_file(name) || std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    fs::remove(e.path(), ec);  // best effort: a file left behind costs disk, never correctness
  }
}

}  // namespace

std::string train_state_to_json(const TrainState& s) {
  json j = {{"facet_train_state", kStateFormatVersion},
            {"iteration", s.iteration},
            {"rng_seed", std::to_string(s.rng_seed)},
            {"rng_offset", std::to_string(s.rng_offset)},
            {"src_sampler", sampler_json(s.src_sampler)},
            {"dst_sampler", sampler_json(s.dst_sampler)},
            {"src_faces", s.src_faces},
            {"dst_faces", s.dst_faces},
            {"weights", s.weights_file},
            {"optimizer", s.optimizer_file},
            {"loss_csv_bytes", s.loss_csv_bytes},
            {"nan_skipped", s.nan_skipped},
            {"train_seconds", s.train_seconds},
            {"saved_utc", s.saved_utc}};
  if (!s.precision.empty()) j["precision"] = s.precision;
  return j.dump(1) + "\n";
}

TrainState train_state_from_json(const std::string& text, const std::string& what) {
  try {
    const json j = json::parse(text);
    const int v = j.at("facet_train_state").get<int>();
    FACET_CHECK(v <= kStateFormatVersion, what, ": state format ", v, " is newer than this facet understands");
    TrainState s;
    s.iteration = j.at("iteration").get<int64_t>();
    s.rng_seed = std::stoull(j.at("rng_seed").get<std::string>());
    s.rng_offset = std::stoull(j.at("rng_offset").get<std::string>());
    s.src_sampler = sampler_from(j.at("src_sampler"));
    s.dst_sampler = sampler_from(j.at("dst_sampler"));
    s.src_faces = j.at("src_faces").get<int64_t>();
    s.dst_faces = j.at("dst_faces").get<int64_t>();
    s.weights_file = j.at("weights").get<std::string>();
    s.optimizer_file = j.at("optimizer").get<std::string>();
    s.loss_csv_bytes = j.at("loss_csv_bytes").get<int64_t>();
    s.nan_skipped = j.value("nan_skipped", int64_t{0});
    s.train_seconds = j.value("train_seconds", 0.0);
    s.saved_utc = j.value("saved_utc", std::string());
    s.precision = j.value("precision", std::string());
    FACET_CHECK(s.iteration >= 0 && s.loss_csv_bytes >= 0, what, ": negative iteration or loss history size");
    for (const std::string* f : {&s.weights_file, &s.optimizer_file})
      FACET_CHECK(!f->empty() && f->find('/') == std::string::npos && f->find("..") == std::string::npos, what,
                  ": bad checkpoint file name '", *f, "'");
    return s;
  } catch (const json::exception& e) {
    throw Error(detail::concat(what, ": malformed training state (", e.what(), ")"));
  } catch (const std::logic_error& e) {
    throw Error(detail::concat(what, ": malformed training state (", e.what(), ")"));
  }
}

ModelFolder::ModelFolder(std::string dir) : dir_(std::move(dir)) {}
std::string ModelFolder::file(const std::string& name) const { return (fs::path(dir_) / name).string(); }
bool ModelFolder::has_options() const { return fs::exists(options_path()); }
bool ModelFolder::has_checkpoint() const { return fs::exists(state_path()); }
ModelRecord ModelFolder::read_options() const {
  return model_record_from_json(read_text_file(options_path()), options_path());
}
void ModelFolder::write_options(const ModelRecord& r) const {
  fs::create_directories(dir_);
  write_string_atomically(options_path(), model_record_to_json(r));
}
TrainState ModelFolder::read_state() const { return train_state_from_json(read_text_file(state_path()), state_path()); }

NamedTensorList checkpoint_weights(const nn::Module& model) { return model.named_parameters(); }

NamedTensorList checkpoint_optimizer_state(const nn::Module& model, Optimizer& opt) {
  ParameterBuffer& pb = opt.parameters();
  std::unordered_map<const TensorImpl*, std::string> names;
  for (const auto& [name, t] : model.named_parameters()) names[t.impl().get()] = name;
  NamedTensorList out;
  for (const auto& [state_name, flat] : opt.state_tensors()) {
    if (state_name == "iterations") {
      out.emplace_back("iterations", flat);
      continue;
    }
    for (size_t i = 0; i < pb.size(); ++i) {
      auto it = names.find(pb.tensors()[i].impl().get());
      FACET_CHECK(it != names.end(), "checkpoint: an optimized parameter is not part of the model");
      out.emplace_back(state_name + "/" + it->second, pb.view_of(flat, i));
    }
  }
  return out;
}

void save_checkpoint(Context& ctx, const ModelFolder& folder, const models::SaehdModel& model, Optimizer& opt,
                     TrainState& state, const SaveStageHook& hook) {
  save_module_checkpoint(ctx, folder, model, opt, state, {{"facet.model", "saehd"}, {"facet.archi", model.archi().str()}},
                         hook);
}

void save_module_checkpoint(Context& ctx, const ModelFolder& folder, const nn::Module& model, Optimizer& opt,
                            TrainState& state, std::map<std::string, std::string> meta, const SaveStageHook& hook) {
  fs::create_directories(folder.dir());
  const std::string tag = iter_tag(state.iteration);
  TrainState next = state;
  next.weights_file = "weights-" + tag + ".safetensors";
  next.optimizer_file = "optimizer-" + tag + ".safetensors";
  next.saved_utc = utc_now();
  meta["facet.iteration"] = std::to_string(state.iteration);
  save_safetensors(ctx, folder.file(next.weights_file), checkpoint_weights(model), meta);
  if (hook) hook("weights");
  std::map<std::string, std::string> ometa = meta;
  ometa["facet.optimizer"] = opt.name();
  save_safetensors(ctx, folder.file(next.optimizer_file), checkpoint_optimizer_state(model, opt), ometa);
  if (hook) hook("optimizer");
  write_string_atomically(folder.state_path(), train_state_to_json(next));  // the commit
  if (hook) hook("state");
  state = next;
  remove_stale_checkpoint_files(folder, {state.weights_file, state.optimizer_file});
}

void load_checkpoint(Context& ctx, const ModelFolder& folder, const TrainState& state, nn::Module& model,
                     Optimizer& opt) {
  load_into(ctx, folder.file(state.weights_file), checkpoint_weights(model));
  load_into(ctx, folder.file(state.optimizer_file), checkpoint_optimizer_state(model, opt));
  const std::vector<double> it = opt.state_tensors().at("iterations").to_double(ctx);
  opt.set_iteration(static_cast<int64_t>(it.at(0)));
}

std::string make_backup(const ModelFolder& folder, const TrainState& state, int keep) {
  if (keep <= 0) return "";
  const fs::path root = folder.backups_dir();
  fs::create_directories(root);
  const fs::path final_dir = root / iter_tag(state.iteration);
  const fs::path tmp = root / (iter_tag(state.iteration) + ".tmp");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);
  // Checkpoint files are never modified in place (atomic saves rename new files over), so a
  // hard link is a safe, free copy; fall back to copying across file systems.
  for (const std::string& name : {state.weights_file, state.optimizer_file}) {
    fs::create_hard_link(folder.file(name), tmp / name, ec);
    if (ec) fs::copy_file(folder.file(name), tmp / name, fs::copy_options::overwrite_existing);
  }
  fs::copy_file(folder.state_path(), tmp / "state.json", fs::copy_options::overwrite_existing);
  fs::copy_file(folder.options_path(), tmp / "options.json", fs::copy_options::overwrite_existing);
  fs::remove_all(final_dir, ec);
  fs::rename(tmp, final_dir);  // a backup folder appears complete or not at all
  // Keep the newest `keep` (names are zero-padded iterations, so name order is age order).
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && e.path().extension() != ".tmp") all.push_back(e.path());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove_all(all[i], ec);
  return final_dir.string();
}

std::unique_ptr<models::SaehdModel> load_trained_model(Context& ctx, const std::string& model_dir,
                                                       ModelRecord* record, TrainState* state) {
  ModelFolder folder(model_dir);
  FACET_CHECK(folder.has_options(), model_dir, ": not a model folder (no options.json)");
  FACET_CHECK(folder.has_checkpoint(), model_dir, ": the model has no saved checkpoint yet (no state.json)");
  ModelRecord r = folder.read_options();
  TrainState s = folder.read_state();
  auto model = models::SaehdModel::create(ctx, r.spec.net, nn::LayerInit{ctx.device(), DType::F32});
  load_into(ctx, folder.file(s.weights_file), checkpoint_weights(*model));
  if (record) *record = r;
  if (state) *state = s;
  return model;
}

}  // namespace facet::train
