// Reading OTEL_* variables (see docs/configuration.md).
#include "core/config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "otelweb/diagnostics.h"

namespace otelweb::config {

std::string_view Trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

void WarnInvalid(std::string_view name, std::string_view value, std::string_view expected) {
  std::string m = "invalid value for ";
  m.append(name).append(": '").append(value).append("' (expected ").append(expected);
  m += "); using the default";
  Log(LogLevel::kWarning, m);
}

bool ParseBool(std::string_view text, bool* out) noexcept {
  std::string_view t = Trim(text);
  auto eq = [&](std::string_view w) {
    if (t.size() != w.size()) return false;
    for (size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != w[i]) return false;
    }
    return true;
  };
  if (eq("true")) {
    *out = true;
    return true;
  }
  if (eq("false")) {
    *out = false;
    return true;
  }
  return false;
}

bool ParseInt(std::string_view text, int64_t* out) noexcept {
  std::string_view t = Trim(text);
  if (t.empty() || t.size() > 20) return false;
  std::string s(t);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool ParseDouble(std::string_view text, double* out) noexcept {
  std::string_view t = Trim(text);
  if (t.empty() || t.size() > 64) return false;
  std::string s(t);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool PercentDecode(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '%') {
      *out += c;
      continue;
    }
    if (i + 2 >= text.size()) return false;
    auto hv = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    int hi = hv(text[i + 1]), lo = hv(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string KeyForMessage(std::string_view key) {
  std::string r;
  for (char c : key.substr(0, 64)) r += (c > 0x20 && c < 0x7f) ? c : '?';
  return r;
}

std::vector<KeyValueEntry> ParseKeyValueList(std::string_view text, std::vector<std::string>* errors) {
  std::vector<KeyValueEntry> out;
  size_t index = 0;
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    if (!item.empty()) {
      ++index;
      const std::string entry = "entry " + std::to_string(index);
      size_t eq = item.find('=');
      std::string_view raw_key = eq == std::string_view::npos ? item : Trim(item.substr(0, eq));
      KeyValueEntry kv;
      if (eq == std::string_view::npos) {
        // No '=': the whole entry may be a secret ("Authorization: Bearer ..."), name none of it.
        if (errors) errors->push_back(entry + " has no '='");
      } else if (raw_key.empty()) {
        if (errors) errors->push_back(entry + " has an empty key");
      } else if (!PercentDecode(raw_key, &kv.key) || !PercentDecode(Trim(item.substr(eq + 1)), &kv.value)) {
        if (errors) errors->push_back(entry + " ('" + KeyForMessage(raw_key) + "') has a malformed percent escape");
      } else {
        out.push_back(std::move(kv));
      }
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::string> GetString(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  std::string_view t = Trim(v);
  if (t.empty()) return std::nullopt;
  return std::string(t);
}

std::optional<bool> GetBool(const char* name) {
  auto v = GetString(name);
  if (!v) return std::nullopt;
  bool b;
  if (ParseBool(*v, &b)) return b;
  WarnInvalid(name, *v, "true or false");
  return std::nullopt;
}

std::optional<int64_t> GetInt(const char* name, int64_t min, int64_t max) {
  auto v = GetString(name);
  if (!v) return std::nullopt;
  int64_t i;
  if (ParseInt(*v, &i) && i >= min && i <= max) return i;
  WarnInvalid(name, *v, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return std::nullopt;
}

std::optional<double> GetDouble(const char* name, double min, double max) {
  auto v = GetString(name);
  if (!v) return std::nullopt;
  double d;
  if (ParseDouble(*v, &d) && d >= min && d <= max) return d;
  WarnInvalid(name, *v, "a number from " + std::to_string(min) + " to " + std::to_string(max));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> GetMillis(const char* name) {
  auto v = GetInt(name, 0, int64_t{1} << 40);
  if (!v) return std::nullopt;
  // A timeout or an interval under 100 ms usually means seconds were written
  // ("OTEL_METRIC_EXPORT_INTERVAL=60"): say the unit. A short schedule delay
  // is a real choice and gets no hint.
  if (*v > 0 && *v < 100 && !std::string_view(name).ends_with("SCHEDULE_DELAY")) {
    const std::string n = std::to_string(*v);
    Log(LogLevel::kWarning, std::string(name) + "=" + n + " is " + n +
                                " milliseconds, too short for a timeout or an interval: the unit is milliseconds (" +
                                std::to_string(*v * 1000) + " for " + n + " s)");
  }
  return std::chrono::milliseconds(*v);
}

std::optional<Found> GetFirst(std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (auto v = GetString(n)) return Found{n, std::move(*v)};
  }
  return std::nullopt;
}

BatchSettings ResolveBatchSettings(std::string_view prefix, const BatchSettingsInCode& code,
                                   const BatchSettings& defaults, uint32_t max_queue) {
  BatchSettings r = defaults;
  const std::string p(prefix);
  auto name = [&](const char* suffix) { return p + suffix; };
  if (code.max_queue_size && *code.max_queue_size > 0) {
    r.max_queue_size = *code.max_queue_size;
  } else if (auto v = GetInt(name("MAX_QUEUE_SIZE").c_str(), 1, max_queue)) {
    r.max_queue_size = static_cast<uint32_t>(*v);
  }
  // Zero is a valid delay: export as soon as anything is queued.
  if (code.schedule_delay && code.schedule_delay->count() >= 0) {
    r.schedule_delay = *code.schedule_delay;
  } else if (auto v = GetMillis(name("SCHEDULE_DELAY").c_str())) {
    r.schedule_delay = *v;
  }
  if (code.max_export_batch_size && *code.max_export_batch_size > 0) {
    r.max_export_batch_size = *code.max_export_batch_size;
  } else if (auto v = GetInt(name("MAX_EXPORT_BATCH_SIZE").c_str(), 1, max_queue)) {
    r.max_export_batch_size = static_cast<uint32_t>(*v);
  }
  // Zero: no limit (the spec), bounded at shutdown by kShutdownCeiling.
  if (code.export_timeout && code.export_timeout->count() >= 0) {
    r.export_timeout = *code.export_timeout;
  } else if (auto v = GetMillis(name("EXPORT_TIMEOUT").c_str())) {
    r.export_timeout = *v;
  }
  if (r.max_export_batch_size > r.max_queue_size) {
    Log(LogLevel::kWarning, "batch size " + std::to_string(r.max_export_batch_size) +
                                " is larger than the queue size " + std::to_string(r.max_queue_size) +
                                "; using the queue size (" + name("MAX_EXPORT_BATCH_SIZE") + ", " +
                                name("MAX_QUEUE_SIZE") + ")");
    r.max_export_batch_size = r.max_queue_size;
  }
  return r;
}

}  // namespace otelweb::config
