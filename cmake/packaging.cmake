# Debian packages, built with `cpack -G DEB` in a tree configured for the
# system (ci/debian_packages.sh shows the whole recipe):
#   libsmaN     the shared library, SONAME libsma.so.N, N the major version
#               (component runtime; libsma1 for 1.x)
#   libsma-dev  header, static library, the .so link, CMake package, sma.pc
#               (component dev)
#   sma-tools   the `sma` command and its man page (component tools)
# Each package carries its copyright and a Debian changelog, made here;
# dependencies come from dpkg-shlibdeps and between the components.
set(CPACK_PACKAGE_NAME libsma)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "libsma developers <libsma-devel@lists.libsma.invalid>")
set(CPACK_PACKAGE_HOMEPAGE_URL "")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libsma.so.N of this build, for the command; the component dependency
# below (sma-tools on libsmaN of the same version) states it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_CURRENT_BINARY_DIR})
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
# The library's shlibs (what dpkg-shlibdeps of programs linking it writes
# into their Depends) and the ldconfig trigger Debian policy asks for.
# CPack 3.25 also writes postinst/postrm scripts calling ldconfig for any
# library under /usr/lib (lintian: maintscript-calls-ldconfig, a warning;
# ldconfig then runs once more, harmlessly).
set(_sma_runtime_package libsma${PROJECT_VERSION_MAJOR}) # Debian: named after the SONAME
set(_sma_control ${CMAKE_CURRENT_BINARY_DIR}/debian-control)
file(WRITE ${_sma_control}/shlibs "libsma ${PROJECT_VERSION_MAJOR} ${_sma_runtime_package} (>= ${PROJECT_VERSION})\n")
file(WRITE ${_sma_control}/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${_sma_control}/shlibs ${_sma_control}/triggers)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${_sma_runtime_package})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libsma-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME sma-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "named shared-memory N-dimensional arrays (shared library)
libsma puts an array (shape, dtype) in a named shared-memory segment that
worker processes load by name, optionally through a NumPy-style slice,
and work on in place. Segments are created exclusively and owner-only,
carry a checked metadata record, and are readable by NumPy.")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "named shared-memory N-dimensional arrays (development files)
The C header sma.h, the static library, a CMake package (find_package(sma))
and a pkg-config file (sma.pc) for building programs against libsma.")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "inspect and manage libsma shared-memory arrays
The sma command creates, lists, inspects, removes and garbage-collects
libsma segments, moves arrays to and from NumPy .npy files, prints their
values, and runs a multi-process demonstration.")
include(CPack)
cpack_add_component(runtime DISPLAY_NAME "libsma shared library")
cpack_add_component(dev DISPLAY_NAME "libsma development files" DEPENDS runtime)
cpack_add_component(tools DISPLAY_NAME "sma command" DEPENDS runtime)

# /usr/share/doc/<package>/{copyright,changelog.gz} for each package.
string(TIMESTAMP _sma_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
foreach(_comp runtime dev tools)
  string(TOUPPER ${_comp} _upper)
  set(_pkg ${CPACK_DEBIAN_${_upper}_PACKAGE_NAME})
  set(_dir ${CMAKE_CURRENT_BINARY_DIR}/debian-doc/${_pkg})
  file(WRITE ${_dir}/copyright
"libsma: named shared-memory N-dimensional arrays for C

Copyright 2026 the libsma developers.

No license has been chosen for libsma yet; until one is, these packages
grant no rights beyond those the law gives. See the README of the source.
")
  file(WRITE ${_dir}/changelog
"${_pkg} (${PROJECT_VERSION}) unstable; urgency=medium

  * Built from the libsma source tree; its CHANGELOG.md lists the changes.

 -- ${CPACK_PACKAGE_CONTACT}  ${_sma_deb_date}
")

  if(SMA_GZIP)
    execute_process(COMMAND ${SMA_GZIP} -9nf ${_dir}/changelog)
    install(FILES ${_dir}/changelog.gz DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${_pkg}
            COMPONENT ${_comp})
  endif()
  install(FILES ${_dir}/copyright DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${_pkg}
          COMPONENT ${_comp})
endforeach()
