// Attribute values: what callers pass in (AttributeValue, a borrowed view) and
// what processors and exporters read back (AttributeView).
//
// Ownership: AttributeValue borrows; the bytes it points at need only live for
// the duration of the call that receives it (spans copy what they keep).
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace otelweb {

enum class AttributeType : uint8_t {
  kNone = 0,  // an empty/invalid value; setting it is ignored
  kBool,
  kInt,
  kDouble,
  kString,
  kBoolArray,
  kIntArray,
  kDoubleArray,
  kStringArray,
};

std::string_view AttributeTypeName(AttributeType t) noexcept;

// A borrowed attribute value of one of the OpenTelemetry types: bool, int64,
// double, string, or a homogeneous array of those. Cheap to copy (two words).
class AttributeValue {
 public:
  constexpr AttributeValue() noexcept : type_(AttributeType::kNone), size_(0), i_(0) {}
  constexpr AttributeValue(bool v) noexcept : type_(AttributeType::kBool), size_(0), b_(v) {}
  // Every integer type maps to int64 (uint64 values above INT64_MAX wrap, as in
  // the other SDKs; pass a string if that matters).
  template <typename I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                             !std::is_same_v<I, char>,
                                         int> = 0>
  constexpr AttributeValue(I v) noexcept  // NOLINT
      : type_(AttributeType::kInt), size_(0), i_(static_cast<int64_t>(v)) {}
  constexpr AttributeValue(double v) noexcept : type_(AttributeType::kDouble), size_(0), d_(v) {}
  constexpr AttributeValue(float v) noexcept : type_(AttributeType::kDouble), size_(0), d_(v) {}
  constexpr AttributeValue(std::string_view v) noexcept
      : type_(AttributeType::kString), size_(static_cast<uint32_t>(v.size())), s_(v.data()) {}
  constexpr AttributeValue(const char* v) noexcept : AttributeValue(std::string_view(v ? v : "")) {}
  AttributeValue(const std::string& v) noexcept : AttributeValue(std::string_view(v)) {}
  constexpr AttributeValue(std::span<const bool> v) noexcept
      : type_(AttributeType::kBoolArray), size_(static_cast<uint32_t>(v.size())), bp_(v.data()) {}
  constexpr AttributeValue(std::span<const int64_t> v) noexcept
      : type_(AttributeType::kIntArray), size_(static_cast<uint32_t>(v.size())), ip_(v.data()) {}
  constexpr AttributeValue(std::span<const double> v) noexcept
      : type_(AttributeType::kDoubleArray), size_(static_cast<uint32_t>(v.size())), dp_(v.data()) {}
  constexpr AttributeValue(std::span<const std::string_view> v) noexcept
      : type_(AttributeType::kStringArray), size_(static_cast<uint32_t>(v.size())), sp_(v.data()) {}
  constexpr AttributeValue(std::initializer_list<std::string_view> v) noexcept
      : AttributeValue(std::span<const std::string_view>(v.begin(), v.size())) {}
  constexpr AttributeValue(std::initializer_list<int64_t> v) noexcept
      : AttributeValue(std::span<const int64_t>(v.begin(), v.size())) {}

  constexpr AttributeType type() const noexcept { return type_; }
  constexpr bool as_bool() const noexcept { return b_; }
  constexpr int64_t as_int() const noexcept { return i_; }
  constexpr double as_double() const noexcept { return d_; }
  constexpr std::string_view as_string() const noexcept { return {s_, size_}; }
  constexpr std::span<const bool> as_bool_array() const noexcept { return {bp_, size_}; }
  constexpr std::span<const int64_t> as_int_array() const noexcept { return {ip_, size_}; }
  constexpr std::span<const double> as_double_array() const noexcept { return {dp_, size_}; }
  constexpr std::span<const std::string_view> as_string_array() const noexcept { return {sp_, size_}; }

 private:
  AttributeType type_;
  uint32_t size_;
  union {
    bool b_;
    int64_t i_;
    double d_;
    const char* s_;
    const bool* bp_;
    const int64_t* ip_;
    const double* dp_;
    const std::string_view* sp_;
  };
};

// A key and a borrowed value, for attribute lists given at span start, on
// events and on links.
struct KeyValue {
  std::string_view key;
  AttributeValue value;
};

using Attributes = std::span<const KeyValue>;

// A read-only view of one stored attribute (from SpanData). Valid while the
// SpanData it came from is. Array elements are read by index.
class AttributeView {
 public:
  std::string_view key() const noexcept { return key_; }
  AttributeType type() const noexcept { return type_; }
  bool as_bool() const noexcept { return b_; }
  int64_t as_int() const noexcept { return i_; }
  double as_double() const noexcept { return d_; }
  std::string_view as_string() const noexcept { return {base_ + off_, len_}; }
  bool is_array() const noexcept { return type_ >= AttributeType::kBoolArray; }
  uint32_t array_size() const noexcept { return len_; }
  bool bool_at(uint32_t i) const noexcept;
  int64_t int_at(uint32_t i) const noexcept;
  double double_at(uint32_t i) const noexcept;
  std::string_view string_at(uint32_t i) const noexcept;

  // Renders the value for humans: strings quoted, arrays in brackets.
  std::string ToString() const;

 private:
  friend struct AttributeViewAccess;
  std::string_view key_;
  const char* base_ = nullptr;
  AttributeType type_ = AttributeType::kNone;
  uint32_t off_ = 0;
  uint32_t len_ = 0;
  union {
    bool b_;
    int64_t i_ = 0;
    double d_;
  };
};

}  // namespace otelweb
