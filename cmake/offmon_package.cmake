# The Debian package (CPack DEB): offmon_<version>_amd64.deb with
#   /usr/bin/offmon
#   /usr/lib/systemd/system/offmon.service   tools/offmon.service, pointed at /usr/bin
#   /usr/share/doc/offmon/               README.md, docs/*.md, examples/offmon.toml
# and maintainer scripts (tools/debian/) that create the `offmon` system user, tell
# systemd about the unit when it runs, and stop the service before removal. Nothing goes to /etc: `dpkg -r` leaves no file
# behind, and the operator writes /etc/offmon/offmon.toml (e.g. with `offmon init`).
# Built by tools/package.sh (a release build) or `cpack -G DEB` in any build directory;
# docs/operations.md, "Debian package".
# Packaging needs only the binary built, not every test and benchmark of the build directory.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)
install(TARGETS offmon RUNTIME DESTINATION bin COMPONENT offmon)

# The repository's unit runs /usr/local/bin/offmon (a manual install); the package's, /usr/bin.
file(READ ${CMAKE_SOURCE_DIR}/tools/offmon.service offmon_unit)
string(REPLACE "/usr/local/bin/offmon" "/usr/bin/offmon" offmon_unit "${offmon_unit}")
string(REPLACE "/usr/local/share/doc/offmon" "/usr/share/doc/offmon" offmon_unit "${offmon_unit}")
file(WRITE ${CMAKE_BINARY_DIR}/package/offmon.service "${offmon_unit}")
install(FILES ${CMAKE_BINARY_DIR}/package/offmon.service DESTINATION lib/systemd/system COMPONENT offmon)

set(offmon_doc_dir share/doc/offmon)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${offmon_doc_dir} COMPONENT offmon)
file(GLOB offmon_doc_pages ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${offmon_doc_pages} DESTINATION ${offmon_doc_dir} COMPONENT offmon)
install(FILES ${CMAKE_SOURCE_DIR}/docs/offmon.example.toml DESTINATION ${offmon_doc_dir}/examples
        RENAME offmon.toml COMPONENT offmon)
install(FILES ${CMAKE_SOURCE_DIR}/tools/debian/copyright DESTINATION ${offmon_doc_dir} COMPONENT offmon)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME offmon)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "offmon")
set(CPACK_PACKAGE_CONTACT "offmon maintainers <offmon@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "off-chain monitor for PM2 workers and their PostgreSQL pipeline")
set(CPACK_PACKAGE_DESCRIPTION
    "offmon collects PM2, /proc, PostgreSQL and system metrics into a local SQLite\n time-series store, turns the history into alerts and prints the health report.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};offmon;/")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # offmon_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the binary's shared libraries
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql-client, nodejs")
# No postrm and no conffiles, so `dpkg -r` leaves nothing, not even a config-files state.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/tools/debian/postinst ${CMAKE_SOURCE_DIR}/tools/debian/prerm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
