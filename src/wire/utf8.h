#pragma once
// UTF-8 validation as protobuf's proto3 parser does it (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF). Pure function:
// thread-safe.

#include <string_view>

namespace tracewire::wire {

bool IsValidUtf8(std::string_view s);

}  // namespace tracewire::wire
