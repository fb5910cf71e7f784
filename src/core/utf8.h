// UTF-8 validation and repair for encoders.
//
// Decision: spans keep string bytes exactly as given (the hot path never
// validates). Every encoder (console, OTLP protobuf, OTLP/JSON) passes
// strings through AppendSanitizedUtf8 when it writes them, so an export is
// always valid UTF-8 whatever the application put in an attribute.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace otelweb {

bool IsValidUtf8(std::string_view s) noexcept;
// Appends `in`, replacing each invalid sequence (bad lead byte, truncated
// sequence, overlong form, surrogate, code point above U+10FFFF) by U+FFFD.
void AppendSanitizedUtf8(std::string& out, std::string_view in);

}  // namespace otelweb
