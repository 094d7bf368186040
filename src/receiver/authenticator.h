#pragma once
// Authenticator checks a request's metadata against the configured bearer
// tokens (`authorization: Bearer T`) and API keys (`x-api-key: K`). Secrets
// are kept as SHA-256 digests and compared in constant time, so neither the
// content nor the length of a secret leaks through timing.
//
// Immutable after construction: thread-safe.

#include <array>
#include <string_view>
#include <vector>

namespace tracewire::receiver {

class Authenticator {
 public:
  Authenticator(const std::vector<std::string>& bearer_tokens,
                const std::vector<std::string>& api_keys);

  // True when no secret is configured.
  bool open() const { return tokens_.empty() && keys_.empty(); }

  // `authorization` and `x_api_key` are the header values (empty if absent).
  bool Allows(std::string_view authorization, std::string_view x_api_key) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest Hash(std::string_view s);
  static bool AnyMatches(const std::vector<Digest>& set, std::string_view candidate);

  std::vector<Digest> tokens_;
  std::vector<Digest> keys_;
};

}  // namespace tracewire::receiver
