// PPO's adversarial training (PpoConfig::adversarial). SA-PPO's smoothness regulariser takes the
// autograd path, adds to the gradient, and descending it makes the policy less sensitive to its
// input. Training on attacked observations perturbs features inside their ball, in the direction
// that most changes the policy, and survives a checkpoint.
#include <catch2/catch.hpp>

#include <sstream>

#include "rlforge/agents/ppo.h"

using namespace rlforge;

namespace {

const EnvSpec kSpec{"test", Space::box({6}, -10.0f, 10.0f), Space::discrete(3), 0, {}};

PpoConfig config(double epsilon, double coef) {
  PpoConfig c;
  c.ent_coef = 0.0;
  c.adversarial.epsilon = epsilon;
  c.adversarial.coef = coef;
  c.adversarial.steps = 5;
  return c;
}

// A minibatch on which the PPO loss itself has no gradient: zero advantages, returns equal to the
// values, and the value loss weighted 0 (see config), so what remains is the regulariser.
Ppo::Minibatch neutral_minibatch(Ppo& ppo, int64_t n) {
  torch::manual_seed(21);
  Ppo::Minibatch mb;
  mb.features = torch::randn({n, 6});
  mb.actions = torch::randint(0, 3, {n}, torch::kInt64);
  torch::NoGradGuard no_grad;
  const auto e = ppo.policy()->evaluate(mb.features, mb.actions);
  mb.old_log_probs = e.log_prob;
  mb.advantages = torch::zeros({n});
  mb.old_values = e.value;
  mb.returns = e.value;
  return mb;
}

std::vector<torch::Tensor> gradients(Ppo& ppo) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ppo.policy()->parameters()) out.push_back(p.grad().clone());
  return out;
}

// Mean norm of d(log-probabilities)/d(features) over the batch: how sharply the policy reacts to
// its input (a shift common to all logits changes nothing, so it does not count).
double input_sensitivity(Ppo& ppo, const torch::Tensor& features) {
  const torch::Tensor x = features.detach().requires_grad_(true);
  const torch::Tensor logits = torch::log_softmax(ppo.policy()->policy_head(x), 1);
  double total = 0;
  for (int64_t k = 0; k < logits.size(1); ++k) {
    const torch::Tensor g = torch::autograd::grad({logits.select(1, k).sum()}, {x}, {}, /*retain_graph=*/true)[0];
    total += g.norm(2, 1).mean().item<double>();
  }
  return total;
}

}  // namespace

TEST_CASE("SA-PPO's regulariser runs on autograd and adds to the gradient", "[agents][ppo][adversarial]") {
  Ppo plain(kSpec, config(0, 0), 4), robust(kSpec, config(0.3, 1.0), 4);
  CHECK(plain.uses_manual_gradient());
  CHECK_FALSE(robust.uses_manual_gradient());
  const Ppo::Minibatch mb = neutral_minibatch(plain, 64);
  bool over = false;
  plain.compute_gradient(mb, 0.2, 0.0, over);
  robust.compute_gradient(mb, 0.2, 0.0, over);
  double plain_policy = 0, added = 0;
  const auto a = gradients(plain), b = gradients(robust);
  // The actor's parameters come first; the critic's gradient is the value loss's alone in both.
  for (std::size_t i = 0; i < a.size(); ++i) {
    plain_policy += a[i].abs().sum().item<double>();
    added += (b[i] - a[i]).abs().sum().item<double>();
  }
  CHECK(added > 1e-4);
  CHECK(added > 10 * plain_policy);  // the neutral minibatch leaves the PPO loss flat
}

