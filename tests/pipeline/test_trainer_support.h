// Shared pieces of the trainer tests: synthetic face sets on disk, a micro SAEHD configuration
// (the `tiny` preset shrunk further, so a training iteration costs tens of milliseconds on the
// CPU and the mechanics tests stay fast), and reading a model folder's weights back.
#pragma once
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/io/safetensors.h"
#include "pipeline/train/model_folder.h"
#include "pipeline/train/synthetic_faces.h"
#include "pipeline/train/trainer.h"
#include "pipeline_test_support.h"

namespace facet::testing {

// Writes synthetic face sets <dir>/src (identity A) and <dir>/dst (identity B).
inline void write_face_sets(const std::string& dir, int count = 8, int size = 64) {
  train::SyntheticFaceSetOptions o;
  o.count = count;
  o.size = size;
  train::write_synthetic_face_set(dir + "/src", train::SyntheticIdentity::A, o);
  train::write_synthetic_face_set(dir + "/dst", train::SyntheticIdentity::B, o);
}

// df-ud 64 px, ae 16, e 8, d 8, m 4: about 0.1M parameters.
inline train::TrainRequest micro_request(int64_t target_iter, uint64_t seed = 11) {
  train::TrainRequest r;
  r.preset = "tiny";  // brings allow_small_dims
  r.ae_dims = 16, r.e_dims = 8, r.d_dims = 8, r.d_mask_dims = 4;
  r.batch = 2;
  r.target_iter = target_iter;
  r.seed = seed;
  r.lr = 1e-3;
  r.status_every = 4;
  r.preview_every = 0;
  r.autosave_min = 0;
  r.backups = 2;
  return r;
}

inline train::TrainerConfig micro_config(const std::string& dir, int64_t target_iter, uint64_t seed = 11) {
  train::TrainerConfig c;
  c.src_dir = dir + "/src";
  c.dst_dir = dir + "/dst";
  c.model_dir = dir + "/model";
  c.request = micro_request(target_iter, seed);
  c.cpu = true;
  c.deterministic = true;
  c.preview_count = 2;
  c.log = [](const std::string&) {};
  return c;
}

// The committed weights of a model folder: name -> values.
inline std::map<std::string, std::vector<float>> folder_weights(const std::string& model_dir) {
  train::ModelFolder f(model_dir);
  const train::TrainState s = f.read_state();
  Context ctx(Device::cpu());
  std::map<std::string, std::vector<float>> out;
  for (auto& [name, t] : load_safetensors(ctx, f.file(s.weights_file)).tensors) out[name] = t.to_float(ctx);
  return out;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace facet::testing
