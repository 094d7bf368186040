#pragma once
// The parsing behind tracewire/resource.h's detectors, as pure functions of
// the text a detector reads, so that tests can give any machine's files.
// Thread safety: pure functions, thread-safe.

#include <string>
#include <string_view>

namespace tracewire::sdk {

// The container id (64 hex digits) in /proc/self/cgroup's text: the last
// path segment of a line, without a docker-/crio-/cri-containerd- prefix or a
// .scope suffix. Empty when no line names one.
std::string ContainerIdFromCgroup(std::string_view cgroup);
// The same from /proc/self/mountinfo (cgroup v2 hosts, where the cgroup file
// says only "0::/"): the id in a .../containers/<id>/... or
// .../sandboxes/<id>/... mount source.
std::string ContainerIdFromMountinfo(std::string_view mountinfo);
// KEY's value in /etc/os-release text, unquoted; empty when absent.
std::string OsReleaseValue(std::string_view os_release, std::string_view key);
// uname's machine in the semantic conventions' host.arch values (x86_64 ->
// amd64, aarch64 -> arm64, ...); other names pass through.
std::string HostArch(std::string_view machine);
// The program name behind "unknown_service:": the executable's file name.
std::string ExecutableName();

}  // namespace tracewire::sdk
