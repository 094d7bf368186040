// libprotobuf's log lines fail the test that causes them. A test that makes
// libprotobuf log on purpose (it parses malformed bytes with the generated
// classes, say) holds a google::protobuf::LogSilencer around that code and
// asserts the outcome it expects (the parse fails); any other libprotobuf
// message is a real problem and shows up as a failure naming it, instead of
// an "[libprotobuf ERROR ...]" line in the output of a passing test.
//
// The handler is installed during static initialization, before main and
// before any thread exists (SetLogHandler is not thread-safe). gtest
// assertions are thread-safe, so a message logged on another thread fails
// the running test too.

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>

#include "google/protobuf/stubs/logging.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace tracewire::testing {
namespace {

const char* LevelName(google::protobuf::LogLevel level) {
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      return "INFO";
    case google::protobuf::LOGLEVEL_WARNING:
      return "WARNING";
    case google::protobuf::LOGLEVEL_ERROR:
      return "ERROR";
    case google::protobuf::LOGLEVEL_FATAL:
      break;
  }
  return "FATAL";
}

void FailOnProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                       const std::string& message) {
  ADD_FAILURE() << "libprotobuf " << LevelName(level) << " (" << filename << ":" << line
                << "): " << message
                << "\n(a test that expects this holds a google::protobuf::LogSilencer around it "
                   "and asserts the outcome)";
}

google::protobuf::LogHandler* const kPreviousHandler =
    google::protobuf::SetLogHandler(&FailOnProtobufLog);

// AnyValue{string_value: "\xff"}: libprotobuf rejects it and logs why.
const std::string kInvalidUtf8AnyValue("\x0a\x01\xff", 3);

TEST(ProtobufLogGuard, AProtobufLogLineFailsTheTest) {
  ASSERT_NE(kPreviousHandler, &FailOnProtobufLog);
  EXPECT_NONFATAL_FAILURE(
      {
        opentelemetry::proto::common::v1::AnyValue v;
        EXPECT_FALSE(v.ParseFromString(kInvalidUtf8AnyValue));
      },
      "invalid UTF-8");
}

TEST(ProtobufLogGuard, ASilencedLineDoesNot) {
  google::protobuf::LogSilencer quiet;
  opentelemetry::proto::common::v1::AnyValue v;
  EXPECT_FALSE(v.ParseFromString(kInvalidUtf8AnyValue));
}

}  // namespace
}  // namespace tracewire::testing
