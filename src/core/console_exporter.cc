// Console exporter: trace trees for people.
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "otelweb/trace/console_exporter.h"
#include "otelweb/resource.h"
#include "otelweb/trace/tracer_provider.h"
#include "core/utf8.h"
#include "otelweb/semconv.h"

namespace otelweb {

std::vector<std::string> ConsoleSpanExporterOptions::DefaultHighlightKeys() {
  std::vector<std::string> keys;
  for (std::string_view k : {semconv::kHttpRequestMethod, semconv::kHttpRoute, semconv::kUrlPath, semconv::kUrlFull,
                             semconv::kHttpResponseStatusCode, semconv::kDbOperationName, semconv::kDbQueryText,
                             semconv::kServerAddress, semconv::kErrorType}) {
    keys.emplace_back(k);
  }
  return keys;
}

struct ConsoleSpanExporter::State {
  ConsoleSpanExporterOptions opt;
  FILE* out = stdout;
  bool color = false;
  std::mutex mu;
  bool shut_down = false;
  // Spans held until their trace's local root ends, in arrival order per trace.
  std::map<TraceId, std::vector<EndedSpan>> pending;
  std::deque<TraceId> order;  // traces by first arrival
  size_t held = 0;

  const char* C(const char* code) const { return color ? code : ""; }

  static std::string Duration(int64_t ns) {
    char buf[32];
    if (ns < 1000) std::snprintf(buf, sizeof buf, "%" PRId64 "ns", ns);
    else if (ns < 1000000) std::snprintf(buf, sizeof buf, "%.1fµs", double(ns) / 1e3);
    else if (ns < 1000000000) std::snprintf(buf, sizeof buf, "%.2fms", double(ns) / 1e6);
    else std::snprintf(buf, sizeof buf, "%.3fs", double(ns) / 1e9);
    return buf;
  }

