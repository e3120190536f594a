// Every policy kind's export computes what the agent computes: the InferenceGraph against the
// agent's act(deterministic) and its differentiable outputs, the TorchScript module (built,
// saved and loaded back) against the graph, and the ONNX model through ONNX's checker.

#include <torch/script.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "policy_kinds.h"
#include "rlforge/agents/supervised.h"
#include "rlforge/export/policy_export.h"
#include "rlforge/inference/policy.h"

namespace fs = std::filesystem;
using namespace rlforge;
using namespace rlforge::test;

namespace {

// Indices: identical except where the reference's two best scores are within `tie` (float
// rounding of a different but equivalent computation may then pick either); returns mismatches.
int64_t index_mismatches(const torch::Tensor& got, const torch::Tensor& expected, const torch::Tensor& scores, double tie) {
  const torch::Tensor top2 = std::get<0>(scores.topk(2, 1));
  const torch::Tensor clear = (top2.select(1, 0) - top2.select(1, 1)) > tie;
  return (got.ne(expected) & clear).sum().item<int64_t>();
}

double max_abs_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("every policy kind exports what the agent computes", "[export]") {
  for (const PolicyKind& kind : policy_kinds()) {
    DYNAMIC_SECTION(kind.name) {
      KindAgent k = make_kind_agent(kind, 11);
      const torch::Tensor observations = held_out_observations(k.config.env, 200, 2'000'011);
      const InferenceGraph graph = k.agent->inference_graph({/*value=*/false, /*distribution=*/true});
      REQUIRE(graph.outputs.at(0).name == "action");
      const std::vector<torch::Tensor> outputs = graph.run(observations);
      const torch::Tensor expected = reference_actions(*k.agent, k.spec, observations);
      const torch::Tensor raw = k.agent->differentiable_outputs(observations).action.detach();

      // The distribution output: logits or Q-values (discrete), the mean (continuous).
      REQUIRE(outputs.size() >= 2);
      if (k.spec.action_space.is_discrete()) {
        CHECK(max_abs_difference(outputs[1], raw) <= 1e-5);
        CHECK(index_mismatches(outputs[0], expected, raw, 1e-5) == 0);
      } else {
        CHECK(max_abs_difference(outputs[0], expected) <= 1e-5);
      }

      // TorchScript: built, saved and read back as torch.jit.load would.
      torch::jit::Module module = to_torchscript(graph);
      std::stringstream bytes;
      module.save(bytes);
      torch::jit::Module loaded = torch::jit::load(bytes);
      torch::NoGradGuard no_grad;
      const auto elements = loaded.forward({observations}).toTuple()->elements();
      REQUIRE(elements.size() == outputs.size());
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        INFO(graph.outputs[i].name);
        CHECK(elements[i].toTensor().scalar_type() == outputs[i].scalar_type());
        CHECK(max_abs_difference(elements[i].toTensor(), outputs[i]) <= 1e-6);
      }

      // ONNX: accepted by ONNX's checker and shape inference (the Python test runs it).
      const std::string onnx = to_onnx(graph, export_metadata(graph, {}));
      CHECK(onnx.size() > 100);
    }
  }
}

TEST_CASE("the value output is the critic's estimate", "[export]") {
  for (const char* name : {"ppo_discrete", "ppo_shared_gelu", "dqn_dueling_elu"}) {
    DYNAMIC_SECTION(name) {
      KindAgent k = make_kind_agent(policy_kind(name), 5);
      const torch::Tensor observations = held_out_observations(k.config.env, 64, 2'000'005);
      const InferenceGraph graph = k.agent->inference_graph({/*value=*/true, /*distribution=*/false});
      REQUIRE(graph.outputs.size() == 2);
      REQUIRE(graph.outputs[1].name == "value");
      const torch::Tensor value = graph.run(observations)[1];
      CHECK(value.dim() == 1);
      CHECK(max_abs_difference(value, k.agent->differentiable_outputs(observations).value.detach()) <= 1e-5);
    }
  }
}

TEST_CASE("a supervised predictor exports its standardisation, its layers and the class", "[export]") {
  torch::manual_seed(4);
  PredictorConfig config;
  config.mlp = {{16, 8}, "tanh", false};
  config.dropout = 0.2;  // the identity at inference
  Predictor predictor(5, 3, config);
  predictor->set_input_statistics(torch::tensor({1.0f, -2.0f, 0.5f, 3.0f, 0.0f}), torch::tensor({2.0f, 0.5f, 1.0f, 4.0f, 0.0f}));
  predictor->eval();
  const torch::Tensor inputs = torch::randn({300, 5}) * 3;
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = predictor->forward(inputs);
  const std::vector<torch::Tensor> classified = predictor->inference_graph(true, {false, true}).run(inputs);
  CHECK(max_abs_difference(classified[1], logits) <= 1e-5);
  CHECK(index_mismatches(classified[0], logits.argmax(1), logits, 1e-5) == 0);
  CHECK(max_abs_difference(predictor->inference_graph(false, {}).run(inputs)[0], logits) <= 1e-5);
}

TEST_CASE("exports that cannot be made say why", "[export]") {
  KindAgent sac = make_kind_agent(policy_kind("sac"), 1);
  REQUIRE(sac.config.algo == "sac");
  CHECK_THROWS_WITH(sac.agent->inference_graph({/*value=*/true, /*distribution=*/false}),
                    Catch::Contains("no value output"));
  CHECK_THROWS_WITH(parse_export_format("tflite"), Catch::Contains("valid: torchscript, onnx"));
}

