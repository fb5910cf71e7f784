// ScopedEnv: environment variables set or removed for one test and put back
// as they were when the object is destroyed. For testing configuration read
// from OTEL_* variables.
//
//   otelweb::testing::ScopedEnv env;
//   env.UnsetPrefix("OTEL_");                          // a clean slate
//   env.Set("OTEL_TRACES_SAMPLER", "always_off");
//
// Ownership: remembers the first value seen for each name it touches.
// Thread-safety: none. setenv/unsetenv are not safe while another thread
// reads the environment: change it before starting threads that read it (the
// SDK reads OTEL_* variables when a provider, exporter or instrumentation is
// created).
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace otelweb::testing {

class ScopedEnv {
 public:
  ScopedEnv() = default;
  // Sets one variable.
  ScopedEnv(std::string_view name, std::string_view value) { Set(name, value); }
  // Sets each name to its value.
  ScopedEnv(std::initializer_list<std::pair<std::string_view, std::string_view>> vars);
  ~ScopedEnv();  // Restore()
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

  ScopedEnv& Set(std::string_view name, std::string_view value);
  ScopedEnv& Unset(std::string_view name);
  // Unsets every variable whose name starts with `prefix` (e.g. "OTEL_").
  ScopedEnv& UnsetPrefix(std::string_view prefix);
  // Puts back every variable touched so far; the object can be reused.
  void Restore();

 private:
  void Save(const std::string& name);
  std::map<std::string, std::optional<std::string>> saved_;
};

}  // namespace otelweb::testing
