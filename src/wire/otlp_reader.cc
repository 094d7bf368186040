#include "wire/otlp_reader.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "wire/otlp_schema.h"
#include "wire/otlp_split.h"
#include "wire/otlp_validate.h"
#include "wire/proto_reader.h"
#include "wire/proto_writer.h"

namespace tracewire::wire {
namespace {

constexpr int kMaxProblemsListed = 3;

struct SignalShape {
  const MessageDesc* request;
  const MessageDesc* resource_level;
  const MessageDesc* scope_level;
  const MessageDesc* item;
  const char* resource_field;  // names for error messages
  const char* scope_field;
  const char* item_field;
};

const SignalShape& ShapeOf(Signal s) {
  static const SignalShape kShapes[kSignalCount] = {
      {&schema::kExportTraceServiceRequest, &schema::kResourceSpans, &schema::kScopeSpans,
       &schema::kSpan, "resource_spans", "scope_spans", "spans"},
      {&schema::kExportMetricsServiceRequest, &schema::kResourceMetrics, &schema::kScopeMetrics,
       &schema::kMetric, "resource_metrics", "scope_metrics", "metrics"},
      {&schema::kExportLogsServiceRequest, &schema::kResourceLogs, &schema::kScopeLogs,
       &schema::kLogRecord, "resource_logs", "scope_logs", "log_records"},
  };
  return kShapes[static_cast<int>(s)];
}

bool AllZero(std::string_view b) {
  for (char c : b) {
    if (c != 0) return false;
  }
  return true;
}

// Checks an id field: `want` bytes and not all zero, or (if optional) empty.
const char* IdProblem(std::string_view id, size_t want, bool optional, const char* name,
                      std::string* out) {
  if (id.empty() && optional) return nullptr;
  if (id.size() != want) {
    *out = absl::StrCat(name, " is ", id.size(), " bytes, want ", want);
    return out->c_str();
  }
  if (AllZero(id)) {
    *out = absl::StrCat(name, " is all zero");
    return out->c_str();
  }
  return nullptr;
}

// Item parsers. Each returns false when the bytes are malformed; otherwise it
// fills the view and sets *problem (empty when the item is valid).
bool ParseSpan(std::string_view bytes, bool validate, SpanView* v, std::string* problem) {
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    switch (f.number) {
      case 1:
        if (f.type == WireType::kLen) v->trace_id = f.bytes;
        break;
      case 2:
        if (f.type == WireType::kLen) v->span_id = f.bytes;
        break;
      case 4:
        if (f.type == WireType::kLen) v->parent_span_id = f.bytes;
        break;
      case 5:
        if (f.type == WireType::kLen) v->name = f.bytes;
        break;
      case 6:
        if (f.type == WireType::kVarint) v->kind = static_cast<uint32_t>(f.value);
        break;
      case 7:
        if (f.type == WireType::kFixed64) v->start_time_unix_nano = f.value;
        break;
      case 8:
        if (f.type == WireType::kFixed64) v->end_time_unix_nano = f.value;
        break;
      default:
        break;
    }
    if (validate && !ValidateField(schema::kSpan, f, 3)) return false;
  }
  if (!r.ok()) return false;
  v->raw = bytes;
  if (IdProblem(v->trace_id, 16, false, "trace_id", problem)) return true;
  if (IdProblem(v->span_id, 8, false, "span_id", problem)) return true;
  if (!v->parent_span_id.empty() && v->parent_span_id.size() != 8) {
    *problem = absl::StrCat("parent_span_id is ", v->parent_span_id.size(), " bytes, want 8 or 0");
    return true;
  }
  if (v->end_time_unix_nano < v->start_time_unix_nano) {
    *problem = absl::StrCat("end_time_unix_nano ", v->end_time_unix_nano,
                            " is before start_time_unix_nano ", v->start_time_unix_nano);
  }
  return true;
}

bool ParseLogRecord(std::string_view bytes, bool validate, LogRecordView* v,
                    std::string* problem) {
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    switch (f.number) {
      case 1:
        if (f.type == WireType::kFixed64) v->time_unix_nano = f.value;
        break;
      case 2:
        if (f.type == WireType::kVarint) v->severity_number = static_cast<uint32_t>(f.value);
        break;
      case 9:
        if (f.type == WireType::kLen) v->trace_id = f.bytes;
        break;
      case 10:
        if (f.type == WireType::kLen) v->span_id = f.bytes;
        break;
      default:
        break;
    }
    if (validate && !ValidateField(schema::kLogRecord, f, 3)) return false;
  }
  if (!r.ok()) return false;
  v->raw = bytes;
  if (IdProblem(v->trace_id, 16, true, "trace_id", problem)) return true;
  IdProblem(v->span_id, 8, true, "span_id", problem);
  return true;
}

