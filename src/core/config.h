// Reading OTEL_* environment variables: the one place where the SDK and the
// instrumentations turn the environment into settings. Every getter treats an
// unset or empty (after trimming) variable as "not given"; a value that does
// not parse produces one warning naming the variable and is then treated as
// not given, so the caller's documented default applies.
//
// The variables and where they are used are listed in docs/configuration.md.
//
// Thread-safety: the getters read the environment (getenv) and may be called
// from any thread as long as nobody calls setenv concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otelweb::config {

// The trimmed value, or nullopt when unset or blank.
std::optional<std::string> GetString(const char* name);
// "true"/"false", case-insensitive. Anything else: warning, nullopt.
std::optional<bool> GetBool(const char* name);
// A decimal integer within [min, max]. Otherwise: warning, nullopt.
std::optional<int64_t> GetInt(const char* name, int64_t min, int64_t max);
// A finite decimal number within [min, max]. Otherwise: warning, nullopt.
std::optional<double> GetDouble(const char* name, double min, double max);
// Milliseconds as a non-negative integer (the spec's unit for timeouts/delays).
std::optional<std::chrono::milliseconds> GetMillis(const char* name);
// The first of several names that is set (e.g. a per-signal variable, then the
// general one), with the name that matched.
struct Found {
  std::string name;
  std::string value;
};
std::optional<Found> GetFirst(std::initializer_list<const char*> names);
// Splits a comma-separated list, trimming each item and dropping empty ones.
std::vector<std::string> SplitList(std::string_view text);
// One key=value list parser for every variable of that form
// (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS): entries are
// split on ',' (a ',' inside a key or value is written %2C), each entry on its
// first '=', key and value trimmed, then both percent-decoded. Empty entries
// are ignored. An entry without '=', with an empty key or with a malformed
// percent escape is skipped and described in *errors (when given) by its
// position and its key only: values are often credentials and never appear
// in a message.
struct KeyValueEntry {
  std::string key;
  std::string value;
};
std::vector<KeyValueEntry> ParseKeyValueList(std::string_view text,
                                             std::vector<std::string>* errors = nullptr);
// A key as shown in a message: printable ASCII only ('?' for the rest), at
// most 64 bytes.
std::string KeyForMessage(std::string_view key);

// The four settings of a batching processor, one set per signal: spans read
// OTEL_BSP_*, log records OTEL_BLRP_* (`prefix`, with its trailing '_').
// Each field: the code's value when given (a size > 0, a duration >= 0),
// else <prefix>MAX_QUEUE_SIZE / SCHEDULE_DELAY / MAX_EXPORT_BATCH_SIZE /
// EXPORT_TIMEOUT (one warning per invalid value), else `defaults`. Zero is
// a valid delay (export at once) and a valid timeout (no limit, bounded at
// shutdown by kShutdownCeiling). A batch larger than the queue is capped at
// the queue size with a warning. `max_queue` bounds the queue variable.
struct BatchSettings {
  uint32_t max_queue_size = 2048;
  std::chrono::milliseconds schedule_delay{5000};
  uint32_t max_export_batch_size = 512;
  std::chrono::milliseconds export_timeout{30000};
};
struct BatchSettingsInCode {
  std::optional<uint32_t> max_queue_size;
  std::optional<std::chrono::milliseconds> schedule_delay;
  std::optional<uint32_t> max_export_batch_size;
  std::optional<std::chrono::milliseconds> export_timeout;
};
BatchSettings ResolveBatchSettings(std::string_view prefix, const BatchSettingsInCode& code,
                                   const BatchSettings& defaults, uint32_t max_queue);

// Reports an invalid value the same way the getters do.
void WarnInvalid(std::string_view name, std::string_view value, std::string_view expected);

// Parsing helpers exposed for tests and fuzzing (no environment access).
bool ParseBool(std::string_view text, bool* out) noexcept;
bool ParseInt(std::string_view text, int64_t* out) noexcept;
bool ParseDouble(std::string_view text, double* out) noexcept;
// Percent-decodes text; false on a malformed escape.
bool PercentDecode(std::string_view text, std::string* out);
std::string_view Trim(std::string_view s) noexcept;

}  // namespace otelweb::config
