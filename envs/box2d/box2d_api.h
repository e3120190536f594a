#pragma once
// The one place the simulators include Box2D from: Debian's Box2D 2.4 by default, or Box2D 2.3
// as Gymnasium runs it (pybox2d's sources in third_party/box2d-2.3, built with
// -DRLFORGE_BOX2D=2.3). The calls whose names changed between the two are wrapped here.

#include <cstdint>

#if defined(RLFORGE_BOX2D_23)
#include <Box2D/Box2D.h>
#else
#include <box2d/box2d.h>
#endif

namespace rlforge::detail {

#if defined(RLFORGE_BOX2D_23)
inline void set_segment(b2EdgeShape& edge, const b2Vec2& a, const b2Vec2& b) { edge.Set(a, b); }
inline void set_fixture_tag(b2FixtureDef& def, std::uintptr_t tag) { def.userData = reinterpret_cast<void*>(tag); }
inline std::uintptr_t fixture_tag(b2Fixture* fixture) {
  return reinterpret_cast<std::uintptr_t>(fixture->GetUserData());
}
#else
inline void set_segment(b2EdgeShape& edge, const b2Vec2& a, const b2Vec2& b) { edge.SetTwoSided(a, b); }
inline void set_fixture_tag(b2FixtureDef& def, std::uintptr_t tag) { def.userData.pointer = tag; }
inline std::uintptr_t fixture_tag(b2Fixture* fixture) { return fixture->GetUserData().pointer; }
#endif

}  // namespace rlforge::detail
