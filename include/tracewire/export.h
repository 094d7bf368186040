#pragma once
// TRACEWIRE_EXPORT marks the public API: the classes and functions a shared
// libtracewire_sdk.so or libtracewire_exporter.so exports. Everything else in
// the libraries is compiled with hidden visibility, so that their internals
// (the wire encoders, the lock-free queue, gRPC glue) never clash with a
// program's own symbols. Macros only: no thread-safety concerns.

#if defined(__GNUC__) || defined(__clang__)
#define TRACEWIRE_EXPORT __attribute__((visibility("default")))
#else
#define TRACEWIRE_EXPORT
#endif

// Every public header wraps its declarations in TRACEWIRE_BEGIN_API /
// TRACEWIRE_END_API: what a public header declares is the API, and is
// exported. Forward declarations of internal types stay outside; a forward
// declaration of a public class elsewhere (under src/) must be inside, since
// GCC gives a class the visibility of the first declaration a file sees.
#if defined(__GNUC__) || defined(__clang__)
#define TRACEWIRE_BEGIN_API _Pragma("GCC visibility push(default)")
#define TRACEWIRE_END_API _Pragma("GCC visibility pop")
#else
#define TRACEWIRE_BEGIN_API
#define TRACEWIRE_END_API
#endif
