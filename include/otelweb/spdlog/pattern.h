// spdlog pattern flags that print the trace context into text logs, so that
// plain files and stdout lines can be joined to traces without OTLP logs
// (OpenTelemetry specification, compatibility/logging_trace_context.md: the
// field names trace_id, span_id, trace_flags, lowercase hex).
//
//   otelweb::spdlog_bridge::SetPattern(*logger,
//       "%Y-%m-%d %H:%M:%S.%e %l trace_id=%Q span_id=%J trace_flags=%K %v");
//
// Default flag characters: %Q trace_id (32 hex), %J span_id (16 hex), %K
// trace_flags (2 hex); spdlog 1.10 uses none of them (choose others in
// PatternFlags). Outside any span they print all zeros (32/16 '0's and "00"),
// the W3C invalid ids: fixed width, never garbage. Unsampled requests print
// their valid ids with flags "00" (or "02", the random flag).
// The context is the calling thread's, or under otelweb's async logger the
// one carried from the thread that called log().
//
// Ownership: the formatter returned is the caller's (give it to a logger or
// sink). Thread-safety: as any spdlog formatter (called under the sink's lock).
#pragma once

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>

#include <memory>
#include <string>

namespace otelweb::spdlog_bridge {

struct PatternFlags {
  char trace_id = 'Q';
  char span_id = 'J';
  char trace_flags = 'K';
};

// A pattern_formatter for `pattern` that knows the three flags.
std::unique_ptr<::spdlog::pattern_formatter> MakePatternFormatter(std::string pattern, PatternFlags flags = {});
// logger.set_formatter(MakePatternFormatter(pattern, flags)): every sink of
// the logger gets the pattern.
void SetPattern(::spdlog::logger& logger, std::string pattern, PatternFlags flags = {});

}  // namespace otelweb::spdlog_bridge
