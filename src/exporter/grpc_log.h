#pragma once
// gRPC's own log lines (gpr_log) go through tracewire's: one function, used
// by tracewired, the tracewire CLI and the exporter, so that a user sees one
// clear line per problem instead of gRPC's raw lines.
//
// With the sink installed, a gRPC ERROR line that tracewire reports itself
// with its context (a failed connection or TLS handshake: the exporter's
// status names the endpoint and the cause; a port that cannot be bound: the
// receiver's status names the address) is kept, not printed: the thread that
// made the gRPC call takes its cause with TakeGrpcError(). Any other gRPC
// line is printed as one line, "<program>: grpc: <message> (<file>:<line>)",
// and the same message only once in a row.
//
// GRPC_VERBOSITY or GRPC_TRACE set in the environment (e.g.
// GRPC_VERBOSITY=DEBUG) keeps gRPC's detail: every line gRPC logs at that
// verbosity is printed in gRPC's own format, and the causes are still kept.
//
// gRPC has one log function per process: installing this one replaces any
// the application set before; an application that wants its own sets it after
// tracewire's first exporter or channel was created.
//
// Thread-safe.

#include <string>

namespace tracewire::exporter {

// Installs the sink (once; later calls change nothing but the program name a
// first call without one left unset). `program` names the lines it prints
// ("tracewired"); without it they are "tracewire: grpc: ...". The exporter
// and the receiver install it before they first use gRPC.
void InstallGrpcLogSink(const char* program = nullptr);

// The cause in the last ERROR line gRPC logged on this thread since the last
// call (its innermost message, e.g. "Name or service not known"), or "" if
// none; forgets it.
std::string TakeGrpcError();

// The innermost message of a gRPC error text such as
// "UNKNOWN:No address added out of total 0 resolved for 'h:1'
// {created_time:..., children:[UNKNOWN:Name or service not known {...}]}":
// "Name or service not known". Text without that structure comes back
// trimmed.
std::string GrpcErrorCause(const std::string& text);

}  // namespace tracewire::exporter
