# Sanitizer and fuzzing builds (scripts/sanitize.sh drives them; CI runs it after ./test.sh).
#
#   -DRLFORGE_SANITIZE=address,undefined   AddressSanitizer + UndefinedBehaviorSanitizer
#   -DRLFORGE_SANITIZE=thread              ThreadSanitizer
#   -DRLFORGE_BUILD_FUZZERS=ON             libFuzzer targets in tests/fuzz/ (Clang; with
#                                          address,undefined, every target is also built with
#                                          coverage for the fuzzer, so one build serves both)
#
# The flags go on every target, so they are set before any folder is added. ASan and UBSan's
# runtime is linked as a shared library (-shared-libsan): plugins are modules linked with
# --no-undefined, and they and the program must share one runtime; its folder is put in the
# rpath, so the programs run without LD_LIBRARY_PATH. TSan's shared runtime cannot start before
# the system libraries' initialisers allocate (it crashes in malloc), so under TSan the runtime
# is linked statically into programs and plugins resolve it when loaded.

set(RLFORGE_SANITIZE "" CACHE STRING "Sanitizers to build with: address,undefined | thread | empty for none")
option(RLFORGE_BUILD_FUZZERS "Build the libFuzzer targets in tests/fuzz/ (needs Clang)" OFF)

if(RLFORGE_SANITIZE OR RLFORGE_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "RLFORGE_SANITIZE and RLFORGE_BUILD_FUZZERS need Clang (-DCMAKE_CXX_COMPILER=clang++), "
                        "got ${CMAKE_CXX_COMPILER_ID}")
  endif()
endif()

if(RLFORGE_SANITIZE)
  if(NOT RLFORGE_SANITIZE MATCHES "^(address,undefined|address|undefined|thread)$")
    message(FATAL_ERROR "RLFORGE_SANITIZE: expected address,undefined, address, undefined or thread, got '${RLFORGE_SANITIZE}'")
  endif()
  add_compile_options(-fsanitize=${RLFORGE_SANITIZE} -fno-omit-frame-pointer -g)
  if(RLFORGE_SANITIZE MATCHES "undefined")
    # A finding stops the program, so that a test run cannot pass over it.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(RLFORGE_SANITIZE STREQUAL "thread")
    add_link_options(-fsanitize=thread)
    set(RLFORGE_PLUGIN_ALLOW_UNDEFINED ON)
  else()
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-resource-dir
                    OUTPUT_VARIABLE rlforge_clang_resource_dir OUTPUT_STRIP_TRAILING_WHITESPACE)
    add_link_options(-fsanitize=${RLFORGE_SANITIZE} -shared-libsan
                     "-Wl,-rpath,${rlforge_clang_resource_dir}/lib/linux")
  endif()
endif()

if(RLFORGE_BUILD_FUZZERS)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
