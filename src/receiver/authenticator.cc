#include "receiver/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace tracewire::receiver {

Authenticator::Authenticator(const std::vector<std::string>& bearer_tokens,
                             const std::vector<std::string>& api_keys) {
  for (const auto& t : bearer_tokens) tokens_.push_back(Hash(t));
  for (const auto& k : api_keys) keys_.push_back(Hash(k));
}

Authenticator::Digest Authenticator::Hash(std::string_view s) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

bool Authenticator::AnyMatches(const std::vector<Digest>& set, std::string_view candidate) {
  const Digest d = Hash(candidate);
  bool match = false;
  for (const Digest& s : set) {  // Compare with every entry: no early exit.
    match |= CRYPTO_memcmp(s.data(), d.data(), d.size()) == 0;
  }
  return match;
}

bool Authenticator::Allows(std::string_view authorization, std::string_view x_api_key) const {
  if (open()) return true;
  bool ok = false;
  if (!tokens_.empty() && authorization.size() > 7 &&
      absl::StartsWithIgnoreCase(absl::string_view(authorization.data(), 7), "bearer ")) {
    absl::string_view token(authorization.data() + 7, authorization.size() - 7);
    token = absl::StripAsciiWhitespace(token);
    ok |= AnyMatches(tokens_, std::string_view(token.data(), token.size()));
  }
  if (!keys_.empty() && !x_api_key.empty()) ok |= AnyMatches(keys_, x_api_key);
  return ok;
}

}  // namespace tracewire::receiver
