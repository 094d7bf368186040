// The per-thread current-context stack behind Context::Attach/Current.
//
// This is the one documented thread_local of tracewire (STYLE.md, threading
// rule 10). Each thread owns a stack of attached contexts: Attach() pushes a
// copy, the returned Scope pops it when destroyed, and Current() reads the
// top. No other thread ever sees or touches a thread's stack, so no locking is
// needed. Scopes must end on the thread that created them, in reverse order
// of creation (context.h); a Scope destroyed out of order pops whatever is on
// top, which restores the wrong context but never touches freed memory.
//
// Current() returns a reference to the top of the stack: it stays valid until
// the calling thread next attaches a context or ends a Scope. Callers that
// keep the context longer copy it.
//
// An entry made by Span::MakeCurrent also holds the Span's address
// (context_internal::SetTopSpan), for CurrentSpan(); the address never leaves
// the entry, so a copy of the Context carries only its SpanContext.

#include "tracewire/context.h"

#include <vector>

#include "propagation/context_internal.h"

namespace tracewire {
namespace {

struct Entry {
  Context context;
  Span* span = nullptr;  // the Span that made `context` current, if one did
};

std::vector<Entry>& ContextStack() {
  // Destroyed at thread exit; no Scope may outlive its thread.
  thread_local std::vector<Entry> stack;
  return stack;
}

}  // namespace

Context::Scope Context::Attach() const {
  ContextStack().push_back(Entry{*this});
  return Scope();
}

Context::Scope::~Scope() {
  if (!active_) return;  // moved from
  std::vector<Entry>& stack = ContextStack();
  if (!stack.empty()) stack.pop_back();
}

const Context& Context::Current() {
  // Never modified: a constant, not global mutable state.
  static const Context* const kEmpty = new Context();
  const std::vector<Entry>& stack = ContextStack();
  return stack.empty() ? *kEmpty : stack.back().context;
}

namespace context_internal {

void SetTopSpan(Span* span) {
  std::vector<Entry>& stack = ContextStack();
  if (!stack.empty()) stack.back().span = span;
}

Span* TopSpan() {
  const std::vector<Entry>& stack = ContextStack();
  return stack.empty() ? nullptr : stack.back().span;
}

}  // namespace context_internal
}  // namespace tracewire