// Counts the entries of a packed-or-not repeated fixed64/double field.
void CountFixed64(const Field& f, int64_t* n) {
  if (f.type == WireType::kLen) {
    *n += static_cast<int64_t>(f.bytes.size() / 8);
  } else if (f.type == WireType::kFixed64) {
    ++*n;
  }
}

// Checks each histogram point: bucket_counts is empty or one longer than
// explicit_bounds. The bytes were validated already.
std::string HistogramProblem(std::string_view histogram) {
  ProtoReader r(histogram);
  Field f;
  int index = 0;
  while (r.Next(&f)) {
    if (f.number != 1 || f.type != WireType::kLen) continue;
    int64_t counts = 0, bounds = 0;
    ProtoReader pr(f.bytes);
    Field pf;
    while (pr.Next(&pf)) {
      if (pf.number == 6) CountFixed64(pf, &counts);
      if (pf.number == 7) CountFixed64(pf, &bounds);
    }
    if (counts != 0 && counts != bounds + 1) {
      return absl::StrCat("histogram data_points[", index, "] has ", counts,
                          " bucket_counts for ", bounds, " explicit_bounds");
    }
    ++index;
  }
  return "";
}

bool ParseMetric(std::string_view bytes, bool validate, MetricView* v, std::string* problem) {
  ProtoReader r(bytes);
  Field f;
  uint32_t seen_data = 0;  // bit per data field number
  std::string_view data;
  std::string merged;  // a data field that occurs more than once, merged (rare)
  while (r.Next(&f)) {
    if (validate && !ValidateField(schema::kMetric, f, 3)) return false;
    if (f.type != WireType::kLen) continue;
    switch (f.number) {
      case 1:
        v->name = f.bytes;
        break;
      case 5:
      case 7:
      case 9:
      case 10:
      case 11:
        seen_data |= 1u << f.number;
        if (f.number == v->data_field) {
          // The same field again: libprotobuf merges the two messages, which
          // is what parsing their concatenation gives.
          if (data.data() != merged.data()) merged.assign(data);
          merged.append(f.bytes);
          data = merged;
        } else {  // Another member of the oneof replaces the previous one.
          v->data_field = f.number;
          data = f.bytes;
        }
        break;
      default:
        break;
    }
  }
  if (!r.ok()) return false;
  v->raw = bytes;
  v->data_points = MetricDataPoints(bytes);
  if (v->name.empty()) {
    *problem = "metric has no name";
  } else if (seen_data == 0) {
    *problem = absl::StrCat("metric \"", std::string(v->name), "\" has no data field");
  } else if ((seen_data & (seen_data - 1)) != 0) {
    *problem = absl::StrCat("metric \"", std::string(v->name), "\" has more than one data field");
  } else if (v->data_field == 9) {
    std::string p = HistogramProblem(data);
    if (!p.empty()) *problem = absl::StrCat("metric \"", std::string(v->name), "\": ", p);
  }
  return true;
}

class Walker {
 public:
  Walker(Signal signal, RequestVisitor* visitor, ReadResult* result, bool validate)
      : signal_(signal),
        shape_(ShapeOf(signal)),
        visitor_(visitor),
        result_(result),
        validate_(validate) {}

  absl::Status WalkRequest(std::string_view bytes) {
    ProtoReader r(bytes);
    Field f;
    int ri = 0;
    while (r.Next(&f)) {
      if (f.number == 1 && f.type == WireType::kLen) {
        ++result_->resources;
        if (!WalkResource(f.bytes, ri)) return Malformed();
        ++ri;
      } else if (!ValidateField(*shape_.request, f, 0)) {
        path_ = "";
        return Malformed();
      }
    }
    if (!r.ok()) {
      path_ = "";
      return Malformed();
    }
    return absl::OkStatus();
  }

  const std::vector<const char*>& drops() const { return drops_; }

 private:
  bool WalkResource(std::string_view bytes, int ri) {
    ProtoReader r(bytes);
    Field f;
    int si = 0;
    path_ = absl::StrCat(shape_.resource_field, "[", ri, "]");
    while (r.Next(&f)) {
      if (f.number == 2 && f.type == WireType::kLen) {
        ++result_->scopes;
        if (!WalkScope(f.bytes, ri, si)) return false;
        ++si;
        // Later problems in this entry are the resource's, not the scope's.
        path_ = absl::StrCat(shape_.resource_field, "[", ri, "]");
      } else {
        if (!ValidateField(*shape_.resource_level, f, 1)) return false;
        if (f.number == 1 && f.type == WireType::kLen && visitor_) visitor_->OnResource(f.bytes);
      }
    }
    return r.ok();
  }