TEST_CASE("SA-PPO's warm-up grows the radius linearly from 0 over its share of training", "[agents][ppo][adversarial]") {
  AdversarialConfig a;
  a.epsilon = 0.4;
  a.coef = 1.0;
  CHECK(a.epsilon_at(0.0) == 0.4);  // no warm-up: the full radius from the start
  a.warmup = 0.5;
  CHECK(a.epsilon_at(0.0) == 0.0);
  CHECK(a.epsilon_at(0.25) == Approx(0.2));
  CHECK(a.epsilon_at(0.5) == Approx(0.4));
  CHECK(a.epsilon_at(0.9) == Approx(0.4));
  // Through update(): its metrics report the radius it used, and at radius 0 the regulariser
  // adds nothing, so the step equals plain PPO's.
  PpoConfig c = config(0.4, 1.0);
  c.adversarial.warmup = 0.5;
  c.n_epochs = 1;
  c.batch_size = 32;
  // Plain PPO on autograd too: the hand-derived pass rounds differently, which Adam's first
  // steps magnify where a gradient element is near zero.
  PpoConfig plain_config = config(0, 0);
  plain_config.manual_gradient = false;
  plain_config.n_epochs = c.n_epochs;
  plain_config.batch_size = c.batch_size;
  Ppo warming(kSpec, c, 4), plain(kSpec, plain_config, 4);
  const Ppo::Minibatch mb = neutral_minibatch(plain, 32);
  const RolloutBatch batch{mb.features, mb.actions, mb.old_log_probs, mb.old_values, torch::randn({32}), mb.returns};
  const PpoMetrics start = warming.update(batch, /*progress_remaining=*/1.0);
  CHECK(start.adversarial_epsilon == 0.0);
  plain.update(batch, 1.0);
  const auto a_params = warming.policy()->parameters(), b_params = plain.policy()->parameters();
  for (std::size_t i = 0; i < a_params.size(); ++i) CHECK(torch::allclose(a_params[i], b_params[i], 1e-5, 1e-6));
  CHECK(warming.update(batch, 0.8).adversarial_epsilon == Approx(0.16));
  CHECK(warming.update(batch, 0.2).adversarial_epsilon == Approx(0.4));
  c.adversarial.warmup = 1.5;
  CHECK_THROWS_WITH(Ppo(kSpec, c, 4), Catch::Contains("adversarial.warmup"));
}

TEST_CASE("descending SA-PPO's regulariser makes the policy less sensitive to its input", "[agents][ppo][adversarial]") {
  Ppo robust(kSpec, config(0.5, 1.0), 9);
  {
    // A sharper policy than the initial one (orthogonal initialisation with a 0.01 gain on the
    // logits): every weight scaled up.
    torch::NoGradGuard no_grad;
    for (auto& p : robust.policy()->parameters()) p.mul_(3.0);
  }
  const Ppo::Minibatch mb = neutral_minibatch(robust, 128);
  const double before = input_sensitivity(robust, mb.features);
  bool over = false;
  for (int step = 0; step < 100; ++step) {
    robust.compute_gradient(mb, 0.2, 0.0, over);
    torch::NoGradGuard no_grad;
    for (auto& p : robust.policy()->parameters()) p.sub_(1.0 * p.grad());
  }
  const double after = input_sensitivity(robust, mb.features);
  INFO("sensitivity before " << before << ", after " << after);
  CHECK(after < 0.6 * before);
}

