// The JSON of `GET /api/traces/<id>` (docs/view.md), written straight into a
// string: no document tree per span (nlohmann-json built one object per span,
// attribute and event, and the resource again for every span: 3 s for a
// 10 000-span trace under load). Each distinct resource and scope is written
// once, in the top-level `resources` and `scopes` arrays, and a span names
// them by `resourceIndex` and `scopeIndex`; members holding their default
// (no events, no links, zero dropped counts, empty trace state or status
// message) are left out, which halves a large trace's answer.
//
// Values follow the API's rules (otlp_json.h ToJson): string, bool, number
// (int64 outside +-2^53 as a string), array, object for kvlist, base64 for
// bytes; object keys sorted, a repeated key keeps its last value; invalid
// UTF-8 replaced by U+FFFD.
//
// Ownership: returns a new string. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "view/store.h"

namespace otelweb::view {

// {"traceId": "<hex>", "spans": [...], "resources": [...], "scopes": [...]}
// with the spans in the given order (docs/view.md).
std::string TraceJson(std::string_view trace_id, const std::vector<StoredSpan>& spans);

// Appends `s` as a JSON string (quotes included).
void AppendJsonString(std::string& out, std::string_view s);

// Appends the attributes as a JSON object.
void AppendAttributesJson(
    std::string& out,
    const google::protobuf::RepeatedPtrField<::opentelemetry::proto::common::v1::KeyValue>&
        attributes);

}  // namespace otelweb::view
