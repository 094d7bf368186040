// The composite propagator and the OTEL_PROPAGATORS factory.
//
// OTEL_PROPAGATORS is a comma-separated list; names are trimmed of
// whitespace and matched case-insensitively (the OpenTelemetry spec reads
// enum-valued variables case-insensitively). Empty items are skipped, a
// repeated name counts once (at its first position), and "none" contributes
// nothing, so "none" alone gives a propagator that does nothing. An empty or
// all-blank value means the default "tracecontext,baggage".
//
// Immutable after construction, so thread-safe.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tracewire/propagation.h"

namespace tracewire {
namespace {

class CompositePropagator final : public TextMapPropagator {
 public:
  explicit CompositePropagator(std::vector<std::unique_ptr<TextMapPropagator>> propagators)
      : propagators_(std::move(propagators)) {}

  void Inject(TextMapCarrier& carrier, const Context& context) const override {
    for (const auto& p : propagators_) p->Inject(carrier, context);
  }

  Context Extract(const TextMapCarrier& carrier, const Context& context) const override {
    Context result = context;
    for (const auto& p : propagators_) result = p->Extract(carrier, result);
    return result;
  }

  // Every propagator's fields in order, each name once.
  std::vector<std::string> Fields() const override {
    std::vector<std::string> fields;
    for (const auto& p : propagators_) {
      for (std::string& f : p->Fields()) {
        bool seen = false;
        for (const std::string& g : fields) seen |= g == f;
        if (!seen) fields.push_back(std::move(f));
      }
    }
    return fields;
  }

 private:
  const std::vector<std::unique_ptr<TextMapPropagator>> propagators_;
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::unique_ptr<TextMapPropagator> MakeCompositePropagator(
    std::vector<std::unique_ptr<TextMapPropagator>> propagators) {
  return std::make_unique<CompositePropagator>(std::move(propagators));
}

absl::StatusOr<std::unique_ptr<TextMapPropagator>> MakePropagatorsFromEnvValue(
    std::string_view value) {
  if (Trim(value).empty()) value = "tracecontext,baggage";
  std::vector<std::string> names;
  std::vector<std::unique_ptr<TextMapPropagator>> propagators;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view item = Trim(value.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    std::string name = ToLower(item);
    bool seen = false;
    for (const std::string& n : names) seen |= n == name;
    if (seen) continue;
    if (name == "tracecontext") {
      propagators.push_back(MakeTraceContextPropagator());
    } else if (name == "baggage") {
      propagators.push_back(MakeBaggagePropagator());
    } else if (name == "b3") {
      propagators.push_back(MakeB3Propagator(/*single_header=*/true));
    } else if (name == "b3multi") {
      propagators.push_back(MakeB3Propagator(/*single_header=*/false));
    } else if (name != "none") {
      return absl::InvalidArgumentError(absl::StrCat("OTEL_PROPAGATORS: unknown propagator '",
                                                     absl::string_view(item.data(), item.size()),
                                                     "'"));
    }
    names.push_back(std::move(name));
  }
  return MakeCompositePropagator(std::move(propagators));
}

}  // namespace tracewire
