# Finds the Debian 12 packages the build uses (installed by tools/install-deps).
find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Embed)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)

# xmlrpc-c ships no CMake or pkg-config files; ask xmlrpc-c-config.
find_program(XMLRPC_C_CONFIG xmlrpc-c-config REQUIRED)
execute_process(COMMAND ${XMLRPC_C_CONFIG} --libs OUTPUT_VARIABLE _xmlrpc_libs
                OUTPUT_STRIP_TRAILING_WHITESPACE)
separate_arguments(_xmlrpc_libs UNIX_COMMAND "${_xmlrpc_libs}")
add_library(xmlrpc_c INTERFACE)
target_link_libraries(xmlrpc_c INTERFACE ${_xmlrpc_libs})
