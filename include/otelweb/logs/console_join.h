// The console join: log records printed under their spans in the console
// trace tree (otelweb::ConsoleSpanExporter), so a request reads as one story:
// request -> SQL -> log lines.
//
//   auto join = otelweb::logs::ConsoleLogJoin::Create();
//   ConsoleSpanExporterOptions console;  console.annotator = join;
//   ... the span exporter with `console`, and join->MakeExporter() as the
//   log record exporter (otelweb::Install does this when both signals use
//   the "console" exporter).
//
// Spans and records travel in separate pipelines with different delays, so
// the join holds each trace's records (time-ordered when printed) until the
// span exporter prints that trace. Bounds: at most max_records_per_trace
// records per trace (the rest are counted, "+N more" is printed) and
// max_traces traces held (past it the oldest trace's records print on their
// own). A record outside any trace prints at once as its own line. A record
// that arrives after its trace was printed (a "late" record: logged after the
// local root span ended, or delayed by its pipeline) prints at once as its
// own line, marked "late, trace <id>"; traces printed recently are
// remembered (the last max_traces) to recognise them.
//
// Ownership: shared (std::shared_ptr) by the span exporter's options and the
// log exporter it makes. Thread-safety: every method may be called from any
// thread (one internal mutex).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "otelweb/logs/log_record_exporter.h"
#include "otelweb/trace/console_exporter.h"

namespace otelweb::logs {

struct ConsoleLogJoinOptions {
  FILE* out = nullptr;  // for records printed on their own; nullptr: stdout
  size_t max_records_per_trace = 100;
  size_t max_traces = 1000;
};

class ConsoleLogJoin final : public ConsoleSpanAnnotator, public std::enable_shared_from_this<ConsoleLogJoin> {
 public:
  static std::shared_ptr<ConsoleLogJoin> Create(ConsoleLogJoinOptions options = {});
  ~ConsoleLogJoin() override;
  // A log record exporter feeding this join.
  std::unique_ptr<LogRecordExporter> MakeExporter();

  void LinesFor(const TraceId& trace, const SpanId& span, std::vector<std::string>& lines) override;
  void TracePrinted(const TraceId& trace, std::vector<std::string>& unclaimed) override;

  // What the exporter calls: hold (or print) these records.
  void Add(std::span<const LogRecord* const> records);
  // Prints every held record on its own (shutdown without the span side).
  void FlushHeld();
  // Counts since creation.
  uint64_t late_records() const noexcept;
  uint64_t records_over_limit() const noexcept;

  struct State;

 private:
  explicit ConsoleLogJoin(ConsoleLogJoinOptions options);
  std::unique_ptr<State> s_;
};

// The line printed for a record under its span: "INFO  body  {attrs}".
std::string FormatLogRecordForSpan(const LogRecord& record);

}  // namespace otelweb::logs
