# Per-target compiler settings; nothing here touches global flags.
option(OFFMON_WERROR "Treat compiler warnings as errors" OFF)
option(OFFMON_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(OFFMON_COLD_CODE_O0 "Compile code off the hot path at -O0 (the CI build)" OFF)
option(OFFMON_UNITY "Compile each module and test program as unity files" OFF)
set(OFFMON_UNITY_BATCH_SIZE 8 CACHE STRING "Sources per unity file (OFFMON_UNITY)")

# tools/setup.sh (both README commands) builds with OFFMON_UNITY: one parse of the shared
# headers (fmt, json, CLI11, Beast, toml++) and one copy of each inline function per eight
# files. From a fresh clone the gcc release build of the binary took 608 CPU s as single
# files; the CI build's HOT modules 283 CPU s as single files, 236 as unity files of four;
# the CI build of the binary 387-406 CPU s with four, 357-362 with eight, back to back
# (docs/build.md).
# Names must be unique across a target's files, whichever eight land together; an
# incremental build after editing one file recompiles its neighbours.
function(offmon_unity_files target)
  if(OFFMON_UNITY)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${OFFMON_UNITY_BATCH_SIZE})
  endif()
endfunction()

# The CI build (tools/test.sh) compiles what is not on the hot path at -O0: under the
# sanitizers that halves its compile time (the query module: 153 to 76 CPU s), and ASan
# and UBSan check -O0 code at least as closely. The HOT modules (store, analyzer,
# collector, common), where the large tests, the accuracy suite and the benchmarks' smoke
# runs spend their time, keep the build type's flags (docs/build.md).
function(offmon_cold_code target)
  if(OFFMON_COLD_CODE_O0)
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()

function(offmon_set_warnings target)
  # -Wno-restrict: GCC 12 reports impossible overlaps in libstdc++'s inlined
  # `"literal" + std::string` at -O2 (GCC bug 105651).
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wconversion -Wno-sign-conversion
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
    $<$<BOOL:${OFFMON_WERROR}>:-Werror>)
  if(OFFMON_SANITIZE)
    # GCC 12's flow analysis under ASan reports maybe-uninitialized inside <regex> and
    # <variant>: false positives, and the release build keeps the warning.
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined
      -fno-sanitize-recover=undefined -fno-omit-frame-pointer
      $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
    # Not position-independent: a sanitized PIE spent 40 % of its start-up applying 1.15
    # million relative relocations (ASan's and the coverage instrumentation's tables);
    # `offmon --version` took 0.20-0.24 s, 0.15-0.17 s linked with -no-pie, and the tests
    # start the binary and their programs some thousand times (docs/build.md).
    target_link_options(${target} PRIVATE -fsanitize=address,undefined -no-pie)
  endif()
endfunction()

# A library target of one offmon module: offmon::<name>, public headers in include/.
# HOT: the module's code is on the hot path (see offmon_cold_code).
# COLD_SOURCES: a HOT module's command-line glue (the `offmon store`, `analyze`, `silence`
# and `import` commands), parsed once per run: at -O0 in the CI build like cold modules.
# Each includes CLI11, whose inline code made these the slowest files to compile at -O1
# (silence_command.cpp: 19 CPU s, two thirds of it code generation).
function(offmon_add_module name)
  cmake_parse_arguments(ARG "HOT" "" "SOURCES;COLD_SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(offmon_${name} STATIC ${ARG_SOURCES} ${ARG_COLD_SOURCES})
  if(ARG_COLD_SOURCES)
    # Single files in every build, so that the unity files hold the same sources whatever
    # the flags.
    set_source_files_properties(${ARG_COLD_SOURCES} TARGET_DIRECTORY offmon_${name}
      PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
  if(OFFMON_COLD_CODE_O0 AND ARG_COLD_SOURCES)
    # A precompiled header built at -O1 cannot serve a file compiled at -O0.
    set_source_files_properties(${ARG_COLD_SOURCES} TARGET_DIRECTORY offmon_${name}
      PROPERTIES COMPILE_OPTIONS -O0 SKIP_PRECOMPILE_HEADERS ON)
  endif()
  add_library(offmon::${name} ALIAS offmon_${name})
  target_include_directories(offmon_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_features(offmon_${name} PUBLIC cxx_std_20)
  target_link_libraries(offmon_${name} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS})
  offmon_set_warnings(offmon_${name})
  offmon_unity_files(offmon_${name})
  if(NOT ARG_HOT)
    offmon_cold_code(offmon_${name})
  endif()
endfunction()

