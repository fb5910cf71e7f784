// Private: the OTLP/JSON value writers of json_encoder.cc, shared with the
// logs and metrics encoders (logs_json_encoder.cc, metrics_encoder.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otelweb/resource.h"

namespace otelweb::otlp::internal::json {

// A JSON string literal (UTF-8 repaired, escaped).
void JsonString(std::string& out, std::string_view s);
// proto3 JSON double (non-finite values as strings).
void JsonDouble(std::string& out, double d);
// proto3 JSON int64 and uint64 (strings).
void JsonInt64(std::string& out, int64_t v);
void JsonU64(std::string& out, uint64_t v);
// An AnyValue object from an owned value (resource attributes).
void AnyValueOwned(std::string& out, const OwnedValue& v);

}  // namespace otelweb::otlp::internal::json
