// InstrumenterBase: the settings both HTTP instrumenters compile alike.
#include "otelweb/http/instrumenter_base.h"

#include "http/capture_setup.h"
#include "otelweb/common.h"

namespace otelweb::http {

InstrumenterBase::InstrumenterBase(const Settings& settings, std::string_view excluded_urls_name,
                                   const char* request_env, const char* response_env,
                                   std::string_view scope_name)
    : redactor_(settings.secret_query_params),
      excluder_(UrlExcluder::FromConfig(settings.excluded_urls, excluded_urls_name)),
      tracer_(scope_name, kVersion, settings.tracer_provider) {
  internal::SetUpHeaderCapture(settings, request_env, response_env, &request_capture_,
                               &response_capture_);
}

}  // namespace otelweb::http
