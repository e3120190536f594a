// The flat-parameter Adam pass (agents/flat_parameters.h): LibTorch's Adam, and the same
// numbers however many threads run it.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "rlforge/agents/denormals.h"
#include "rlforge/agents/flat_parameters.h"
#include "rlforge/envs/worker_pool.h"

using namespace rlforge;

namespace {

// Two parameters of `n` and 7 elements, as a module's weight and bias would be.
std::vector<torch::Tensor> parameters_of(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({n}).requires_grad_(true), torch::randn({7}).requires_grad_(true)};
}

// Runs `steps` Adam steps on flat parameters with fresh random gradients; returns the
// parameters and both moments, concatenated.
torch::Tensor run_flat_adam(int64_t n, int steps, float grad_scale, WorkerPool* pool) {
  FlatParameters flat(parameters_of(n, 1));
  torch::optim::Adam adam({flat.data()}, torch::optim::AdamOptions(3e-3).eps(1e-8));
  torch::manual_seed(2);
  for (int s = 0; s < steps; ++s) {
    flat.grad().copy_(torch::randn_like(flat.grad()));
    adam_step(flat, adam, grad_scale, pool);
  }
  auto& state = static_cast<torch::optim::AdamParamState&>(
      *adam.state().at(c10::guts::to_string(flat.data().unsafeGetTensorImpl())));
  return torch::cat({flat.data().detach(), state.exp_avg(), state.exp_avg_sq()});
}

}  // namespace

TEST_CASE("the flat Adam pass takes LibTorch's Adam steps", "[flat_parameters]") {
  const int64_t n = 1000;
  FlatParameters flat(parameters_of(n, 1));
  std::vector<torch::Tensor> reference = parameters_of(n, 1);
  torch::optim::Adam flat_adam({flat.data()}, torch::optim::AdamOptions(3e-3));
  torch::optim::Adam torch_adam(reference, torch::optim::AdamOptions(3e-3));
  torch::manual_seed(2);
  for (int s = 0; s < 5; ++s) {
    const torch::Tensor g = torch::randn({n + 7});
    flat.grad().copy_(g);
    adam_step(flat, flat_adam, 0.5f);
    reference[0].mutable_grad() = g.narrow(0, 0, n) * 0.5;
    reference[1].mutable_grad() = g.narrow(0, n, 7) * 0.5;
    torch_adam.step();
  }
  const torch::Tensor expected = torch::cat({reference[0], reference[1]}).detach();
  CHECK(torch::allclose(flat.data().detach(), expected, 1e-6, 1e-7));
  // The parameters moved: five steps of about the learning rate each.
  CHECK((flat.data().detach() - torch::cat(parameters_of(n, 1)).detach())
            .abs()
            .mean()
            .item<double>() > 5e-3);
}

TEST_CASE("the flat Adam pass gives the same numbers on one thread or several",
          "[flat_parameters]") {
  // Sizes above and below the split threshold (32,768), none a multiple of 64.
  for (const int64_t n : {100, 40'003, 279'111}) {
    DYNAMIC_SECTION("parameters " << n + 7) {
      const torch::Tensor one = run_flat_adam(n, 4, 0.7f, nullptr);
      for (const int workers : {1, 2, 3}) {
        WorkerPool pool(workers);
        CHECK(torch::equal(run_flat_adam(n, 4, 0.7f, &pool), one));
      }
    }
  }
}

TEST_CASE("the Adam pass flushes denormals on its thread and its workers, and restores the mode",
          "[flat_parameters][denormals]") {
  if (flush_denormals_mode() == 0)
    WARN("this CPU has no flush-to-zero mode: the scope does nothing here");
  volatile float tiny = 1e-30f;  // volatile: computed at run time, in the thread's mode
  const float ieee = tiny * 1e-10f;
  REQUIRE(ieee != 0.0f);  // a denormal, under IEEE arithmetic
  const unsigned before = denormal_mode();
  {
    const DenormalModeScope flush(flush_denormals_mode());
    CHECK(denormal_mode() == flush_denormals_mode());
    if (flush_denormals_mode() != 0) CHECK(tiny * 1e-10f == 0.0f);
  }
  CHECK(denormal_mode() == before);
  CHECK(tiny * 1e-10f == ieee);

  // Adam with denormal first moments and zero gradients, called from a thread in IEEE mode: the
  // pass flushes them to exact zeros on every slice, whichever thread ran it, and leaves the
  // caller's mode as it was.
  const int64_t n = 100'000;
  auto first_moments_after_step = [&](WorkerPool* pool) {
    FlatParameters flat({torch::ones({n}).requires_grad_(true)});
    torch::optim::Adam adam({flat.data()}, torch::optim::AdamOptions(1e-3));
    adam_step(flat, adam, 1.0f, pool);  // creates the state
    auto& state = static_cast<torch::optim::AdamParamState&>(
        *adam.state().at(c10::guts::to_string(flat.data().unsafeGetTensorImpl())));
    state.exp_avg().fill_(1e-39f);
    state.exp_avg_sq().fill_(1e-20f);
    flat.grad().zero_();
    adam_step(flat, adam, 1.0f, pool);
    return state.exp_avg().clone();
  };
  WorkerPool pool(2);
  for (WorkerPool* p : {static_cast<WorkerPool*>(nullptr), &pool}) {
    const torch::Tensor moments = first_moments_after_step(p);
    CHECK(denormal_mode() == before);
    if (flush_denormals_mode() != 0) CHECK(moments.count_nonzero().item<int64_t>() == 0);
  }
  // The caller's thread still computes in IEEE arithmetic afterwards: there the same decay
  // leaves them denormal, which is what the pass had to flush.
  CHECK(torch::full({n}, 1e-39f).mul(0.9f).count_nonzero().item<int64_t>() == n);
}
