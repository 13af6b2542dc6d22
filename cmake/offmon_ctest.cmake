# One ctest test per googletest suite, not per case (gtest_discover_tests makes one per
# case). Every test process pays the sanitizers' start-up and exit (about 0.3 s under
# ASan + LeakSanitizer, measured: `unit_tests --gtest_filter=NoSuch.*`), and a suite's
# shared fixture (the PostgreSQL sandbox of postgres_tests) is set up once per process:
# per case there were 587 processes, 476 of them done in under a second (172 s in all),
# and postgres_tests started 20 PostgreSQL servers (docs/build.md). A failing suite's output names each failing case, and
# `ctest -R Suite` or `PROGRAM --gtest_filter=Suite.Case` runs one alone.
#
# Like gtest_discover_tests' POST_BUILD mode: after each link the program lists its
# tests and a script writes the add_test lines that ctest includes.
set(OFFMON_TEST_SUITES_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/offmon_ctest_write_suites.cmake)

# offmon_add_test_suites(target [LABELS l...] [COSTS Suite=seconds...])
# COSTS: the long suites' durations, so that a fresh build directory (CI), which has no
# durations of an earlier run, starts them first instead of leaving one alone at the end.
function(offmon_add_test_suites target)
  cmake_parse_arguments(ARG "" "" "LABELS;COSTS" ${ARGN})
  set(tests_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake)
  list(JOIN ARG_LABELS "," labels)
  list(JOIN ARG_COSTS "," costs)
  add_custom_command(TARGET ${target} POST_BUILD
    BYPRODUCTS ${tests_file}
    COMMAND ${CMAKE_COMMAND} -D PROGRAM=$<TARGET_FILE:${target}> -D TESTS_FILE=${tests_file}
      -D LABELS=${labels} -D COSTS=${costs} -P ${OFFMON_TEST_SUITES_SCRIPT}
    VERBATIM)
  set(include_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_suites_include.cmake)
  file(WRITE ${include_file}
    "if(EXISTS \"${tests_file}\")\n  include(\"${tests_file}\")\nelse()\n"
    "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()

# CI's scheduler (tools/test.sh) runs ctest with a resource spec of one "cores" slot per
# core. A test takes a core unless it carries the label `waits`: most tests are CPU-bound
# under the sanitizers, but the soak spends its time waiting for a daemon's cycles and the
# faults it stages (65 CPU s in 164 s, its PostgreSQL and PM2 included: 0.4 of a core)
# and would hold a core idle; it runs beside the others, limited only by ctest's -j.
# Without a resource spec (a plain `ctest -jN`) the groups are ignored.
function(offmon_default_test_cores)
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(test IN LISTS tests)
    get_test_property(${test} LABELS labels)
    if(NOT "waits" IN_LIST labels)
      set_tests_properties(${test} PROPERTIES RESOURCE_GROUPS "cores:1")
    endif()
  endforeach()
endfunction()
