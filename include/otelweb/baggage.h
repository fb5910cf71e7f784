// W3C Baggage: an immutable list of name/value pairs (with optional
// properties) that travels with the context.
//
// Ownership: Baggage is an immutable, reference-counted value; copies share
// storage (an atomic increment when non-empty).
// Thread-safety: immutable, safe to share.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace otelweb {

class Baggage {
 public:
  // W3C limits: members per baggage, bytes per member, bytes in all.
  static constexpr size_t kMaxMembers = 64;
  static constexpr size_t kMaxMemberBytes = 4096;
  static constexpr size_t kMaxTotalBytes = 8192;

  Baggage() noexcept = default;
  // Most contexts carry no baggage: copies, moves and the destructor stay
  // inline, and only a non-empty baggage costs a call (its reference count).
  Baggage(const Baggage& o) noexcept : rep_(o.rep_) {
    if (rep_ != nullptr) Ref(rep_);
  }
  Baggage(Baggage&& o) noexcept : rep_(std::exchange(o.rep_, nullptr)) {}
  Baggage& operator=(const Baggage& o) noexcept {
    if (rep_ != o.rep_) {
      if (o.rep_ != nullptr) Ref(o.rep_);
      Rep* old = std::exchange(rep_, o.rep_);
      if (old != nullptr) Drop(old);
    }
    return *this;
  }
  Baggage& operator=(Baggage&& o) noexcept {
    if (this != &o) {
      Rep* old = std::exchange(rep_, std::exchange(o.rep_, nullptr));
      if (old != nullptr) Drop(old);
    }
    return *this;
  }
  ~Baggage() {
    if (rep_ != nullptr) Drop(rep_);
  }

  // Parses a `baggage` header value: percent-decodes values, keeps properties
  // verbatim as metadata, skips members that break the grammar, and stops
  // adding members past the W3C limits. Never throws on bad input.
  static Baggage FromHeader(std::string_view header);

  bool empty() const noexcept { return rep_ == nullptr; }
  size_t size() const noexcept;
  // Value for name, or empty when absent.
  std::string_view Get(std::string_view name) const noexcept;
  bool Contains(std::string_view name) const noexcept;
  // A new baggage with name set (replacing any previous value). Names must be
  // W3C tokens; an invalid name returns *this unchanged.
  Baggage Set(std::string_view name, std::string_view value, std::string_view metadata = {}) const;
  Baggage Delete(std::string_view name) const;
  // Calls f(name, value, metadata) for each entry until f returns false.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0, n = size(); i < n; ++i) {
      auto e = Entry(i);
      if (!f(e.name, e.value, e.metadata)) return;
    }
  }
  // The header value with values percent-encoded; members beyond the W3C
  // size limits are left out.
  std::string ToHeader() const;

  struct EntryView {
    std::string_view name, value, metadata;
  };
  EntryView Entry(size_t i) const noexcept;

 private:
  struct Rep;
  explicit Baggage(Rep* rep) noexcept : rep_(rep) {}
  static void Ref(Rep* rep) noexcept;
  // Drops one reference to rep (not null); frees it on the last.
  static void Drop(Rep* rep) noexcept;
  Rep* rep_ = nullptr;
};

}  // namespace otelweb
