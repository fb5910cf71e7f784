// The %Q / %J / %K pattern flags (trace_id, span_id, trace_flags).
#include <spdlog/pattern_formatter.h>

#include <cstring>

#include "otelweb/spdlog/pattern.h"
#include "spdlog/carried_context.h"

namespace otelweb::spdlog_bridge {

namespace {

enum class Field { kTraceId, kSpanId, kFlags };

class TraceFlag final : public ::spdlog::custom_flag_formatter {
 public:
  explicit TraceFlag(Field f) : field_(f) {}
  void format(const ::spdlog::details::log_msg&, const std::tm&, ::spdlog::memory_buf_t& dest) override {
    const SpanContext& sc = internal::EffectiveSpanContext();
    const bool valid = sc.IsValid();
    char buf[32];
    size_t n;
    switch (field_) {
      case Field::kTraceId:
        n = 32;
        if (valid) {
          sc.trace_id().ToHex(buf);
        } else {
          std::memset(buf, '0', n);
        }
        break;
      case Field::kSpanId:
        n = 16;
        if (valid) {
          sc.span_id().ToHex(buf);
        } else {
          std::memset(buf, '0', n);
        }
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const uint8_t v = valid ? sc.flags().value : 0;
        buf[0] = kHex[v >> 4];
        buf[1] = kHex[v & 0xF];
        n = 2;
        break;
      }
    }
    dest.append(buf, buf + n);
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
