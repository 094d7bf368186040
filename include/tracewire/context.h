#pragma once
// Context: what flows along a request inside a process: the active span's
// SpanContext (or a remote parent's) and the baggage. Immutable value type.
//
// The current context is kept per thread on a stack (the one documented
// thread_local of tracewire): Attach() pushes a context and returns a Scope
// whose destruction pops it. For async code, pass Context values explicitly.
// Span::MakeCurrent (trace.h) attaches a span's context the same way and also
// lets CurrentSpan() reach the span; a Context value never holds a span, only
// its SpanContext.
//
// Thread safety: a Context is an immutable value: it may be read and copied
// from any threads at once. Attach, Current and Scope touch only the calling
// thread's stack: no locks, and no thread sees another's current context. A
// Scope must be destroyed on the thread that created it; the reference
// Current() returns is valid until that thread next attaches a context or
// ends a Scope.

#include <utility>

#include "tracewire/baggage.h"
#include "tracewire/export.h"
#include "tracewire/span_context.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

class Context {
 public:
  Context() = default;

  const SpanContext& span_context() const { return span_context_; }
  const Baggage& baggage() const { return baggage_; }

  Context WithSpanContext(SpanContext sc) const {
    Context c = *this;
    c.span_context_ = std::move(sc);
    return c;
  }
  Context WithBaggage(Baggage b) const {
    Context c = *this;
    c.baggage_ = std::move(b);
    return c;
  }

  // Restores the previous current context when destroyed. Move-only; must be
  // destroyed on the thread that created it, in reverse order of creation.
  class Scope {
   public:
    Scope(Scope&& o) noexcept : active_(std::exchange(o.active_, false)) {}
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope();

   private:
    friend class Context;
    Scope() = default;
    bool active_ = true;
  };

  // Makes this the current context of the calling thread until the Scope ends.
  [[nodiscard]] Scope Attach() const;
  // The calling thread's current context (empty when none is attached).
  static const Context& Current();

  bool operator==(const Context&) const = default;

 private:
  SpanContext span_context_;
  Baggage baggage_;
};

TRACEWIRE_END_API

}  // namespace tracewire
