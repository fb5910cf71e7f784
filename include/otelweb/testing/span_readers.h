// Readers for assertions on ended spans: an attribute's value by key with a
// printable placeholder when it is absent or of another type (so a failed
// EXPECT_EQ shows what was there), and an event by name.
//
//   EXPECT_EQ(StrAttr(span, "http.request.method"), "GET");
//   EXPECT_EQ(IntAttr(span, "http.response.status_code"), 200);
//
// Ownership: returned strings are copies; the SpanData must be alive during
// the call only.
// Thread-safety: ended spans are immutable; any thread may read them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/trace/span_data.h"

namespace otelweb::testing {

// True if the span has an attribute with this key.
bool HasAttr(const SpanData* span, std::string_view key);
// The string value; "<absent>" when missing, "<not a string: VALUE>" when the
// attribute has another type.
std::string StrAttr(const SpanData* span, std::string_view key);
// The integer value; -1 when missing or not an integer.
int64_t IntAttr(const SpanData* span, std::string_view key);
// The double value; nullopt when missing or not a double.
std::optional<double> DoubleAttr(const SpanData* span, std::string_view key);
// The bool value; nullopt when missing or not a bool.
std::optional<bool> BoolAttr(const SpanData* span, std::string_view key);
// The elements of a string array; empty when missing or not a string array.
std::vector<std::string> ArrAttr(const SpanData* span, std::string_view key);
// The first event with this name: returns `span` and sets *index, or nullptr.
const SpanData* EventNamed(const SpanData* span, std::string_view name, size_t* index);

}  // namespace otelweb::testing
