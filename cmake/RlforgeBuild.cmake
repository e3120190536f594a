# Build settings shared by every rlforge target.

# ccache makes rebuilds cheap; it is optional.
find_program(RLFORGE_CCACHE ccache)
if(RLFORGE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # ccache caches compilations that use a precompiled header only when told to trust it; the
  # setting must reach every compiler call, so it goes into the launcher itself.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      "${CMAKE_COMMAND}" -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      "${RLFORGE_CCACHE}")
endif()

# Warnings on, as the house style asks.
function(rlforge_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
endfunction()

# Where `cmake --install` puts things (relative to the prefix).
set(RLFORGE_INSTALL_INCLUDEDIR include)
set(RLFORGE_INSTALL_LIBDIR lib)
set(RLFORGE_INSTALL_BINDIR bin)
set(RLFORGE_INSTALL_CMAKEDIR lib/cmake/rlforge)

# A library target of one folder. Public headers live in <folder>/include/rlforge/<folder>/.
# The library and its headers are installed; the target is exported as rlforge::<folder>.
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
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${short})
  install(TARGETS ${name} EXPORT rlforgeTargets
    ARCHIVE DESTINATION ${RLFORGE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${RLFORGE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${RLFORGE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${RLFORGE_INSTALL_INCLUDEDIR})
endfunction()

# Compile flags of every target that uses the shared LibTorch header. GCC and Clang use a
# precompiled header only where the flags that define macros match, so a flag one source file
# needs must be given to all of them (-fno-math-errno defines __NO_MATH_ERRNO__). No code reads errno after a
# math call; without errno handling std::sqrt is one instruction and loops over it vectorise
# (DQN's Adam pass).
function(rlforge_torch_flags target)
  target_compile_options(${target} PRIVATE -fno-math-errno)
  # Clang stamps a precompiled header with its build time, which ccache cannot cache.
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE "SHELL:-Xclang -fno-pch-timestamp")
  endif()
endfunction()

# Targets that include LibTorch share one precompiled header, built once by rlforge_torch_pch:
# torch/torch.h costs ~15 s per translation unit otherwise, and ~40 s to precompile.
function(rlforge_torch_pch_target)
  if(TARGET rlforge_torch_pch)
    return()
  endif()
  set(stub "${CMAKE_BINARY_DIR}/rlforge_torch_pch.cpp")
  file(WRITE "${stub}" "// Builds the shared LibTorch precompiled header.\n")
  add_library(rlforge_torch_pch OBJECT "${stub}")
  target_link_libraries(rlforge_torch_pch PUBLIC ${TORCH_LIBRARIES})
  rlforge_warnings(rlforge_torch_pch)
  set_target_properties(rlforge_torch_pch PROPERTIES POSITION_INDEPENDENT_CODE ON)
  rlforge_torch_flags(rlforge_torch_pch)
  target_precompile_headers(rlforge_torch_pch PRIVATE <torch/torch.h>)
endfunction()

function(rlforge_use_torch target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_link_libraries(${target} INTERFACE ${TORCH_LIBRARIES})
    return()
  endif()
  rlforge_torch_pch_target()
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  # The shared header is compiled with -fPIC; GCC uses it only where the flag is the same, so
  # executables get -fPIC too (instead of the -fPIE Debian's compiler defaults to).
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fPIC)
  else()
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
  rlforge_torch_flags(${target})
  target_precompile_headers(${target} REUSE_FROM rlforge_torch_pch)
endfunction()
