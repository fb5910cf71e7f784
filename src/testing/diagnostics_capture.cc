// DiagnosticsCapture: a temporary diagnostics sink that records messages.
#include "otelweb/testing/diagnostics_capture.h"

#include <mutex>

namespace otelweb::testing {

struct DiagnosticsCapture::State {
  LogLevel min_level;
  mutable std::mutex mu;
  std::vector<Message> messages;
};

DiagnosticsCapture::DiagnosticsCapture(LogLevel min_level)
    : state_(std::make_shared<State>()), previous_level_(GetLogLevel()) {
  state_->min_level = min_level;
  SetLogLevel(min_level);
  previous_sink_ = ExchangeDiagnosticsSink([s = state_](LogLevel level, std::string_view m) {
    if (level < s->min_level) return;
    std::lock_guard<std::mutex> lock(s->mu);
    s->messages.push_back(Message{level, std::string(m)});
  });
}

DiagnosticsCapture::~DiagnosticsCapture() {
  SetDiagnosticsSink(std::move(previous_sink_));
  SetLogLevel(previous_level_);
}

std::vector<DiagnosticsCapture::Message> DiagnosticsCapture::entries() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->messages;
}

std::vector<std::string> DiagnosticsCapture::messages() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<std::string> out;
  out.reserve(state_->messages.size());
  for (const auto& m : state_->messages) out.push_back(m.text);
  return out;
}

size_t DiagnosticsCapture::size() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->messages.size();
}

size_t DiagnosticsCapture::Count(std::string_view needle) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  size_t n = 0;
  for (const auto& m : state_->messages) n += m.text.find(needle) != std::string::npos;
  return n;
}

std::string DiagnosticsCapture::text() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::string out;
  for (const auto& m : state_->messages) out.append(m.text).append("\n");
  return out;
}

void DiagnosticsCapture::Clear() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->messages.clear();
}

}  // namespace otelweb::testing
