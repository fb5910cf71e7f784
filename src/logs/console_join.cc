// ConsoleLogJoin: per-trace buffers of formatted log records, claimed by the
// console span exporter when it prints the trace.
#include "otelweb/logs/console_join.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "logs/internal.h"
#include "otelweb/logs/console_exporter.h"

namespace otelweb::logs {

namespace {

void AppendValue(std::string& out, const AttributeValue& v) {
  switch (v.type()) {
    case AttributeType::kBool:
      out += v.as_bool() ? "true" : "false";
      break;
    case AttributeType::kInt:
      out += std::to_string(v.as_int());
      break;
    case AttributeType::kDouble:
      out += std::to_string(v.as_double());
      break;
    case AttributeType::kString:
      out += v.as_string();
      break;
    default:
      break;
  }
}

bool Shown(std::string_view key) {
  // Source location and thread id are noise in a tree meant for reading.
  return key.substr(0, 5) != "code." && key != "thread.id";
}

}  // namespace

std::string FormatLogRecordForSpan(const LogRecord& r) {
  std::string out;
  std::string_view sev = SeverityName(r.severity());
  if (sev.empty()) sev = r.severity_text();
  out += "log ";
  out += sev;
  if (sev.size() < 5) out.append(5 - sev.size(), ' ');
  out += ' ';
  if (r.has_structured_body()) {
    internal::AppendStructuredBody(out, r.structured_body(), AppendValue);
  } else {
    AppendValue(out, r.body());
  }
  std::string attrs;
  for (size_t i = 0; i < r.attribute_count(); ++i) {
    const KeyValue kv = r.attribute(i);
    if (!Shown(kv.key)) continue;
    attrs += attrs.empty() ? "" : " ";
    attrs += kv.key;
    attrs += '=';
    AppendValue(attrs, kv.value);
  }
  if (!attrs.empty()) out += "  " + attrs;
  return out;
}

struct ConsoleLogJoin::State {
  ConsoleLogJoinOptions opt;
  FILE* out = stdout;
  std::mutex mu;
  struct Held {
    int64_t time;
    SpanId span;
    std::string line;
  };
  struct TraceBuf {
    std::vector<Held> records;
    uint64_t over = 0;
  };
  std::map<TraceId, TraceBuf> held;
  std::deque<TraceId> order;      // held traces, oldest first
  std::set<TraceId> printed;      // recently printed traces
  std::deque<TraceId> printed_order;
  std::atomic<uint64_t> late{0}, over_limit{0};

  void Print(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
  }

  void PrintHeldAlone(const TraceId& tid, TraceBuf& b, std::string& text) {
    std::sort(b.records.begin(), b.records.end(), [](const Held& a, const Held& c) { return a.time < c.time; });
    const std::string id = tid.ToHex();
    for (const Held& h : b.records) text += h.line + "  (trace " + id + ", not printed yet)\n";
  }
};

ConsoleLogJoin::ConsoleLogJoin(ConsoleLogJoinOptions options) : s_(new State) {
  s_->opt = options;
  s_->out = options.out != nullptr ? options.out : stdout;
}
ConsoleLogJoin::~ConsoleLogJoin() {
  // Records of traces that were never printed (unsampled, or the span side
  // went first) are not lost silently.
  try {
    FlushHeld();
  } catch (...) {
  }
}

std::shared_ptr<ConsoleLogJoin> ConsoleLogJoin::Create(ConsoleLogJoinOptions options) {
  return std::shared_ptr<ConsoleLogJoin>(new ConsoleLogJoin(options));
}

void ConsoleLogJoin::Add(std::span<const LogRecord* const> records) {
  std::string text;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    for (const LogRecord* r : records) {
      if (!r->trace_id().IsValid()) {
        text += FormatLogRecordLine(*r) + "\n";
        continue;
      }
      const TraceId& tid = r->trace_id();
      if (s_->printed.count(tid) != 0) {
        s_->late.fetch_add(1, std::memory_order_relaxed);
        text += FormatLogRecordLine(*r) + "  (late, trace " + tid.ToHex() + " already printed)\n";
        continue;
      }
      auto [it, inserted] = s_->held.try_emplace(tid);
      if (inserted) s_->order.push_back(tid);
      if (it->second.records.size() >= s_->opt.max_records_per_trace) {
        ++it->second.over;
        s_->over_limit.fetch_add(1, std::memory_order_relaxed);
      } else {
        const int64_t t = (r->timestamp().time_since_epoch().count() != 0 ? r->timestamp() : r->observed_timestamp())
                              .time_since_epoch()
                              .count();
        it->second.records.push_back({t, r->span_id(), FormatLogRecordForSpan(*r)});
      }
    }
    while (s_->held.size() > s_->opt.max_traces && !s_->order.empty()) {
      const TraceId oldest = s_->order.front();
      s_->order.pop_front();
      auto it = s_->held.find(oldest);
      if (it == s_->held.end()) continue;
      s_->PrintHeldAlone(oldest, it->second, text);
      s_->held.erase(it);
    }
  }
  if (!text.empty()) s_->Print(text);
}

