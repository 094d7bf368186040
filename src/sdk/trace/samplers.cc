#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sdk/trace/fast_paths.h"
#include "tracewire/sampler.h"

namespace tracewire {
namespace {

class ConstantSampler : public Sampler {
 public:
  explicit ConstantSampler(bool on) : on_(on) {}
  bool on() const { return on_; }
  SamplingResult ShouldSample(const SpanContext&, const TraceId&, std::string_view, SpanKind,
                              const Attributes&) const override {
    return {on_ ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop, {}};
  }
  std::string Description() const override { return on_ ? "AlwaysOnSampler" : "AlwaysOffSampler"; }

 private:
  const bool on_;
};

class TraceIdRatioSampler : public Sampler {
 public:
  explicit TraceIdRatioSampler(double ratio)
      : ratio_(std::isnan(ratio) ? 0 : std::clamp(ratio, 0.0, 1.0)) {
    // Sampled when the id's last 8 bytes, big-endian, are below ratio * 2^64.
    threshold_ =
        ratio_ >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(ratio_ * 18446744073709551616.0);
  }
  SamplingResult ShouldSample(const SpanContext&, const TraceId& trace_id, std::string_view,
                              SpanKind, const Attributes&) const override {
    uint64_t v = 0;
    for (int i = 8; i < 16; ++i) v = (v << 8) | trace_id[i];
    const bool sampled = ratio_ >= 1.0 || (threshold_ > 0 && v < threshold_);
    return {sampled ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop, {}};
  }
  std::string Description() const override {
    return absl::StrFormat("TraceIdRatioBased{%f}", ratio_);
  }

 private:
  const double ratio_;
  uint64_t threshold_;
};

class ParentBasedSampler : public Sampler {
 public:
  ParentBasedSampler(std::shared_ptr<Sampler> root, ParentBasedOptions o)
      : root_(std::move(root)), o_(std::move(o)) {}
  SamplingResult ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                              std::string_view name, SpanKind kind,
                              const Attributes& attributes) const override {
    const Sampler* s;
    if (!parent.IsValid()) {
      s = root_.get();
    } else if (parent.is_remote) {
      s = parent.IsSampled() ? o_.remote_parent_sampled.get() : o_.remote_parent_not_sampled.get();
    } else {
      s = parent.IsSampled() ? o_.local_parent_sampled.get() : o_.local_parent_not_sampled.get();
    }
    return s->ShouldSample(parent, trace_id, name, kind, attributes);
  }
  const Sampler& root() const { return *root_; }
  const ParentBasedOptions& options() const { return o_; }
  std::string Description() const override {
    return absl::StrCat("ParentBased{root=", root_->Description(),
                        ",remoteParentSampled=", o_.remote_parent_sampled->Description(),
                        ",remoteParentNotSampled=", o_.remote_parent_not_sampled->Description(),
                        ",localParentSampled=", o_.local_parent_sampled->Description(),
                        ",localParentNotSampled=", o_.local_parent_not_sampled->Description(), "}");
  }

 private:
  const std::shared_ptr<Sampler> root_;
  const ParentBasedOptions o_;
};

}  // namespace

namespace sdk {

SamplerShape ShapeOf(const Sampler& sampler) {
  if (const auto* c = dynamic_cast<const ConstantSampler*>(&sampler)) {
    return c->on() ? SamplerShape::kAlwaysOn : SamplerShape::kAlwaysOff;
  }
  if (const auto* p = dynamic_cast<const ParentBasedSampler*>(&sampler)) {
    const ParentBasedOptions& o = p->options();
    auto is = [](const std::shared_ptr<Sampler>& s, SamplerShape want) {
      return s != nullptr && ShapeOf(*s) == want;
    };
    if (ShapeOf(p->root()) == SamplerShape::kAlwaysOn &&
        is(o.remote_parent_sampled, SamplerShape::kAlwaysOn) &&
        is(o.local_parent_sampled, SamplerShape::kAlwaysOn) &&
        is(o.remote_parent_not_sampled, SamplerShape::kAlwaysOff) &&
        is(o.local_parent_not_sampled, SamplerShape::kAlwaysOff)) {
      return SamplerShape::kParentBasedAlwaysOn;
    }
  }
  return SamplerShape::kOther;
}

}  // namespace sdk

std::shared_ptr<Sampler> MakeAlwaysOnSampler() {
  static const auto s = std::make_shared<ConstantSampler>(true);
  return s;
}

std::shared_ptr<Sampler> MakeAlwaysOffSampler() {
  static const auto s = std::make_shared<ConstantSampler>(false);
  return s;
}

std::shared_ptr<Sampler> MakeTraceIdRatioSampler(double ratio) {
  return std::make_shared<TraceIdRatioSampler>(ratio);
}

std::shared_ptr<Sampler> MakeParentBasedSampler(std::shared_ptr<Sampler> root,
                                                ParentBasedOptions options) {
  return std::make_shared<ParentBasedSampler>(std::move(root), std::move(options));
}

absl::StatusOr<std::shared_ptr<Sampler>> MakeSamplerFromEnvValues(std::string_view sampler_sv,
                                                                  std::string_view arg_sv) {
  const std::string name =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(std::string(sampler_sv)));
  const std::string arg(absl::StripAsciiWhitespace(std::string(arg_sv)));
  auto ratio = [&]() -> absl::StatusOr<double> {
    if (arg.empty()) return 1.0;  // The specification's default argument.
    double r;
    if (!absl::SimpleAtod(arg, &r) || std::isnan(r) || r < 0 || r > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTEL_TRACES_SAMPLER_ARG: '", arg, "' is not a ratio between 0 and 1"));
    }
    return r;
  };
  if (name.empty() || name == "parentbased_always_on") {
    return MakeParentBasedSampler(MakeAlwaysOnSampler());
  }
  if (name == "always_on") return MakeAlwaysOnSampler();
  if (name == "always_off") return MakeAlwaysOffSampler();
  if (name == "parentbased_always_off") return MakeParentBasedSampler(MakeAlwaysOffSampler());
  if (name == "traceidratio" || name == "parentbased_traceidratio") {
    absl::StatusOr<double> r = ratio();
    if (!r.ok()) return r.status();
    auto s = MakeTraceIdRatioSampler(*r);
    return name == "traceidratio" ? s : MakeParentBasedSampler(s);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("OTEL_TRACES_SAMPLER: unknown sampler '", std::string(sampler_sv), "'"));
}

}  // namespace tracewire