  void PrintTrace(const TraceId& tid, std::vector<EndedSpan>& spans) {
    if (spans.empty()) return;
    std::vector<const SpanData*> v;
    for (auto& s : spans) v.push_back(s.get());
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->start_ns() < b->start_ns(); });
    int64_t t0 = v.front()->start_ns(), t1 = t0;
    for (auto* s : v) t1 = std::max(t1, s->end_ns());
    const int64_t total = std::max<int64_t>(t1 - t0, 1);
    // Roots: spans whose parent is not in this batch.
    auto in_set = [&](const SpanId& id) {
      for (auto* s : v) {
        if (s->span_id() == id) return true;
      }
      return false;
    };
    std::string text;
    char tidhex[32];
    tid.ToHex(tidhex);
    text += C("\x1b[1m");
    text += "trace ";
    text.append(tidhex, 32);
    text += C("\x1b[0m");
    text += "  service=";
    AppendSanitizedUtf8(text, v.front()->resource().service_name());
    text += "  spans=" + std::to_string(v.size()) + "  duration=" + Duration(t1 - t0) + "\n";
    for (auto* s : v) {
      if (!s->parent_span_id().IsValid() || !in_set(s->parent_span_id())) {
        PrintSpan(text, v, s, "", true, t0, total, s->parent_span_id().IsValid() && !s->parent_is_remote());
      }
    }
    if (opt.annotator) {
      std::vector<std::string> unclaimed;
      opt.annotator->TracePrinted(tid, unclaimed);
      for (const std::string& l : unclaimed) {
        text += std::string(33, ' ') + "> ";
        AppendSanitizedUtf8(text, l);
        text += "\n";
      }
    }
    text += "\n";
    std::fwrite(text.data(), 1, text.size(), out);
  }

  void PrintSpan(std::string& text, const std::vector<const SpanData*>& all, const SpanData* s,
                 const std::string& prefix, bool last, int64_t t0, int64_t total, bool orphan) {
    const char* branch = color ? (last ? "└─ " : "├─ ") : (last ? "`- " : "|- ");
    const char* cont = color ? (last ? "   " : "│  ") : (last ? "   " : "|  ");
    // Waterfall bar, 30 columns.
    constexpr int kW = 30;
    int a = static_cast<int>((s->start_ns() - t0) * kW / total);
    int b = static_cast<int>((s->end_ns() - t0) * kW / total);
    a = std::clamp(a, 0, kW - 1);
    b = std::clamp(b, a + 1, kW);
    std::string bar(kW, ' ');
    for (int i = a; i < b; ++i) bar[i] = '=';
    text += "[" + bar + "] ";
    text += prefix + branch;
    if (s->status() == StatusCode::kError) text += C("\x1b[31m");
    AppendSanitizedUtf8(text, s->name());
    if (s->status() == StatusCode::kError) text += C("\x1b[0m");
    text += "  ";
    text += C("\x1b[2m");
    text += std::string(SpanKindName(s->kind()));
    text += " " + Duration(s->end_ns() - s->start_ns());
    text += C("\x1b[0m");
    if (s->status() == StatusCode::kError) {
      text += C("\x1b[31m");
      text += " ERROR";
      if (!s->status_description().empty()) {
        text += " (";
        AppendSanitizedUtf8(text, s->status_description());
        text += ")";
      }
      text += C("\x1b[0m");
    }
    if (orphan) text += " (parent not seen)";
    if (s->parent_is_remote()) text += " (remote parent)";
    // Key attributes first, then the others, compactly.
    const std::vector<std::string>& keys = opt.highlight_keys;
    std::string attrs;
    for (const std::string& k : keys) {
      AttributeView av;
      if (s->FindAttribute(k, &av)) {
        attrs.append(" ").append(k).append("=").append(av.ToString());
      }
    }
    size_t others = 0;
    for (size_t i = 0; i < s->attribute_count(); ++i) {
      AttributeView av = s->attribute(i);
      bool key = false;
      for (const std::string& k : keys) key = key || av.key() == k;
      if (key) continue;
      if (others < 4) attrs.append(" ").append(av.key()).append("=").append(av.ToString());
      ++others;
    }
    if (others > 4) attrs += " (+" + std::to_string(others - 4) + " more)";
    if (!attrs.empty()) {
      text += " ";
      text += C("\x1b[36m");
      AppendSanitizedUtf8(text, attrs.substr(1));
      text += C("\x1b[0m");
    }
    text += "\n";
    std::string child_prefix = prefix + cont;
    for (size_t e = 0; e < s->event_count(); ++e) {
      text += std::string(kW + 3, ' ') + child_prefix + "* event ";
      AppendSanitizedUtf8(text, s->event_name(e));
      for (size_t j = 0; j < s->event_attribute_count(e); ++j) {
        AttributeView av = s->event_attribute(e, j);
        text.append(" ").append(av.key()).append("=");
        AppendSanitizedUtf8(text, av.ToString());
      }
      text += "\n";
    }
    if (opt.annotator) {
      std::vector<std::string> lines;
      opt.annotator->LinesFor(s->trace_id(), s->span_id(), lines);
      for (const std::string& l : lines) {
        text += std::string(kW + 3, ' ') + child_prefix + "> ";
        AppendSanitizedUtf8(text, l);
        text += "\n";
      }
    }
    std::vector<const SpanData*> kids;
    for (auto* c : all) {
      if (c->parent_span_id() == s->span_id() && c->trace_id() == s->trace_id()) kids.push_back(c);
    }
    for (size_t i = 0; i < kids.size(); ++i) {
      PrintSpan(text, all, kids[i], child_prefix, i + 1 == kids.size(), t0, total, false);
    }
  }

  void FlushTrace(const TraceId& tid) {
    auto it = pending.find(tid);
    if (it == pending.end()) return;
    held -= it->second.size();
    PrintTrace(tid, it->second);
    pending.erase(it);
    order.erase(std::remove(order.begin(), order.end(), tid), order.end());
  }

  void FlushAll() {
    while (!order.empty()) FlushTrace(order.front());
    std::fflush(out);
  }
};

ConsoleSpanExporter::ConsoleSpanExporter(ConsoleSpanExporterOptions options) : s_(new State) {
  s_->opt = std::move(options);
  s_->out = options.out ? options.out : stdout;
  s_->color = options.color.value_or(isatty(fileno(s_->out)) != 0);
}

ConsoleSpanExporter::~ConsoleSpanExporter() {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (!s_->shut_down) s_->FlushAll();
}

ExportResult ConsoleSpanExporter::Export(std::span<EndedSpan> batch) noexcept {
  try {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down) return ExportResult::kFailure;
    std::vector<TraceId> complete;
    for (auto& s : batch) {
      TraceId tid = s->trace_id();
      bool local_root = !s->parent_span_id().IsValid() || s->parent_is_remote();
      auto [it, inserted] = s_->pending.try_emplace(tid);
      if (inserted) s_->order.push_back(tid);
      it->second.push_back(std::move(s));
      ++s_->held;
      if (local_root) complete.push_back(tid);
    }
    for (auto& tid : complete) s_->FlushTrace(tid);
    while (s_->held > s_->opt.max_buffered_spans && !s_->order.empty()) s_->FlushTrace(s_->order.front());
    std::fflush(s_->out);
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;
  }
}

OperationResult ConsoleSpanExporter::ForceFlush(std::chrono::milliseconds) noexcept {
  try {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->FlushAll();
    return OperationResult::Ok();
  } catch (...) {
    return OperationResult::Failure();
  }
}

OperationResult ConsoleSpanExporter::Shutdown(std::chrono::milliseconds) noexcept {
  try {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down) return OperationResult::AlreadyShutDown();
    s_->FlushAll();
    s_->shut_down = true;
    return OperationResult::Ok();
  } catch (...) {
    return OperationResult::Failure();
  }
}

}  // namespace otelweb
