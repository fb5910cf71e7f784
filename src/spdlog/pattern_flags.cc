// The %Q / %J / %K pattern flags (trace_id, span_id, trace_flags).
#include <spdlog/pattern_formatter.h>

#include <cstring>

#include "otelweb/spdlog/pattern.h"
#include "spdlog/carried_context.h"

namespace otelweb::spdlog_bridge {

namespace {

enum class Field { kTraceId, kSpanId, kFlags };

// Two hex digits per byte value, so that an id is one 2-byte store per byte.
struct HexPairs {
  char p[512];
  constexpr HexPairs() : p() {
    constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
      p[2 * i] = kHex[i >> 4];
      p[2 * i + 1] = kHex[i & 15];
    }
  }
};
constexpr HexPairs kPairs;

template <size_t N>
inline void AppendHex(const uint8_t* bytes, ::spdlog::memory_buf_t& dest) {
  char buf[2 * N];
  for (size_t i = 0; i < N; ++i) std::memcpy(buf + 2 * i, kPairs.p + 2 * bytes[i], 2);
  dest.append(buf, buf + 2 * N);
}

class TraceFlag final : public ::spdlog::custom_flag_formatter {
 public:
  explicit TraceFlag(Field f) : field_(f) {}
  void format(const ::spdlog::details::log_msg&, const std::tm&, ::spdlog::memory_buf_t& dest) override {
    // Invalid (outside any span): the ids of an all-zero context print as
    // zeros, which is the documented form.
    const SpanContext& sc = internal::EffectiveSpanContext();
    switch (field_) {
      case Field::kTraceId:
        AppendHex<16>(sc.trace_id().bytes().data(), dest);
        break;
      case Field::kSpanId:
        AppendHex<8>(sc.span_id().bytes().data(), dest);
        break;
      default: {
        const uint8_t v = sc.IsValid() ? sc.flags().value : 0;
        AppendHex<1>(&v, dest);
        break;
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<TraceFlag>(field_); }

 private:
  Field field_;
};

}  // namespace

std::unique_ptr<::spdlog::pattern_formatter> MakePatternFormatter(std::string pattern, PatternFlags flags) {
  auto f = std::make_unique<::spdlog::pattern_formatter>();
  f->add_flag<TraceFlag>(flags.trace_id, Field::kTraceId);
  f->add_flag<TraceFlag>(flags.span_id, Field::kSpanId);
  f->add_flag<TraceFlag>(flags.trace_flags, Field::kFlags);
  f->set_pattern(std::move(pattern));
  return f;
}

void SetPattern(::spdlog::logger& logger, std::string pattern, PatternFlags flags) {
  logger.set_formatter(MakePatternFormatter(std::move(pattern), flags));
}

}  // namespace otelweb::spdlog_bridge
