# What a fuzz target needs besides otelweb_core, shared by the libFuzzer build
# (fuzz/CMakeLists.txt) and the corpus replay tests (tests/CMakeLists.txt).
function(otelweb_fuzz_target_extras tgt name)
  if(name STREQUAL "sql_text_fuzz")
    # The SQLite statement-text tokenizer is pure code: built in, without SQLite.
    target_sources(${tgt} PRIVATE ${PROJECT_SOURCE_DIR}/src/sqlite/sql_text.cc)
    target_include_directories(${tgt} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  endif()
endfunction()
