# Installs gpushare from BINARY_DIR into a scratch prefix and builds examples/consumer against
# it with find_package(gpushare), then runs the consumer.  Any failing step fails the test.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
# The conformance runners are test tooling: not installed with the library's headers.
file(GLOB_RECURSE _runners ${prefix}/include/gpushare/*conform*)
if(_runners OR EXISTS ${prefix}/include/gpushare/modes/conform)
  message(FATAL_ERROR "conformance runners were installed: ${_runners}")
endif()
if(NOT EXISTS ${prefix}/include/gpushare/catalogue.hpp OR NOT EXISTS ${prefix}/include/gpushare/modes/aliyun/policy.hpp)
  message(FATAL_ERROR "the catalogue or a mode's policy header was not installed")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/consumer -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
