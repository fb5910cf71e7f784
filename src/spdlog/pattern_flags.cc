// The %Q / %J / %K pattern flags (trace_id, span_id, trace_flags).
#include <spdlog/pattern_formatter.h>

#include <cstring>
#include <string>
#include <vector>

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
inline void WriteHex(const uint8_t* bytes, char* out) {
  for (size_t i = 0; i < N; ++i) std::memcpy(out + 2 * i, kPairs.p + 2 * bytes[i], 2);
}

template <size_t N>
inline void AppendHex(const uint8_t* bytes, ::spdlog::memory_buf_t& dest) {
  char buf[2 * N];
  for (size_t i = 0; i < N; ++i) std::memcpy(buf + 2 * i, kPairs.p + 2 * bytes[i], 2);
  dest.append(buf, buf + 2 * N);
}

// One flag, possibly with padding (spdlog's "%-40Q"); the padding is ignored
// (the ids have a fixed width).
class TraceFlag final : public ::spdlog::custom_flag_formatter {
 public:
  explicit TraceFlag(Field f) : field_(f) {}
  void format(const ::spdlog::details::log_msg&, const std::tm&,
              ::spdlog::memory_buf_t& dest) override {
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
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TraceFlag>(field_);
  }

 private:
  Field field_;
};

// A run of literal text and unpadded trace flags, fused into one flag
// ("trace_id=%Q span_id=%J " is one formatter, not five): spdlog runs one
// virtual formatter and one buffer append per flag and per literal piece,
// which was most of the cost. The run is a template with the literal text and
// room for the hex; format() appends it once, reads the context once, and
// writes the hex in place.
struct Slot {
  size_t offset;
  Field field;
};

class FusedTraceRun final : public ::spdlog::custom_flag_formatter {
 public:
  FusedTraceRun(std::string tmpl, std::vector<Slot> slots)
      : tmpl_(std::move(tmpl)), slots_(std::move(slots)) {}
  void format(const ::spdlog::details::log_msg&, const std::tm&,
              ::spdlog::memory_buf_t& dest) override {
    const SpanContext& sc = internal::EffectiveSpanContext();
    const size_t base = dest.size();
    dest.append(tmpl_.data(), tmpl_.data() + tmpl_.size());
    char* out = dest.data() + base;
    for (const Slot& s : slots_) {
      char* at = out + s.offset;
      switch (s.field) {
        case Field::kTraceId:
          WriteHex<16>(sc.trace_id().bytes().data(), at);
          break;
        case Field::kSpanId:
          WriteHex<8>(sc.span_id().bytes().data(), at);
          break;
        default: {
          const uint8_t v = sc.IsValid() ? sc.flags().value : 0;
          WriteHex<1>(&v, at);
          break;
        }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<FusedTraceRun>(tmpl_, slots_);
  }

 private:
  std::string tmpl_;
  std::vector<Slot> slots_;
};

size_t FieldWidth(Field f) { return f == Field::kTraceId ? 32 : f == Field::kSpanId ? 16 : 2; }

// Rewrites `pattern` so that each run of literal text and unpadded trace
// flags becomes one fused flag (characters \x01..\x1f, which no pattern
// uses), and registers those on `f`. Everything else (spdlog's own flags,
// padded trace flags, "%%") is kept as written.
std::string FuseTraceRuns(const std::string& pattern, PatternFlags flags,
                          ::spdlog::pattern_formatter& f) {
  auto field_of = [&](char c, Field* out) {
    if (c == flags.trace_id)
      *out = Field::kTraceId;
    else if (c == flags.span_id)
      *out = Field::kSpanId;
    else if (c == flags.trace_flags)
      *out = Field::kFlags;
    else
      return false;
    return true;
  };
  std::string result;
  std::string tmpl;  // the current run
  std::vector<Slot> slots;
  char next_char = 1;
  auto end_run = [&] {
    if (!slots.empty() && next_char < 0x20) {
      f.add_flag<FusedTraceRun>(next_char, tmpl, slots);
      result += '%';
      result += next_char++;
    } else if (!slots.empty()) {  // out of fused characters: print it unfused
      size_t at = 0;
      for (const Slot& s : slots) {
        for (; at < s.offset; ++at)
          result += tmpl[at] == '%' ? std::string("%%") : std::string(1, tmpl[at]);
        result += '%';
        result += s.field == Field::kTraceId  ? flags.trace_id
                  : s.field == Field::kSpanId ? flags.span_id
                                              : flags.trace_flags;
        at += FieldWidth(s.field);
      }
      for (; at < tmpl.size(); ++at)
        result += tmpl[at] == '%' ? std::string("%%") : std::string(1, tmpl[at]);
    } else {
      for (char c : tmpl) result += c == '%' ? std::string("%%") : std::string(1, c);
    }
    tmpl.clear();
    slots.clear();
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      tmpl += pattern[i];
      continue;
    }
    // A flag: '%', an optional side ('-' or '='), width digits and '!' (the
    // padding, as spdlog 1.10 parses it), then the flag character.
    size_t j = i + 1;
    if (j < pattern.size() && (pattern[j] == '-' || pattern[j] == '=')) ++j;
    const size_t digits = j;
    while (j < pattern.size() && pattern[j] >= '0' && pattern[j] <= '9') ++j;
    const bool padded = j > digits;
    if (padded && j < pattern.size() && pattern[j] == '!') ++j;
    if (j >= pattern.size()) {  // a trailing '%' (spdlog ignores it)
      end_run();
      result.append(pattern, i, std::string::npos);
      break;
    }
    Field field;
    if (!padded && pattern[j] == '%') {
      tmpl += '%';
    } else if (!padded && field_of(pattern[j], &field)) {
      slots.push_back({tmpl.size(), field});
      tmpl.append(FieldWidth(field), '0');
    } else {
      end_run();
      result.append(pattern, i, j + 1 - i);
    }
    i = j;
  }
  end_run();
  return result;
}

}  // namespace

std::unique_ptr<::spdlog::pattern_formatter> MakePatternFormatter(std::string pattern,
                                                                  PatternFlags flags) {
  auto f = std::make_unique<::spdlog::pattern_formatter>();
  f->add_flag<TraceFlag>(flags.trace_id, Field::kTraceId);
  f->add_flag<TraceFlag>(flags.span_id, Field::kSpanId);
  f->add_flag<TraceFlag>(flags.trace_flags, Field::kFlags);
  f->set_pattern(FuseTraceRuns(pattern, flags, *f));
  return f;
}

void SetPattern(::spdlog::logger& logger, std::string pattern, PatternFlags flags) {
  logger.set_formatter(MakePatternFormatter(std::move(pattern), flags));
}

}  // namespace otelweb::spdlog_bridge
