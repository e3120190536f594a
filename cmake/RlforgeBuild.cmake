# Build settings shared by every rlforge target.

# ccache makes rebuilds cheap; it is optional.
find_program(RLFORGE_CCACHE ccache)
if(RLFORGE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${RLFORGE_CCACHE}")
  # Precompiled headers change on every configure unless ccache is told to trust them.
  set(ENV{CCACHE_SLOPPINESS} "pch_defines,time_macros,include_file_mtime,include_file_ctime")
endif()

# Warnings on, as the house style asks.
function(rlforge_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
endfunction()

# A library target of one folder. Public headers live in <folder>/include/rlforge/<folder>/.
function(rlforge_library name)
  cmake_parse_arguments(ARG "INTERFACE" "" "SOURCES" ${ARGN})
  if(ARG_INTERFACE)
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
  else()
    add_library(${name} ${ARG_SOURCES})
    target_include_directories(${name} PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
    rlforge_warnings(${name})
    set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
  string(REPLACE "rlforge_" "" short ${name})
  add_library(rlforge::${short} ALIAS ${name})
endfunction()

# Targets that include LibTorch share one precompiled header: torch/torch.h costs ~15 s per
# translation unit otherwise.
function(rlforge_use_torch target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_link_libraries(${target} INTERFACE ${TORCH_LIBRARIES})
    return()
  endif()
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()
