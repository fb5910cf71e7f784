// The in-memory and console log record exporters, and the text-log trace
// fields.
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>

#include "core/internal.h"
#include "logs/internal.h"
#include "otelweb/logs/console_exporter.h"
#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/logs/trace_fields.h"
#include "otelweb/trace/tracer.h"

namespace otelweb::logs {

ExportResult InMemoryLogRecordExporter::Export(std::span<const LogRecord* const> batch) noexcept {
  if (shut_down_) return ExportResult::kFailure;
  try {
    std::lock_guard<std::mutex> lock(storage_->mu);
    for (const LogRecord* r : batch) storage_->records.push_back(*r);
  } catch (...) {
    return ExportResult::kFailure;
  }
  return ExportResult::kSuccess;
}

OperationResult InMemoryLogRecordExporter::Shutdown(std::chrono::milliseconds) noexcept {
  shut_down_ = true;
  return OperationResult::Ok();
}

std::vector<LogRecord> InMemoryLogRecordExporter::records() const {
  std::lock_guard<std::mutex> lock(storage_->mu);
  return storage_->records;
}

void InMemoryLogRecordExporter::Clear() {
  std::lock_guard<std::mutex> lock(storage_->mu);
  storage_->records.clear();
}

namespace {

void AppendValue(std::string& out, const AttributeValue& v) {
  switch (v.type()) {
    case AttributeType::kBool:
      out += v.as_bool() ? "true" : "false";
      break;
    case AttributeType::kInt:
      out += std::to_string(v.as_int());
      break;
    case AttributeType::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v.as_double());
      out += buf;
      break;
    }
    case AttributeType::kString:
      out += '"';
      out += v.as_string();
      out += '"';
      break;
    default:
      break;
  }
}

void AppendTime(std::string& out, Timestamp t) {
  const auto ns = t.time_since_epoch().count();
  const time_t secs = static_cast<time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>((ns % 1000000000) / 1000));
  out += buf;
}

}  // namespace

std::string FormatLogRecordLine(const LogRecord& r) {
  std::string out;
  AppendTime(out, r.timestamp().time_since_epoch().count() != 0 ? r.timestamp() : r.observed_timestamp());
  out += ' ';
  std::string_view sev = r.severity_text().empty() ? SeverityName(r.severity()) : r.severity_text();
  out += sev;
  if (sev.size() < 5) out.append(5 - sev.size(), ' ');
  out += ' ';
  const AttributeValue body = r.body();
  if (r.has_structured_body()) {
    internal::AppendStructuredBody(out, r.structured_body(), AppendValue);
  } else if (body.type() == AttributeType::kString) {
    out += body.as_string();
  } else {
    AppendValue(out, body);
  }
  if (r.attribute_count() != 0) {
    out += "  {";
    for (size_t i = 0; i < r.attribute_count(); ++i) {
      const KeyValue kv = r.attribute(i);
      if (i != 0) out += ", ";
      out += kv.key;
      out += '=';
      AppendValue(out, kv.value);
    }
    out += '}';
  }
  if (r.trace_id().IsValid()) {
    const TraceFields f = TraceFields::From(SpanContext(r.trace_id(), r.span_id(), r.trace_flags(), false));
    out += "  ";
    out += f.ToText();
  }
  return out;
}

ConsoleLogRecordExporter::ConsoleLogRecordExporter(ConsoleLogRecordExporterOptions options)
    : out_(options.out != nullptr ? options.out : &std::cout) {}

ExportResult ConsoleLogRecordExporter::Export(std::span<const LogRecord* const> batch) noexcept {
  if (shut_down_) return ExportResult::kFailure;
  try {
    std::string text;
    for (const LogRecord* r : batch) {
      text += FormatLogRecordLine(*r);
      text += '\n';
    }
    out_->write(text.data(), static_cast<std::streamsize>(text.size()));
    out_->flush();
  } catch (...) {
    return ExportResult::kFailure;
  }
  return ExportResult::kSuccess;
}

OperationResult ConsoleLogRecordExporter::Shutdown(std::chrono::milliseconds) noexcept {
  shut_down_ = true;
  return OperationResult::Ok();
}

TraceFields TraceFields::From(const SpanContext& sc) noexcept {
  TraceFields f;
  if (sc.trace_id().IsValid() && sc.span_id().IsValid()) {
    sc.trace_id().ToHex(f.trace_id);
    sc.span_id().ToHex(f.span_id);
    static constexpr char kHex[] = "0123456789abcdef";
    f.trace_flags[0] = kHex[(sc.flags().value >> 4) & 0xF];
    f.trace_flags[1] = kHex[sc.flags().value & 0xF];
  } else {
    std::memset(f.trace_id, '0', 32);
    std::memset(f.span_id, '0', 16);
    f.trace_flags[0] = f.trace_flags[1] = '0';
  }
  f.trace_id[32] = f.span_id[16] = f.trace_flags[2] = '\0';
  return f;
}

std::string TraceFields::ToText() const {
  std::string s;
  s.reserve(80);
  s += "trace_id=";
  s += trace_id;
  s += " span_id=";
  s += span_id;
  s += " trace_flags=";
  s += trace_flags;
  return s;
}

void TraceFields::AppendJsonMembers(std::string& out) const {
  out += "\"trace_id\":\"";
  out += trace_id;
  out += "\",\"span_id\":\"";
  out += span_id;
  out += "\",\"trace_flags\":\"";
  out += trace_flags;
  out += '"';
}

TraceFields CurrentTraceFields() noexcept {
  return TraceFields::From(otelweb::internal::CurrentContextRef().span_context());
}

std::ostream& operator<<(std::ostream& os, const TraceFields& f) { return os << f.ToText(); }

namespace internal {
void AppendStructuredBody(std::string& out, const BodyView& v, void (*scalar)(std::string&, const AttributeValue&)) {
  if (v.kind() == BodyValue::Kind::kScalar) {
    scalar(out, v.scalar());
    return;
  }
  const bool map = v.kind() == BodyValue::Kind::kMap;
  out += map ? '{' : '[';
  bool first = true;
  v.ForEach([&](std::string_view key, const BodyView& e) {
    if (!first) out += ", ";
    first = false;
    if (map) {
      out += key;
      out += ": ";
    }
    AppendStructuredBody(out, e, scalar);
  });
  out += map ? '}' : ']';
}
}  // namespace internal

}  // namespace otelweb::logs
