// A plugin claiming to be built against another rlforge.
#include "rlforge/envs/registry.h"

extern "C" __attribute__((visibility("default"))) const char* rlforge_plugin_abi_tag() {
  return "0.0.1 (libstdc++, C++11 ABI)";
}
extern "C" __attribute__((visibility("default"))) void rlforge_plugin_register(rlforge::EnvRegistry&) {}
