// In-memory exporter: keeps ended spans for tests.
#include "otelweb/testing/in_memory_exporter.h"

namespace otelweb {

std::vector<const SpanData*> InMemorySpanStore::spans() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const SpanData*> out;
  out.reserve(spans_.size());
  for (const auto& s : spans_) out.push_back(s.get());
  return out;
}

std::vector<const SpanData*> InMemorySpanStore::FindByName(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const SpanData*> out;
  for (const auto& s : spans_) {
    if (s->name() == name) out.push_back(s.get());
  }
  return out;
}

size_t InMemorySpanStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return spans_.size();
}

void InMemorySpanStore::Reset() {
  std::vector<EndedSpan> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(spans_);
  }
}

void InMemorySpanStore::Add(std::span<EndedSpan> batch) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& s : batch) spans_.push_back(std::move(s));
}

InMemorySpanExporter::InMemorySpanExporter(std::shared_ptr<InMemorySpanStore> store)
    : store_(store ? std::move(store) : std::make_shared<InMemorySpanStore>()) {}

ExportResult InMemorySpanExporter::Export(std::span<EndedSpan> batch) noexcept {
  if (shut_down_.load(std::memory_order_relaxed)) return ExportResult::kFailure;
  try {
    store_->Add(batch);
  } catch (...) {
    return ExportResult::kFailure;
  }
  return ExportResult::kSuccess;
}

OperationResult InMemorySpanExporter::Shutdown(std::chrono::milliseconds) noexcept {
  if (shut_down_.exchange(true)) return OperationResult::AlreadyShutDown();
  return OperationResult::Ok();
}

}  // namespace otelweb
