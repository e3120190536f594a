#pragma once
// The Box2D envs' contact rules, those of Gymnasium's contact detectors (private to
// envs/box2d): any contact of the crash body (LunarLander's lander, BipedalWalker's hull) sets
// `crashed`; each watched body (legs) has a flag that a contact sets and the end of any of its
// contacts clears (a flag, not a count, as in Gymnasium: a leg leaving one of two touching
// edges clears it). Bodies are read through the env's own pointers, so one listener serves
// every world the env builds.

#include "box2d_api.h"

#include <utility>
#include <vector>

namespace rlforge::detail {

class GroundContacts final : public b2ContactListener {
 public:
  GroundContacts(b2Body* const* crash_body, bool* crashed) : crash_body_(crash_body), crashed_(crashed) {}
  void watch(b2Body* const* body, bool* touching) { watched_.emplace_back(body, touching); }

  void BeginContact(b2Contact* contact) override { update(contact, true); }
  void EndContact(b2Contact* contact) override { update(contact, false); }

 private:
  void update(b2Contact* contact, bool begin) {
    const b2Body* a = contact->GetFixtureA()->GetBody();
    const b2Body* b = contact->GetFixtureB()->GetBody();
    if (begin && (a == *crash_body_ || b == *crash_body_)) *crashed_ = true;
    for (const auto& [body, touching] : watched_) {
      if (a == *body || b == *body) *touching = begin;
    }
  }
  b2Body* const* crash_body_;
  bool* crashed_;
  std::vector<std::pair<b2Body* const*, bool*>> watched_;
};

}  // namespace rlforge::detail
