# The Debian package: `cpack -G DEB` in the build tree (or scripts, see README "Install on a
# server / NAS"). Configure with the prefix the package installs to (/usr, the default): the
# units and the D-Bus activation file name the daemon by its absolute path.
set(CPACK_PACKAGE_NAME nsbroker)
set(CPACK_PACKAGE_VENDOR "nsbroker")
set(CPACK_PACKAGE_CONTACT "nsbroker maintainers <nsbroker@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Namespace sandboxes for unprivileged users, built by a root daemon")
set(CPACK_PACKAGE_DESCRIPTION
    "nsbrokerd builds Linux namespace sandboxes on behalf of unprivileged callers, on hosts\n\
where unprivileged user namespaces are not available. Clients: nsbroker run (bubblewrap\n\
options), a bwrap front, and the D-Bus interface org.nsbroker.Broker1.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Absolute destinations (units, D-Bus files, /etc) go through DESTDIR into the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from dpkg-shlibdeps (libsdbus-c++1, libprotobuf-lite32, libseccomp2,
# libspdlog1.10, libsystemd0, ...), plus what the service needs at run time.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd, dbus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# /etc/nsbroker/policy.pbtxt is a conffile: dpkg keeps an administrator's edits on upgrade.
if(EXISTS "${PROJECT_SOURCE_DIR}/config/policy.pbtxt")
  set(NSBROKER_CONFFILES "${CMAKE_CURRENT_BINARY_DIR}/deb/conffiles")
file(WRITE "${NSBROKER_CONFFILES}" "${NSBROKER_CONFIG_DIR}/policy.pbtxt\n")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_SOURCE_DIR}/deb/postinst;${CMAKE_CURRENT_SOURCE_DIR}/deb/prerm;${CMAKE_CURRENT_SOURCE_DIR}/deb/postrm;${NSBROKER_CONFFILES}")
include(CPack)