TEST_CASE("write_export writes a TorchScript file with its metadata, and an ONNX file", "[export]") {
  KindAgent k = make_kind_agent(policy_kind("ppo_discrete"), 3);
  const InferenceGraph graph = k.agent->inference_graph({});
  const fs::path dir = fs::temp_directory_path() / "rlforge_test_export";
  fs::create_directories(dir);
  const ExportMetadata metadata = export_metadata(graph, {{"env", "CartPole-v1"}});
  write_export(graph, ExportFormat::torchscript, (dir / "p.pt").string(), metadata);
  write_export(graph, ExportFormat::onnx, (dir / "p.onnx").string(), metadata);
  torch::jit::ExtraFilesMap extra{{kTorchScriptMetadataFile, ""}};
  torch::jit::Module loaded = torch::jit::load((dir / "p.pt").string(), torch::kCPU, extra);
  CHECK_THAT(extra[kTorchScriptMetadataFile], Catch::Contains("algorithm: \"ppo\"") &&
                                                   Catch::Contains("action_space: \"Discrete(2)\"") &&
                                                   Catch::Contains("env: \"CartPole-v1\""));
  const torch::Tensor observations = held_out_observations(k.config.env, 32, 2'000'003);
  torch::NoGradGuard no_grad;
  CHECK(loaded.forward({observations}).toTensor().equal(graph.run(observations)[0]));
  CHECK(fs::file_size(dir / "p.onnx") > 100);
  fs::remove_all(dir);
}

TEST_CASE("rlforge::Policy runs an exported file from caller memory, from many threads at once", "[export][inference]") {
  const fs::path dir = fs::temp_directory_path() / "rlforge_test_policy";
  fs::create_directories(dir);
  for (const char* name : {"ppo_discrete", "sac", "ppo_cnn"}) {
    DYNAMIC_SECTION(name) {
      KindAgent k = make_kind_agent(policy_kind(name), 9);
      // Extra outputs: the Policy takes the action from the tuple.
      const InferenceGraph graph = k.agent->inference_graph({/*value=*/false, /*distribution=*/true});
      const std::string path = (dir / (std::string(name) + ".pt")).string();
      write_export(graph, ExportFormat::torchscript, path, export_metadata(graph, {{"env", k.spec.id}}));
      const Policy policy = Policy::load(path);
      CHECK(policy.observation_shape() == k.spec.observation_space.shape());
      CHECK(policy.observation_dtype() == dtype_name(k.spec.observation_space.dtype()));
      CHECK(policy.discrete() == k.spec.action_space.is_discrete());
      CHECK(policy.action_size() == static_cast<int64_t>(k.spec.action_space.size()));
      CHECK(policy.metadata().at("env") == k.spec.id);

      const int64_t n = 48;
      const torch::Tensor observations = held_out_observations(k.config.env, n, 2'000'009).contiguous();
      const torch::Tensor expected = graph.run(observations)[0].contiguous();
      const torch::Tensor batch = torch::empty_like(expected);
      policy.act_batch(observations.data_ptr(), n, batch.data_ptr());
      CHECK(max_abs_difference(batch, expected) <= 1e-6);

      // Four threads, each acting on every observation one at a time.
      std::vector<torch::Tensor> singles(4);
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < singles.size(); ++t) {
        threads.emplace_back([&, t] {
          singles[t] = torch::empty_like(expected);
          const int64_t row = observations[0].nbytes(), out = expected[0].nbytes();
          for (int64_t i = 0; i < n; ++i) {
            policy.act(static_cast<const uint8_t*>(observations.data_ptr()) + i * row,
                       static_cast<uint8_t*>(singles[t].data_ptr()) + i * out);
          }
        });
      }
      for (std::thread& t : threads) t.join();
      for (const torch::Tensor& s : singles) CHECK(max_abs_difference(s, expected) <= 1e-5);
    }
  }
  // One flipped bit in every byte position of the middle half of an exported file: refused every time.
  {
    KindAgent k = make_kind_agent(policy_kind("ppo_discrete"), 9);
    const InferenceGraph graph = k.agent->inference_graph({});
    const fs::path good = dir / "good.pt";
    write_export(graph, ExportFormat::torchscript, good.string(), export_metadata(graph, {}));
    std::ifstream in(good, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    int refused = 0, tried = 0;
    for (std::size_t at = bytes.size() / 4; at < 3 * bytes.size() / 4; at += 97) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
      std::ofstream(dir / "damaged.pt", std::ios::binary) << damaged;
      ++tried;
      try {
        Policy::load((dir / "damaged.pt").string());
      } catch (const std::runtime_error& e) {
        refused += std::string(e.what()).find("damaged.pt: damaged exported policy") != std::string::npos;
      }
    }
    CHECK(tried > 10);
    CHECK(refused == tried);
  }
  std::ofstream(dir / "junk.pt") << "not a policy";
  CHECK_THROWS_WITH(Policy::load((dir / "junk.pt").string()), Catch::Contains("junk.pt: not an rlforge exported policy"));
  CHECK_THROWS_WITH(Policy::load((dir / "missing.pt").string()), Catch::Contains("missing.pt"));
  fs::remove_all(dir);
}
