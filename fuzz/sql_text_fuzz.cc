// SQLite statement text (src/sqlite/sql_text): sanitizing and summarising any
// bytes never crashes, the sanitized text is never longer than the input (each
// literal becomes one '?'), and the summary stays within its 255 bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sqlite/sql_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  otelweb::sqlite::internal::SanitizeSql(in, &out);
  if (out.size() > in.size()) std::abort();
  otelweb::sqlite::internal::SqlInfo info = otelweb::sqlite::internal::AnalyzeSql(in);
  if (info.summary.size() > 255) std::abort();
  if (!info.operation.empty() && !info.summary.starts_with(info.operation)) std::abort();
  return 0;
}
