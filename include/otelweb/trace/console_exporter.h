// Console exporter: prints spans for people, as a trace tree per trace with a
// waterfall of durations and the span's most telling attributes first. For a
// machine-readable stream use the OTLP file exporter
// (otelweb::otlp::OtlpFileExporter, <otelweb/otlp/file_exporter.h>;
// OTEL_TRACES_EXPORTER=otlp/stdout), which writes OTLP/JSON lines.
//
// Ownership: the exporter writes to a FILE* it does not own (stdout by
// default); the caller keeps that stream open until Shutdown.
// Thread-safety: Export is called by one processor thread at a time;
// ForceFlush/Shutdown may come from another thread (an internal mutex guards
// the buffered traces).
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otelweb/trace/span_exporter.h"

namespace otelweb {

class TraceId;
class SpanId;

// Adds lines under the spans of the console tree: the logs signal's console
// join (otelweb/logs/console_join.h) prints each span's log records there.
// Called by the exporter while it prints a trace (under its lock).
class ConsoleSpanAnnotator {
 public:
  virtual ~ConsoleSpanAnnotator() = default;
  // Lines to print under this span, after its events (without newlines).
  virtual void LinesFor(const TraceId& trace, const SpanId& span, std::vector<std::string>& lines) = 0;
  // The trace has been printed: lines for it that no printed span claimed
  // (printed at the end of the trace), and the annotator may forget it.
  virtual void TracePrinted(const TraceId& trace, std::vector<std::string>& unclaimed) = 0;
};

struct ConsoleSpanExporterOptions {
  // The HTTP and database semantic-convention keys shown by default.
  static std::vector<std::string> DefaultHighlightKeys();

  FILE* out = nullptr;  // nullptr: stdout
  // Tree mode holds a trace's spans until its local root ends (or ForceFlush /
  // Shutdown), so children print under their parent. At most this many spans
  // are held; past it the oldest traces print as they are.
  size_t max_buffered_spans = 10000;
  // Colours and box-drawing characters; default: when `out` is a terminal.
  std::optional<bool> color{};
  // Attribute keys printed first on a span's line, in this order (when the
  // span has them); up to four other attributes follow. An application adds
  // its own keys, e.g. DefaultHighlightKeys() plus "user.id".
  std::vector<std::string> highlight_keys = DefaultHighlightKeys();
  // Lines under spans (e.g. their log records); none when empty.
  std::shared_ptr<ConsoleSpanAnnotator> annotator{};
};

// The earlier name, kept for one release.
using ConsoleExporterOptions [[deprecated("use ConsoleSpanExporterOptions")]] = ConsoleSpanExporterOptions;

class ConsoleSpanExporter final : public SpanExporter {
 public:
  explicit ConsoleSpanExporter(ConsoleSpanExporterOptions options = {});
  ~ConsoleSpanExporter() override;
  ExportResult Export(std::span<EndedSpan> batch) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override { return "console"; }

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace otelweb