void ConsoleLogJoin::LinesFor(const TraceId& trace, const SpanId& span, std::vector<std::string>& lines) {
  std::lock_guard<std::mutex> lock(s_->mu);
  auto it = s_->held.find(trace);
  if (it == s_->held.end()) return;
  auto& recs = it->second.records;
  std::stable_sort(recs.begin(), recs.end(), [](const State::Held& a, const State::Held& b) { return a.time < b.time; });
  for (auto r = recs.begin(); r != recs.end();) {
    if (r->span == span) {
      lines.push_back(std::move(r->line));
      r = recs.erase(r);
    } else {
      ++r;
    }
  }
}

void ConsoleLogJoin::TracePrinted(const TraceId& trace, std::vector<std::string>& unclaimed) {
  std::lock_guard<std::mutex> lock(s_->mu);
  auto it = s_->held.find(trace);
  if (it != s_->held.end()) {
    for (auto& r : it->second.records) unclaimed.push_back(std::move(r.line) + "  (its span was not printed)");
    if (it->second.over != 0) unclaimed.push_back("+" + std::to_string(it->second.over) + " more log records");
    s_->held.erase(it);
    s_->order.erase(std::remove(s_->order.begin(), s_->order.end(), trace), s_->order.end());
  }
  if (s_->printed.insert(trace).second) {
    s_->printed_order.push_back(trace);
    if (s_->printed_order.size() > s_->opt.max_traces) {
      s_->printed.erase(s_->printed_order.front());
      s_->printed_order.pop_front();
    }
  }
}

void ConsoleLogJoin::FlushHeld() {
  std::string text;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    for (const TraceId& tid : s_->order) {
      auto it = s_->held.find(tid);
      if (it != s_->held.end()) s_->PrintHeldAlone(tid, it->second, text);
    }
    s_->held.clear();
    s_->order.clear();
  }
  if (!text.empty()) s_->Print(text);
}

uint64_t ConsoleLogJoin::late_records() const noexcept { return s_->late.load(); }
uint64_t ConsoleLogJoin::records_over_limit() const noexcept { return s_->over_limit.load(); }

namespace {

class JoinExporter final : public LogRecordExporter {
 public:
  explicit JoinExporter(std::shared_ptr<ConsoleLogJoin> j) : join_(std::move(j)) {}
  ExportResult Export(std::span<const LogRecord* const> batch) noexcept override {
    if (shut_down_) return ExportResult::kFailure;
    try {
      join_->Add(batch);
      return ExportResult::kSuccess;
    } catch (...) {
      return ExportResult::kFailure;
    }
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    shut_down_ = true;
    return OperationResult::Ok();
  }
  std::string_view Name() const noexcept override { return "console"; }

 private:
  std::shared_ptr<ConsoleLogJoin> join_;
  bool shut_down_ = false;
};

}  // namespace

std::unique_ptr<LogRecordExporter> ConsoleLogJoin::MakeExporter() {
  return std::make_unique<JoinExporter>(shared_from_this());
}

}  // namespace otelweb::logs
