// The shared-library plugin: `rlforge train config.yaml` loads it through env.plugin.
#include <rlforge/envs/plugin.h>

#include "reaching_arm.h"

RLFORGE_PLUGIN(reaching_arm::register_envs)
