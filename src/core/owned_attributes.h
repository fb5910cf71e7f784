// The instrumentation's own span attributes (start attributes, and
// instrumentation::SetInstrumentationAttribute) through the inline store path.
#pragma once

#include "otelweb/attribute.h"

namespace otelweb::internal {

struct SpanRecord;

// StoreAttribute(r, r->attrs_, 0, r->limits->attribute_count,
// &r->dropped_attrs_, key, value, /*owned=*/true) for each of `attrs`, with
// the inline path of SpanRef::SetAttribute for the common case (a new key,
// room in the list and the arena, a scalar or a string within the length
// limit): the same slots and bytes, fewer instructions. `r` is live (the
// caller checked its generation) and its limits are set. Thread-safety: the
// record's owning thread only, as every attribute write.
void StoreOwnedSpanAttributes(SpanRecord* r, Attributes attrs) noexcept;

}  // namespace otelweb::internal
