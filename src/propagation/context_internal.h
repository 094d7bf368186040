#pragma once
// The SDK's side of the calling thread's context stack (context.cc): the
// address of the Span that made a context current (Span::MakeCurrent), kept
// with that context on the stack, for CurrentSpan(). Not for users.
//
// Each function touches only the calling thread's stack.

#include "tracewire/export.h"

// A public class: declared with the API's visibility, or the first
// declaration a file sees would make its members hidden in a shared library.
namespace tracewire {
TRACEWIRE_BEGIN_API
class Span;
TRACEWIRE_END_API
}  // namespace tracewire

namespace tracewire::context_internal {

// Records `span` with the context the calling thread attached last (the top
// of its stack); the entry's Scope forgets it.
void SetTopSpan(Span* span);
// The span recorded with the calling thread's current context (the top of
// its stack); null when none was recorded or nothing is attached.
Span* TopSpan();

}  // namespace tracewire::context_internal
