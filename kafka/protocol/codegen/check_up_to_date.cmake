# ctest kafka_codegen_up_to_date: regenerate into OUT_DIR, compare with the
# committed SOURCE_DIR/generated. Fails on any difference.
file(REMOVE_RECURSE ${OUT_DIR})
execute_process(
  COMMAND ${PYTHON} ${SOURCE_DIR}/codegen/generate.py
          --definitions ${SOURCE_DIR}/definitions/message --out ${OUT_DIR}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "generate.py failed (${rc})")
endif()
execute_process(COMMAND diff -r -u ${SOURCE_DIR}/generated ${OUT_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kafka/protocol/generated is stale: run "
                      "python3 kafka/protocol/codegen/generate.py and commit the result")
endif()
