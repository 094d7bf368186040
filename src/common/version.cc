#include "tracewire/version.h"

namespace tracewire {

const char* Version() { return TRACEWIRE_VERSION_STRING; }

}  // namespace tracewire
