// Console exporter: prints spans for people (a trace tree per trace, with a
// waterfall of durations) or for machines (one OTLP/JSON line per span).
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

#include "otelweb/trace/span_exporter.h"

namespace otelweb {

struct ConsoleExporterOptions {
  enum class Format { kTree, kJsonLines };
  Format format = Format::kTree;
  FILE* out = nullptr;  // nullptr: stdout
  // Tree mode holds a trace's spans until its local root ends (or ForceFlush /
  // Shutdown), so children print under their parent. At most this many spans
  // are held; past it the oldest traces print as they are.
  size_t max_buffered_spans = 10000;
  // Colours and box-drawing characters (tree mode); default: when `out` is a terminal.
  std::optional<bool> color{};
};

class ConsoleSpanExporter final : public SpanExporter {
 public:
  explicit ConsoleSpanExporter(ConsoleExporterOptions options = {});
  ~ConsoleSpanExporter() override;
  ExportResult Export(std::span<EndedSpan> batch) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override { return "console"; }

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Renders spans as OTLP/JSON (one ExportTraceServiceRequest object holding
// them). Strings are made valid UTF-8 here. Shared with the OTLP/JSON
// transport so both print the same bytes.
std::string SpansToOtlpJson(std::span<const SpanData* const> spans);

}  // namespace otelweb
