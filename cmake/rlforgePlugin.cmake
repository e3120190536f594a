# rlforge_add_env_plugin(<target> <sources>...): an env plugin, a shared library that
# `rlforge --plugin`, `env.plugin:` in a config, or rlforge::load_env_plugin loads.
#
# It links rlforge::envs statically (its objects are position independent), so the plugin carries
# what it uses of rlforge and needs no rlforge library at run time. Only the two entry points of
# RLFORGE_PLUGIN are exported: everything else is hidden, so the plugin's copy of rlforge and the
# program's never resolve to each other.
function(rlforge_add_env_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE rlforge::envs)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL")
  # A ThreadSanitizer build links its runtime into the program only, so a plugin's references to
  # it are resolved when the program loads it (cmake/RlforgeSanitizers.cmake).
  if(NOT RLFORGE_PLUGIN_ALLOW_UNDEFINED)
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
endfunction()
