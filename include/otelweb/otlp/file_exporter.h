// OTLP file exporter (OpenTelemetry specification, "OTLP File Exporter",
// status Development): writes every exported batch as one OTLP/JSON
// `TracesData` object on one line (JSON Lines, UTF-8, '\n' separated; the
// preferred file extension is .jsonl). Lines from one process never
// interleave; the file holds traces only.
//
// Selected by OTEL_TRACES_EXPORTER=otlp/stdout (the specification's name),
// which writes to standard output and is paired with a batch span processor
// by otelweb::InstallTracing / otelweb::Install. The specification defines no
// variable for a file path: a program that wants a file passes
// OtlpFileExporterOptions::path in code (see docs/configuration.md).
//
// Ownership: with `path` the exporter opens the file (appending, created if
// missing) and closes it at Shutdown or destruction; with `out` the caller
// owns the stream and keeps it open until Shutdown.
// Thread-safety: Export, ForceFlush and Shutdown may be called from any
// thread; an internal mutex serialises writes, so each batch is one whole
// line.
// Errors: a file that cannot be opened or written is reported once through
// otelweb diagnostics; Export then returns ExportResult::kFailure.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "otelweb/trace/span_exporter.h"

namespace otelweb::otlp {

struct OtlpFileExporterOptions {
  // A file to append to. Empty: write to `out`.
  std::string path{};
  // A stream the caller owns; nullptr: standard output. Ignored with `path`.
  FILE* out = nullptr;
};

class OtlpFileExporter final : public SpanExporter {
 public:
  explicit OtlpFileExporter(OtlpFileExporterOptions options = {});
  ~OtlpFileExporter() override;
  ExportResult Export(std::span<EndedSpan> batch) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override { return "otlp-file"; }

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace otelweb::otlp
