# The module layering (docs/architecture.md) as a test: every #include "offmon/<module>/..."
# (or <offmon/<module>/...>) in a module's sources and headers must name the module itself
# or one it may know. Also: a public header (include/offmon/<module>/) includes no private
# *_impl.h, and every module directory has a rule here.
#   cmake -DSOURCE_DIR=<repo> -P tests/architecture/check_layers.cmake
# Exits non-zero naming each file and forbidden edge. Tests, bench and tools/ are not
# modules and are not checked.
cmake_minimum_required(VERSION 3.25)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<repo> -P check_layers.cmake")
endif()

# What each module may include besides itself (issue 16's layout). The "never" rules:
# store knows nothing above it; collector and analyzer know no analyzer/query/notify/serve/
# daemon (nor each other); query, notify and serve never know daemon; only daemon knows
# every module. query reads notify's outbox records (notification.h) for `offmon alerts`.
set(allowed_common "")
set(allowed_store common)
set(allowed_collector common store)
set(allowed_analyzer common store)
set(allowed_notify common store analyzer)
set(allowed_query common store analyzer notify)
set(allowed_serve common store query)
set(allowed_daemon common store collector analyzer notify query serve)
set(modules common store collector analyzer notify query serve daemon)

set(violations 0)
macro(violation text)
  message(NOTICE "${text}")
  math(EXPR violations "${violations} + 1")
endmacro()

# Every module directory (one with include/offmon/<name>/) needs a rule.
file(GLOB include_dirs LIST_DIRECTORIES true "${SOURCE_DIR}/*/include/offmon/*")
foreach(dir IN LISTS include_dirs)
  get_filename_component(name "${dir}" NAME)
  if(NOT name IN_LIST modules)
    violation("architecture: module ${name} (${dir}) has no rule in tests/architecture/check_layers.cmake")
  endif()
endforeach()

set(checked 0)
foreach(module IN LISTS modules)
  file(GLOB_RECURSE files "${SOURCE_DIR}/${module}/*.cpp" "${SOURCE_DIR}/${module}/*.h")
  foreach(file IN LISTS files)
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
    math(EXPR checked "${checked} + 1")
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    set(public FALSE)
    if(rel MATCHES "^${module}/include/offmon/${module}/")
      set(public TRUE)
    endif()
    foreach(line IN LISTS includes)
      if(line MATCHES "#[ \t]*include[ \t]*[<\"]offmon/([a-z_0-9]+)/")
        set(target "${CMAKE_MATCH_1}")
        if(NOT target STREQUAL module AND NOT target IN_LIST allowed_${module})
          if(target IN_LIST modules)
            string(JOIN ", " may ${allowed_${module}})
            violation("architecture: ${rel}: ${module} -> ${target} is forbidden (${module} may include: ${may})\n    ${line}")
          else()
            violation("architecture: ${rel}: includes unknown module ${target}\n    ${line}")
          endif()
        endif()
      elseif(public AND line MATCHES "#[ \t]*include[ \t]*\"([^\"]*_impl\\.h)\"")
        violation("architecture: ${rel}: public header includes private ${CMAKE_MATCH_1}\n    ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "architecture: ${violations} violation(s) in ${checked} files (rules: docs/architecture.md)")
endif()
string(JOIN " " names ${modules})
message(STATUS "architecture: ${checked} files in ${names} follow the layering")