TEST_CASE("attacked observations stay in their ball and change the policy more than random ones", "[agents][ppo][adversarial]") {
  PpoConfig c = config(0.3, 0.0);
  c.adversarial.train_fraction = 0.5;
  c.adversarial.steps = 10;
  c.n_epochs = 1;
  c.batch_size = 64;
  CHECK(c.adversarial.attacks_observations());
  CHECK_FALSE(c.adversarial.enabled());
  CHECK(c.adversarial.attacked_envs(16) == 8);
  CHECK(c.adversarial.attacked_envs(1) == 1);  // at least one env
  PpoConfig few = c;
  few.adversarial.train_fraction = 0.01;
  CHECK(few.adversarial.attacked_envs(8) == 1);
  CHECK(config(0, 0).adversarial.attacked_envs(8) == 0);

  Ppo ppo(kSpec, c, 4);
  CHECK(ppo.uses_manual_gradient());  // the update itself is plain PPO's
  torch::manual_seed(5);
  // Features with a different spread per element, so that the ball's unit matters.
  const torch::Tensor spread = torch::tensor({0.1f, 1.0f, 3.0f, 0.5f, 2.0f, 1.0f});
  const torch::Tensor features = torch::randn({64, 6}) * spread;
  // Before any update there is no measured spread: nothing is attacked.
  CHECK(torch::equal(ppo.attack_features(features), features));

  const Ppo::Minibatch mb = neutral_minibatch(ppo, 64);
  const RolloutBatch batch{features, mb.actions, mb.old_log_probs, mb.old_values, torch::randn({64}), mb.returns};
  CHECK(ppo.update(batch, 1.0).adversarial_epsilon == Approx(0.3));
  const torch::Tensor unit = std::get<0>(torch::std_mean(features, 0, /*unbiased=*/false));
  const torch::Tensor attacked = ppo.attack_features(features);
  const torch::Tensor shift = (attacked - features).abs();
  CHECK((shift <= unit * 0.3 + 1e-5).all().item<bool>());
  CHECK(shift.max().item<double>() > 0.1 * 0.3 * unit.min().item<double>());

  // The attack's objective, KL(pi(s) || pi(s')), is larger at the attacked point than at random
  // points of the same ball, row by row on most rows and on average by a wide margin.
  torch::NoGradGuard no_grad;
  const torch::Tensor clean = torch::log_softmax(ppo.policy()->policy_head(features), 1);
  auto kl = [&](const torch::Tensor& x) {
    const torch::Tensor q = torch::log_softmax(ppo.policy()->policy_head(x), 1);
    return (clean.exp() * (clean - q)).sum(1);
  };
  const torch::Tensor random = features + (torch::rand({64, 6}) * 2 - 1) * unit * 0.3;
  const torch::Tensor kl_attacked = kl(attacked), kl_random = kl(random);
  CHECK((kl_attacked > kl_random).to(torch::kFloat32).mean().item<double>() > 0.9);
  CHECK(kl_attacked.mean().item<double>() > 3 * kl_random.mean().item<double>());

  // Along the attack's direction the KL grows: half the way gives less than the whole.
  const torch::Tensor direction = attacked - features;
  CHECK(kl(features + 0.5 * direction).mean().item<double>() < kl_attacked.mean().item<double>());

  SECTION("a checkpoint carries the unit and the radius") {
    torch::serialize::OutputArchive model, optimizer;
    ppo.save(model, optimizer);
    std::ostringstream m, o;
    model.save_to(m);
    optimizer.save_to(o);
    Ppo resumed(kSpec, c, 9);
    torch::serialize::InputArchive model_in, optimizer_in;
    std::istringstream mi(m.str()), oi(o.str());
    model_in.load_from(mi);
    optimizer_in.load_from(oi);
    resumed.load(model_in, optimizer_in);
    resumed.generator().set_state(ppo.generator().get_state());
    CHECK(torch::equal(resumed.attack_features(features), ppo.attack_features(features)));
  }
}

