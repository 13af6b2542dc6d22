# Writes TESTS_FILE: one add_test per googletest suite of PROGRAM (see
# offmon_ctest.cmake). Run by CMake in script mode after PROGRAM is linked.
execute_process(COMMAND ${PROGRAM} --gtest_list_tests
  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE rc TIMEOUT 60)
if(NOT rc EQUAL 0)
  file(REMOVE ${TESTS_FILE})
  message(FATAL_ERROR "${PROGRAM} --gtest_list_tests failed (${rc}): ${errors}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
string(REPLACE "," ";" labels "${LABELS}")
string(REPLACE "," ";" costs "${COSTS}")
set(script "")
foreach(line IN LISTS lines)
  # A suite line is unindented and ends with '.', maybe followed by "  # TypeParam = ...".
  if(line MATCHES "^([^ #]+)\\.( +#.*)?$")
    set(suite ${CMAKE_MATCH_1})
    set(cost 0)
    foreach(entry IN LISTS costs)
      if(entry MATCHES "^${suite}=([0-9]+)$")
        set(cost ${CMAKE_MATCH_1})
      endif()
    endforeach()
    string(APPEND script
      "add_test([=[${suite}]=] [=[${PROGRAM}]=] [=[--gtest_filter=${suite}.*]=])\n"
      "set_tests_properties([=[${suite}]=] PROPERTIES LABELS [=[${labels}]=]"
      " RESOURCE_GROUPS cores:1 COST ${cost})\n")
  endif()
endforeach()
if(script STREQUAL "")
  message(FATAL_ERROR "${PROGRAM} lists no test suite")
endif()
file(WRITE ${TESTS_FILE} "${script}")
