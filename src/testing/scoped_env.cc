// ScopedEnv: environment variables changed for one test, then restored.
#include "otelweb/testing/scoped_env.h"

#include <cstdlib>
#include <vector>

extern char** environ;

namespace otelweb::testing {

ScopedEnv::ScopedEnv(std::initializer_list<std::pair<std::string_view, std::string_view>> vars) {
  for (const auto& [name, value] : vars) Set(name, value);
}

ScopedEnv::~ScopedEnv() { Restore(); }

void ScopedEnv::Save(const std::string& name) {
  if (saved_.count(name) != 0) return;
  const char* v = std::getenv(name.c_str());
  saved_[name] = v != nullptr ? std::optional<std::string>(v) : std::nullopt;
}

ScopedEnv& ScopedEnv::Set(std::string_view name, std::string_view value) {
  std::string n(name);
  Save(n);
  ::setenv(n.c_str(), std::string(value).c_str(), 1);
  return *this;
}

ScopedEnv& ScopedEnv::Unset(std::string_view name) {
  std::string n(name);
  Save(n);
  ::unsetenv(n.c_str());
  return *this;
}

ScopedEnv& ScopedEnv::UnsetPrefix(std::string_view prefix) {
  // Collect first: unsetenv changes environ.
  std::vector<std::string> names;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    if (name.substr(0, prefix.size()) == prefix) names.emplace_back(name);
  }
  for (const auto& n : names) Unset(n);
  return *this;
}

void ScopedEnv::Restore() {
  for (const auto& [name, value] : saved_) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  saved_.clear();
}

}  // namespace otelweb::testing
