# The installed CMake package: rlforge::rlforge (every library) and one target per folder.
include(CMakePackageConfigHelpers)

add_library(rlforge_all INTERFACE)
target_link_libraries(rlforge_all INTERFACE rlforge_envs rlforge_render rlforge_data rlforge_stats)
if(RLFORGE_WITH_TORCH)
  target_link_libraries(rlforge_all INTERFACE rlforge_replay rlforge_agents rlforge_evaluation rlforge_trainers)
endif()
set_target_properties(rlforge_all PROPERTIES EXPORT_NAME rlforge)
add_library(rlforge::rlforge ALIAS rlforge_all)
install(TARGETS rlforge_all EXPORT rlforgeTargets)

install(EXPORT rlforgeTargets NAMESPACE rlforge:: DESTINATION ${RLFORGE_INSTALL_CMAKEDIR}
        FILE rlforgeTargets.cmake)
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/rlforgeConfig.cmake.in"
  "${CMAKE_BINARY_DIR}/rlforgeConfig.cmake"
  INSTALL_DESTINATION ${RLFORGE_INSTALL_CMAKEDIR}
  PATH_VARS RLFORGE_INSTALL_INCLUDEDIR)
# The plugin ABI changes with any version (plugin.h), so only the exact version is compatible.
write_basic_package_version_file("${CMAKE_BINARY_DIR}/rlforgeConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY ExactVersion)
install(FILES
  "${CMAKE_BINARY_DIR}/rlforgeConfig.cmake"
  "${CMAKE_BINARY_DIR}/rlforgeConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/rlforgePlugin.cmake"
  DESTINATION ${RLFORGE_INSTALL_CMAKEDIR})
