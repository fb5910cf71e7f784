// OTLP/JSON for otelweb-view: parsing (hex ids, unknown fields ignored) and
// writing (hex ids, enums as integers) with libprotobuf's JSON support, and
// the API's JSON values of OTLP attributes.
//
// Why nlohmann-json before libprotobuf's parser: OTLP/JSON writes trace and
// span ids as hex, proto3 JSON as base64, and a 32-character hex string is
// also valid base64 (it would decode silently to 24 wrong bytes), so ids
// cannot be repaired after parsing. The document is parsed once with
// nlohmann-json, the "traceId"/"spanId"/"parentSpanId" strings are checked
// (hex of the right length, or empty) and rewritten as base64, then
// libprotobuf parses the result with ignore_unknown_fields (OTLP receivers
// must ignore fields they do not know).
//
// Ownership: plain functions on caller-owned values.
// Thread-safety: all functions are reentrant.
#pragma once

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "opentelemetry/proto/common/v1/common.pb.h"

namespace otelweb::view {

// Parses OTLP/JSON into `message`; false with `*error` (what is wrong and where).
bool ParseOtlpJson(std::string_view json, google::protobuf::Message* message, std::string* error);
// The same, from an already parsed document (modified: ids rewritten).
bool ParseOtlpJson(nlohmann::json& doc, google::protobuf::Message* message, std::string* error);

// OTLP/JSON of `message` (ids as hex, enums as integers, 64-bit integers as strings).
std::string ToOtlpJson(const google::protobuf::Message& message);

std::string Hex(std::string_view bytes);
// "" for an invalid string; `bytes` expected length.
bool FromHex(std::string_view hex, size_t bytes, std::string* out);

// API values: string, bool, number (int64 outside +-2^53 as a string), array,
// object for kvlist, base64 string for bytes.
nlohmann::json ToJson(const ::opentelemetry::proto::common::v1::AnyValue& value);
nlohmann::json ToJson(
    const google::protobuf::RepeatedPtrField<::opentelemetry::proto::common::v1::KeyValue>& attributes);

}  // namespace otelweb::view
