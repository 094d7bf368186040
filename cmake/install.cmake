# Install rules, the CMake package, pkg-config files and the Debian packages
# (cpack -G DEB). Included from the top-level CMakeLists.txt.
include(CMakePackageConfigHelpers)

# Components: "dev" is the libraries, headers and package files
# (libtracewire-dev), "daemon" is tracewired, the tracewire CLI, the systemd
# unit and the default configuration (tracewired).
install(TARGETS tracewire_exporter tracewire_sdk
  EXPORT tracewireTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tracewire
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")
install(FILES ${TW_GENERATED_INCLUDE}/tracewire/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tracewire COMPONENT dev)

set(TW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tracewire)
install(EXPORT tracewireTargets NAMESPACE tracewire:: DESTINATION ${TW_CMAKE_DIR}
  COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tracewireConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tracewireConfig.cmake INSTALL_DESTINATION ${TW_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tracewireConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tracewireConfig.cmake
  ${PROJECT_BINARY_DIR}/tracewireConfigVersion.cmake
  DESTINATION ${TW_CMAKE_DIR} COMPONENT dev)

# One pkg-config file per library. The gRPC and zlib they use inside are
# Requires.private: needed to link the static libraries only. The prefix is
# found from the .pc file's own place, so that an installed tree can move.
file(RELATIVE_PATH TW_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" TW_PC_TO_PREFIX "${TW_PC_TO_PREFIX}")
foreach(lib exporter sdk)
  set(TW_PC_NAME tracewire-${lib})
  set(TW_PC_LIB tracewire_${lib})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/tracewire.pc.in
    ${PROJECT_BINARY_DIR}/pkgconfig/tracewire-${lib}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/tracewire-${lib}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endforeach()

if(TRACEWIRE_BUILD_DAEMON)
  install(TARGETS tracewired tracewire RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    COMPONENT daemon)
  # The default configuration: the example with every key, keeping its data
  # under the unit's StateDirectory. PREFIX/etc/tracewire here; /etc/tracewire
  # in the Debian package (cmake/cpack_etc.cmake moves it).
  file(READ ${PROJECT_SOURCE_DIR}/config/tracewired.example.yaml tw_yaml)
  string(REPLACE "./tracewire-data" "/var/lib/tracewire" tw_yaml "${tw_yaml}")
  string(REPLACE "tracewired example configuration." "tracewired configuration (Debian package, tracewired.service)." tw_yaml "${tw_yaml}")
  file(WRITE ${PROJECT_BINARY_DIR}/packaging/tracewired.yaml "${tw_yaml}")
  install(FILES ${PROJECT_BINARY_DIR}/packaging/tracewired.yaml
    DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/tracewire COMPONENT daemon)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/tracewired.service
    DESTINATION lib/systemd/system COMPONENT daemon)
  install(FILES ${PROJECT_SOURCE_DIR}/config/tracewired.example.yaml
    DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT daemon)
endif()

# ---- Debian packages: cpack -G DEB (in the build directory) ----------------------
set(CPACK_PACKAGE_NAME tracewire)
set(CPACK_PACKAGE_VENDOR "tracewire")
set(CPACK_PACKAGE_CONTACT "tracewire developers <tracewire@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "OpenTelemetry OTLP over gRPC for C++")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/cpack_etc.cmake)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_COMPONENTS_ALL dev)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libtracewire-dev)
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "tracewire: the OpenTelemetry tracing SDK and OTLP/gRPC exporter for C++ (libraries, headers, CMake and pkg-config files)")
# What building against the static libraries needs.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libgrpc++-dev, libprotobuf-dev, libabsl-dev, zlib1g-dev, libcpp-httplib-dev, libzstd-dev, libssl-dev")
if(TRACEWIRE_BUILD_DAEMON)
  list(APPEND CPACK_COMPONENTS_ALL daemon)
  set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME tracewired)
  set(CPACK_DEBIAN_DAEMON_PACKAGE_SECTION net)
  set(CPACK_COMPONENT_DAEMON_DESCRIPTION
    "tracewired: an OTLP/gRPC receiver and gateway for traces, metrics and logs, and the tracewire CLI")
  set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/conffiles)
endif()
include(CPack)
