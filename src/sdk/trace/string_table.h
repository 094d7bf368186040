#pragma once
// Interned strings for span records: attribute keys, span names and event
// names. A span stores an interned string as a small id (one byte for the
// first 127 strings) instead of its bytes, which keeps a queued span small.
//
// The table only grows. It is bounded (kMaxStrings strings, kMaxBytes
// bytes, strings of at most kMaxLength bytes); a string it cannot take gets
// id 0 and the caller stores its bytes instead.
//
// Thread-safe. Intern() looks first in a small per-thread cache keyed by the
// string's address, which hits for literals and for strings that live on;
// a hit checks the bytes too, so a reused buffer with new contents is never
// mistaken for the string that was there before. Get() takes no lock.

#include <cstdint>
#include <string_view>

namespace tracewire::sdk {

class StringTable {
 public:
  static constexpr uint32_t kMaxStrings = 1 << 16;
  static constexpr size_t kMaxBytes = 4 << 20;
  static constexpr size_t kMaxLength = 128;

  // The id of `s` (1 and up), or 0 when the table cannot take it.
  static uint32_t Intern(std::string_view s) {
    bool immutable;
    return Intern(s, &immutable);
  }
  // Also tells whether s's bytes are in the program's read-only segments
  // (a literal): they cannot change, so its address alone names the string.
  static uint32_t Intern(std::string_view s, bool* immutable);
  // The string of an id that Intern returned (happens-before: the id came
  // from Intern on this thread or was passed from it through a release).
  static std::string_view Get(uint32_t id) { return strings_[id]; }

 private:
  friend struct StringTableState;
  static std::string_view* strings_;  // set once, before the first id is handed out
};

}  // namespace tracewire::sdk
