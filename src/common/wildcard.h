#pragma once
// Glob matching for names chosen in configuration: '*' matches any run of
// characters (none included), '?' exactly one. Pure function: thread-safe.

#include <string_view>

namespace tracewire::common {

// O(len(pattern) * len(name)) at worst (one backtrack point).
bool WildcardMatch(std::string_view pattern, std::string_view name);

}  // namespace tracewire::common