namespace {

// The share of the rows picked by `rows` (bool [B]) whose greedy action survives a 20-step PGD
// attack that raises the best other logit above the greedy one, anywhere in the L-infinity ball
// of `radius` around each row.
double greedy_action_survival(Ppo& ppo, const torch::Tensor& features, const torch::Tensor& rows, double radius) {
  const torch::Tensor greedy = ppo.policy()->policy_head(features).detach().argmax(1, /*keepdim=*/true);
  torch::Tensor x = features.detach();
  for (int k = 0; k < 20; ++k) {
    const torch::Tensor leaf = x.detach().requires_grad_(true);
    const torch::Tensor head = ppo.policy()->policy_head(leaf);
    const torch::Tensor gap = std::get<0>(head.scatter(1, greedy, -1e9f).max(1)) - head.gather(1, greedy).squeeze(1);
    const torch::Tensor g = torch::autograd::grad({gap.sum()}, {leaf})[0];
    x = torch::clamp(leaf.detach() + 0.25 * radius * g.sign(), features - radius, features + radius);
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor kept = (ppo.policy()->policy_head(x).argmax(1, true) == greedy).squeeze(1);
  return kept.index({rows}).to(torch::kFloat32).mean().item<double>();
}

// Per row, how far the greedy action's logit leads the best other one.
torch::Tensor greedy_lead(Ppo& ppo, const torch::Tensor& features) {
  torch::NoGradGuard no_grad;
  const torch::Tensor top2 = std::get<0>(ppo.policy()->policy_head(features).topk(2, 1));
  return top2.select(1, 0) - top2.select(1, 1);
}

// Rows whose greedy action leads the best other logit by at least `margin`.
torch::Tensor confident_rows(Ppo& ppo, const torch::Tensor& features, double margin) {
  return greedy_lead(ppo, features) >= margin;
}

// Three times every parameter: a policy whose greedy actions lead by more.
void sharpen(Ppo& ppo) {
  torch::NoGradGuard no_grad;
  for (auto& p : ppo.policy()->parameters()) p.mul_(3.0);
}

// The median greedy lead of the sharpened policy that config `c` and `seed` build, on the neutral
// minibatch of 128 rows.
double median_sharpened_lead(const PpoConfig& c, uint64_t seed) {
  Ppo probe(kSpec, c, seed);
  sharpen(probe);
  return greedy_lead(probe, neutral_minibatch(probe, 128).features).median().item<double>();
}

// The margin objective with `solver`, radius 0.5 and weight 1, its margin the sharpened policy's
// median lead on the neutral minibatch, so that half of the rows count.
PpoConfig margin_config(const std::string& solver) {
  PpoConfig c = config(0.5, 1.0);
  c.adversarial.objective = "margin";
  c.adversarial.solver = solver;
  c.adversarial.margin = median_sharpened_lead(c, 9);
  return c;
}

// 150 plain gradient steps of size 0.5 on `mb`'s loss.
void descend(Ppo& ppo, const Ppo::Minibatch& mb) {
  bool over = false;
  for (int step = 0; step < 150; ++step) {
    ppo.compute_gradient(mb, 0.2, 0.0, over);
    torch::NoGradGuard no_grad;
    for (auto& p : ppo.policy()->parameters()) p.sub_(0.5 * p.grad());
  }
}

}  // namespace

TEST_CASE("descending the margin objective keeps the greedy action inside the ball", "[agents][ppo][adversarial]") {
  const PpoConfig c = margin_config("pgd");
  Ppo robust(kSpec, c, 9);
  CHECK_FALSE(robust.uses_manual_gradient());
  sharpen(robust);
  const Ppo::Minibatch mb = neutral_minibatch(robust, 128);
  // The regulariser's ball: 0.5 of each feature's spread over the minibatch (about 1 here).
  const double radius = 0.5 * std::get<0>(torch::std_mean(mb.features, 0, false)).mean().item<double>();
  // The hinge counts only where the greedy action leads by the margin: measure survival there.
  const torch::Tensor rows = confident_rows(robust, mb.features, c.adversarial.margin);
  const int64_t confident = rows.sum().item<int64_t>();
  INFO(confident << " of 128 rows lead by the margin");
  REQUIRE(confident >= 32);
  const double before = greedy_action_survival(robust, mb.features, rows, radius);
  descend(robust, mb);
  const double after = greedy_action_survival(robust, mb.features, rows, radius);
  INFO("greedy action kept under attack on " << before << " of the rows before, " << after << " after");
  CHECK(before < 0.7);
  CHECK(after > 0.9);
  CHECK(after > before + 0.25);
}

TEST_CASE("the margin objective leaves states without a clear greedy action alone", "[agents][ppo][adversarial]") {
  // A fresh policy's logits are nearly tied: the hinge must not push it towards confidence (over
  // every row it did, and a LunarLander policy collapsed to one action).
  const PpoConfig c = margin_config("pgd");
  Ppo plain(kSpec, config(0, 0), 9), robust(kSpec, c, 9);
  const Ppo::Minibatch mb = neutral_minibatch(robust, 128);
  REQUIRE(confident_rows(robust, mb.features, c.adversarial.margin).sum().item<int64_t>() == 0);
  bool over = false;
  // The neutral minibatch leaves PPO's own loss flat: all the gradient there is is rounding.
  auto largest_gradient = [&](Ppo& ppo) {
    ppo.compute_gradient(mb, 0.2, 0.0, over);
    double largest = 0;
    for (const auto& g : gradients(ppo)) largest = std::max(largest, g.abs().max().item<double>());
    return largest;
  };
  const double rounding = largest_gradient(plain);
  CHECK(rounding < 1e-6);
  CHECK(largest_gradient(robust) < 1e-6);
  // Sharpened, half of the rows lead by the margin and the attack takes their lead: now it pulls.
  sharpen(robust);
  REQUIRE(confident_rows(robust, mb.features, c.adversarial.margin).sum().item<int64_t>() > 0);
  CHECK(largest_gradient(robust) > 1e-3);
}

namespace {

// The best other logit's lead over the greedy action's at `features` [B, F], per row.
torch::Tensor worst_other_gap(Ppo& ppo, const torch::Tensor& features, const torch::Tensor& greedy) {
  torch::NoGradGuard no_grad;
  const torch::Tensor head = ppo.policy()->policy_head(features);
  return std::get<0>(head.scatter(1, greedy.unsqueeze(1), -1e9f).max(1)) - head.gather(1, greedy.unsqueeze(1)).squeeze(1);
}

torch::Tensor certified_gap(Ppo& ppo, const torch::Tensor& features, const torch::Tensor& radius, const torch::Tensor& greedy) {
  torch::NoGradGuard no_grad;
  const torch::Tensor bound = ppo.policy()->logit_gap_bound(features, radius, greedy);
  return std::get<0>(bound.scatter(1, greedy.unsqueeze(1), -1e9f).max(1));
}

}  // namespace

TEST_CASE("interval bounds on the logit gap hold over the whole ball and are exact at its centre", "[agents][ppo][adversarial]") {
  for (const std::string activation : {"tanh", "relu", "elu"}) {
    for (const bool shared : {false, true}) {
      PpoConfig c = config(0, 0);
      c.policy.actor.activation = c.policy.critic.activation = activation;
      c.policy.shared = shared;
      Ppo ppo(kSpec, c, 5);
      sharpen(ppo);
      const torch::Tensor x = neutral_minibatch(ppo, 64).features;
      torch::Tensor greedy;
      {
        torch::NoGradGuard no_grad;
        greedy = ppo.policy()->policy_head(x).argmax(1);
      }
      INFO(activation << (shared ? ", shared trunk" : ", separate networks"));
      // At radius 0 the bound is the gap itself.
      const torch::Tensor at_centre = ppo.policy()->logit_gap_bound(x, torch::zeros({6}), greedy).detach();
      torch::Tensor head;
      {
        torch::NoGradGuard no_grad;
        head = ppo.policy()->policy_head(x);
      }
      CHECK(torch::allclose(at_centre, head - head.gather(1, greedy.unsqueeze(1)), 1e-4, 1e-5));
      // Over the ball: random points, its corners' signs, and a 20-step PGD attack on the gap all
      // stay under the bound; the bound grows with the radius.
      const torch::Tensor radius = torch::full({6}, 0.3);
      const torch::Tensor bound = certified_gap(ppo, x, radius, greedy);
      torch::manual_seed(3);
      for (int k = 0; k < 200; ++k) {
        const torch::Tensor corner = (torch::rand(x.sizes()) * 2 - 1).sign();
        const torch::Tensor inside = k % 2 ? (torch::rand(x.sizes()) * 2 - 1) * radius : corner * radius;
        REQUIRE((worst_other_gap(ppo, x + inside, greedy) <= bound + 1e-5).all().item<bool>());
      }
      torch::Tensor adv = x;
      for (int k = 0; k < 20; ++k) {
        const torch::Tensor leaf = adv.detach().requires_grad_(true);
        const torch::Tensor h = ppo.policy()->policy_head(leaf);
        const torch::Tensor gap = std::get<0>(h.scatter(1, greedy.unsqueeze(1), -1e9f).max(1)) - h.gather(1, greedy.unsqueeze(1)).squeeze(1);
        const torch::Tensor g = torch::autograd::grad({gap.sum()}, {leaf})[0];
        adv = torch::max(torch::min(leaf.detach() + 0.1 * radius * g.sign(), x + radius), x - radius);
      }
      const torch::Tensor attacked = worst_other_gap(ppo, adv, greedy);
      CHECK((attacked <= bound + 1e-5).all().item<bool>());
      CHECK((attacked > worst_other_gap(ppo, x, greedy)).to(torch::kFloat32).mean().item<double>() > 0.9);  // the attack moved
      CHECK((certified_gap(ppo, x, radius * 2, greedy) >= bound).all().item<bool>());
    }
  }
  // A non-monotone activation has no such bound.
  PpoConfig c = config(0, 0);
  c.policy.actor.activation = c.policy.critic.activation = "gelu";
  Ppo gelu(kSpec, c, 5);
  const torch::Tensor x = torch::randn({4, 6});
  CHECK_THROWS_WITH(gelu.policy()->logit_gap_bound(x, torch::full({6}, 0.1), torch::zeros({4}, torch::kInt64)),
                    Catch::Contains("tanh, relu or elu"));
}

TEST_CASE("descending the certified margin makes the greedy action provably hold inside the ball", "[agents][ppo][adversarial]") {
  const PpoConfig c = margin_config("ibp");
  Ppo robust(kSpec, c, 9);
  CHECK_FALSE(robust.uses_manual_gradient());
  sharpen(robust);
  const Ppo::Minibatch mb = neutral_minibatch(robust, 128);
  const torch::Tensor radius = 0.5 * std::get<0>(torch::std_mean(mb.features, 0, false));
  const torch::Tensor rows = confident_rows(robust, mb.features, c.adversarial.margin);
  REQUIRE(rows.sum().item<int64_t>() >= 32);
  // Certified: the bound on every other logit's lead is below 0 anywhere in the ball.
  auto certified_share = [&] {
    torch::Tensor greedy;
    {
      torch::NoGradGuard no_grad;
      greedy = robust.policy()->policy_head(mb.features).argmax(1);
    }
    return (certified_gap(robust, mb.features, radius, greedy) < 0).index({rows}).to(torch::kFloat32).mean().item<double>();
  };
  const double before = certified_share();
  const double survived_before = greedy_action_survival(robust, mb.features, rows, radius.mean().item<double>());
  descend(robust, mb);
  const double after = certified_share();
  const double survived_after = greedy_action_survival(robust, mb.features, rows, radius.mean().item<double>());
  INFO("certified on " << before << " of the confident rows before, " << after << " after; PGD survival " << survived_before
                       << " -> " << survived_after);
  CHECK(before < 0.3);
  CHECK(after > 0.9);
  CHECK(survived_after > 0.9);
}

TEST_CASE("the ibp solver is refused without the margin objective", "[agents][ppo][adversarial]") {
  PpoConfig c = config(0.5, 1.0);
  c.adversarial.solver = "ibp";
  CHECK_THROWS_WITH(Ppo(kSpec, c, 1), Catch::Contains("adversarial.solver ibp bounds the margin objective only"));
  c.adversarial.solver = "crown";
  CHECK_THROWS_WITH(Ppo(kSpec, c, 1), Catch::Contains("adversarial.solver must be pgd or ibp, got 'crown'"));
}