  bool WalkScope(std::string_view bytes, int ri, int si) {
    ProtoReader r(bytes);
    Field f;
    int ii = 0;
    path_ = absl::StrCat(shape_.resource_field, "[", ri, "].", shape_.scope_field, "[", si, "]");
    while (r.Next(&f)) {
      if (f.number == 2 && f.type == WireType::kLen) {
        if (!WalkItem(f, ri, si, ii)) return false;
        ++ii;
      } else {
        if (!ValidateField(*shape_.scope_level, f, 2)) return false;
        if (f.number == 1 && f.type == WireType::kLen && visitor_) visitor_->OnScope(f.bytes);
      }
    }
    return r.ok();
  }

  bool WalkItem(const Field& f, int ri, int si, int ii) {
    std::string problem;
    int64_t count = 1;
    switch (signal_) {
      case Signal::kTraces: {
        SpanView v;
        if (!ParseSpan(f.bytes, validate_, &v, &problem)) return ItemMalformed(ii);
        if (problem.empty() && visitor_) visitor_->OnSpan(v);
        break;
      }
      case Signal::kMetrics: {
        MetricView v;
        if (!ParseMetric(f.bytes, validate_, &v, &problem)) return ItemMalformed(ii);
        count = v.data_points;
        if (problem.empty() && visitor_) visitor_->OnMetric(v);
        break;
      }
      case Signal::kLogs: {
        LogRecordView v;
        if (!ParseLogRecord(f.bytes, validate_, &v, &problem)) return ItemMalformed(ii);
        if (problem.empty() && visitor_) visitor_->OnLogRecord(v);
        break;
      }
    }
    result_->items += count;
    if (!problem.empty()) {
      result_->rejected += count;
      drops_.push_back(f.begin);
      if (listed_ < kMaxProblemsListed) {
        if (listed_ > 0) result_->error_message += "; ";
        absl::StrAppend(&result_->error_message, shape_.resource_field, "[", ri, "].",
                        shape_.scope_field, "[", si, "].", shape_.item_field, "[", ii,
                        "]: ", problem);
      }
      ++listed_;
    }
    return true;
  }

  bool ItemMalformed(int ii) {
    absl::StrAppend(&path_, ".", shape_.item_field, "[", ii, "]");
    return false;
  }

  absl::Status Malformed() const {
    return absl::InvalidArgumentError(
        absl::StrCat("request is not a valid ", shape_.request->full_name,
                     path_.empty() ? "" : ": malformed at ", path_));
  }

 public:
  void FinishMessage() {
    if (listed_ > kMaxProblemsListed) {
      absl::StrAppend(&result_->error_message, "; and ", listed_ - kMaxProblemsListed,
                      " more invalid ", shape_.item_field);
    }
  }

 private:
  Signal signal_;
  const SignalShape& shape_;
  RequestVisitor* visitor_;
  ReadResult* result_;
  const bool validate_;  // items: check their fields deeply (ReadMode::kValidate)
  std::string path_;
  std::vector<const char*> drops_;
  int listed_ = 0;
};

// Copies `msg` (at nesting `level`: 0 request, 1 resource, 2 scope) leaving out
// the item fields whose first byte is in `drops` (ascending), rewriting the
// lengths of the containers around them.
void Rebuild(std::string_view msg, int level, const std::vector<const char*>& drops,
             size_t* next, std::string* out) {
  ProtoReader r(msg);
  Field f;
  const uint32_t container = level == 0 ? 1 : 2;
  while (r.Next(&f)) {
    const bool pending = *next < drops.size() && drops[*next] >= f.begin && drops[*next] < f.end;
    if (!pending || f.number != container || f.type != WireType::kLen) {
      out->append(f.begin, f.end - f.begin);
      continue;
    }
    if (level == 2) {  // f is the dropped item itself.
      ++*next;
      continue;
    }
    std::string child;
    Rebuild(f.bytes, level + 1, drops, next, &child);
    AppendLenField(out, f.number, child);
  }
}

}  // namespace

absl::StatusOr<ReadResult> ReadExportRequest(Signal signal, std::string_view bytes,
                                             RequestVisitor* visitor, ReadMode mode) {
  ReadResult result;
  Walker w(signal, visitor, &result, mode == ReadMode::kValidate);
  absl::Status st = w.WalkRequest(bytes);
  if (!st.ok()) return st;
  w.FinishMessage();
  if (!w.drops().empty()) {
    size_t next = 0;
    result.filtered.reserve(bytes.size());
    Rebuild(bytes, 0, w.drops(), &next, &result.filtered);
  }
  return result;
}

}  // namespace tracewire::wire
