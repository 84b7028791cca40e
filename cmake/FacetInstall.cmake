# `cmake --install` exports facet::kernels and facet::engine so that another project can
# find_package(facet) and link facet::engine (see tests/consumer).
include(CMakePackageConfigHelpers)
# Installed libraries find each other (engine -> kernels) wherever the prefix is moved.
set_target_properties(facet_kernels facet_engine PROPERTIES INSTALL_RPATH "$ORIGIN")
install(TARGETS facet_kernels facet_engine EXPORT facetTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/facet)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/kernels ${PROJECT_SOURCE_DIR}/engine
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/facet
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/facet_config.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/facet)
install(EXPORT facetTargets NAMESPACE facet:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/facet)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/facetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/facetConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/facet)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/facetConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/facetConfig.cmake ${PROJECT_BINARY_DIR}/facetConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/facet)
