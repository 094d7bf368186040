#pragma once
// The SDK's side of the calling thread's context stack (context.cc): the
// address of the Span that made a context current (Span::MakeCurrent), kept
// with that context on the stack, for CurrentSpan(). Not for users.
//
// Each function touches only the calling thread's stack.

namespace tracewire {
class Span;
}  // namespace tracewire

namespace tracewire::context_internal {

// Records `span` with the context the calling thread attached last (the top
// of its stack); the entry's Scope forgets it.
void SetTopSpan(Span* span);
// The span recorded with the calling thread's current context (the top of
// its stack); null when none was recorded or nothing is attached.
Span* TopSpan();

}  // namespace tracewire::context_internal
