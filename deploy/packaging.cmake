# Debian packages (`cmake --build build --target package`): hollerith (the CLI),
# hollerith-coordinator and hollerith-worker (daemon, systemd unit, /etc/hollerith/*.env, the
# `hollerith` system user). Depends come from dpkg-shlibdeps. Included by the top CMakeLists.
set(deploy ${PROJECT_SOURCE_DIR}/deploy)

install(TARGETS hollerith RUNTIME DESTINATION bin COMPONENT cli)
# Generated at build time by `hollerith completion bash` (cli/CMakeLists.txt).
install(FILES ${HOLLERITH_BASH_COMPLETION} DESTINATION share/bash-completion/completions
  COMPONENT cli)
install(TARGETS hollerith-coordinator RUNTIME DESTINATION bin COMPONENT coordinator)
install(TARGETS hollerith-worker RUNTIME DESTINATION bin COMPONENT worker)
foreach(role coordinator worker)
  install(FILES ${deploy}/systemd/hollerith-${role}.service DESTINATION lib/systemd/system
    COMPONENT ${role})
  install(FILES ${deploy}/etc/${role}.env DESTINATION /etc/hollerith COMPONENT ${role})
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/hollerith-${role}
    COMPONENT ${role})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/hollerith-${role}/docs
    COMPONENT ${role} FILES_MATCHING PATTERN "*.md")
  # The env file is the admin's: dpkg keeps their edits on upgrade.
  file(WRITE ${PROJECT_BINARY_DIR}/deploy/${role}/conffiles "/etc/hollerith/${role}.env\n")
  configure_file(${deploy}/debian/postinst ${PROJECT_BINARY_DIR}/deploy/${role}/postinst COPYONLY)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/hollerith COMPONENT cli)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/hollerith/docs COMPONENT cli
  FILES_MATCHING PATTERN "*.md")

# libhollerith-client-dev: the C++ client library (static) with <hollerith/client.h>, a CMake
# package (find_package(Hollerith) -> Hollerith::client) and a pkg-config file (hollerith-client).
set(client_targets hollerith_client hollerith_auth hollerith_pki hollerith_wire hollerith_proto
  hollerith_messages hollerith_job hollerith_base)
foreach(t ${client_targets})
  string(REPLACE "hollerith_" "" short ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${short})
endforeach()
set(client_libdir lib/${CMAKE_LIBRARY_ARCHITECTURE}/hollerith)
target_include_directories(hollerith_client INTERFACE
  $<INSTALL_INTERFACE:include> $<INSTALL_INTERFACE:include/hollerith>)
install(TARGETS ${client_targets} EXPORT HollerithTargets COMPONENT client-dev
  ARCHIVE DESTINATION ${client_libdir})
install(FILES ${PROJECT_SOURCE_DIR}/cli/client/client.h
  ${PROJECT_SOURCE_DIR}/common/auth/auth_token.h DESTINATION include/hollerith COMPONENT client-dev)
install(FILES ${PROJECT_SOURCE_DIR}/common/base/status.h DESTINATION include/hollerith/common/base
  COMPONENT client-dev)
install(FILES ${PROJECT_BINARY_DIR}/proto/hollerith.pb.h DESTINATION include/hollerith
  COMPONENT client-dev)
install(EXPORT HollerithTargets NAMESPACE Hollerith:: DESTINATION lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/Hollerith
  COMPONENT client-dev)
include(CMakePackageConfigHelpers)
configure_package_config_file(${deploy}/cmake/HollerithConfig.cmake.in
  ${PROJECT_BINARY_DIR}/deploy/HollerithConfig.cmake
  INSTALL_DESTINATION lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/Hollerith)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/deploy/HollerithConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/deploy/HollerithConfig.cmake
  ${PROJECT_BINARY_DIR}/deploy/HollerithConfigVersion.cmake
  DESTINATION lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/Hollerith COMPONENT client-dev)
configure_file(${deploy}/cmake/hollerith-client.pc.in ${PROJECT_BINARY_DIR}/deploy/hollerith-client.pc
  @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/deploy/hollerith-client.pc
  DESTINATION lib/${CMAKE_LIBRARY_ARCHITECTURE}/pkgconfig COMPONENT client-dev)
install(FILES ${PROJECT_SOURCE_DIR}/examples/client_example.cc
  ${PROJECT_SOURCE_DIR}/examples/CMakeLists.txt
  DESTINATION share/doc/libhollerith-client-dev/examples COMPONENT client-dev)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hollerith)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Hollerith developers <hollerith@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed executor of dependent stacks of cards")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli coordinator worker client-dev python)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/hollerith")
set(CPACK_DEBIAN_CLI_PACKAGE_NAME hollerith)
set(CPACK_COMPONENT_CLI_DESCRIPTION
  "Hollerith command line: validate, run --local, submit, watch, logs, verify\n The `hollerith` command of the Hollerith executor.")
foreach(role coordinator worker)
  string(TOUPPER ${role} ROLE)
  set(CPACK_DEBIAN_${ROLE}_PACKAGE_NAME hollerith-${role})
  set(CPACK_DEBIAN_${ROLE}_PACKAGE_DEPENDS "passwd")
  set(CPACK_DEBIAN_${ROLE}_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/deploy/${role}/postinst ${PROJECT_BINARY_DIR}/deploy/${role}/conffiles)
  set(CPACK_DEBIAN_${ROLE}_PACKAGE_CONTROL_STRICT_PERMISSION ON)
endforeach()
set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_NAME libhollerith-client-dev)
set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_ARCHITECTURE amd64)
# protobuf-compiler-grpc: Debian's gRPCConfig.cmake fails without the plugin it names.
set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_DEPENDS
  "libgrpc++-dev (>= 1.51), libprotobuf-dev (>= ${Protobuf_VERSION}), libssl-dev, protobuf-compiler-grpc")
set(CPACK_COMPONENT_CLIENT-DEV_DESCRIPTION
  "C++ client library of the Hollerith coordinator\n Submit, watch (per-event and completion callbacks), status, logs, cancel; find_package(Hollerith) or pkg-config hollerith-client.")
# python3-hollerith: the Python client (python/CMakeLists.txt installs it), pure Python.
set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-hollerith)
set(CPACK_DEBIAN_PYTHON_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS
  "python3 (>= 3.9), python3-grpcio (>= 1.51), python3-protobuf (>= 3.21), python3-yaml")
set(CPACK_COMPONENT_PYTHON_DESCRIPTION
  "Python client of the Hollerith coordinator\n Submit, wait for, follow (events, logs), cancel and build jobs from Python; blocking or asyncio.")
set(CPACK_COMPONENT_COORDINATOR_DESCRIPTION
  "Hollerith coordinator daemon and its systemd unit\n Accepts jobs, places stacks of cards on workers and releases their dependencies.")
set(CPACK_COMPONENT_WORKER_DESCRIPTION
  "Hollerith worker daemon and its systemd unit\n Runs the stacks of cards a coordinator sends, on this node.")
include(CPack)

# deploy/'s manifests (Kubernetes, compose), parsed and cross-checked without a cluster.
add_test(NAME deploy_manifests COMMAND /usr/bin/python3 ${deploy}/test/manifests_test.py)
set_tests_properties(deploy_manifests PROPERTIES TIMEOUT 60)
