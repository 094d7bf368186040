# A CPack pre-build script: the packages install under the prefix /usr, and
# the configuration installed to PREFIX/etc goes to /etc, where Debian (and
# GNUInstallDirs for the prefix /usr) keeps it.
file(GLOB tw_usr_etcs LIST_DIRECTORIES true "${CPACK_TEMPORARY_DIRECTORY}/*/usr/etc")
foreach(usr_etc ${tw_usr_etcs})
  get_filename_component(usr ${usr_etc} DIRECTORY)
  get_filename_component(root ${usr} DIRECTORY)
  file(RENAME ${usr_etc} ${root}/etc)
endforeach()
