// LogRecord (building a record under the limits) and Logger (creating and
// emitting one: timestamps, the current span's context).
//
// A record from the pool keeps the buffers of the record it was before: the
// setters write into them (assign, not construct), attributes past
// attribute_count_ are kept for reuse until Emit trims them, and the body is
// kept until Emit sees that none was set.

#include <algorithm>
#include <variant>

#include "common/wall_clock.h"
#include "sdk/logs/log_record_pool.h"
#include "sdk/logs/logger_provider_state.h"

namespace tracewire {
namespace {

// The longest prefix of `s` of at most `max` bytes that does not end inside
// a UTF-8 sequence.
std::string_view Truncated(std::string_view s, uint32_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

void AssignString(AnyValue& v, std::string_view s) {
  if (auto* str = std::get_if<std::string>(&v.value)) {
    str->assign(s);
  } else {
    v.value.emplace<std::string>(s);
  }
}

// Strings, and the strings of arrays, truncated to `max` bytes.
void TruncateValue(AnyValue& v, uint32_t max) {
  if (auto* str = std::get_if<std::string>(&v.value)) {
    if (str->size() > max) str->resize(Truncated(*str, max).size());
  } else if (auto* arr = std::get_if<AnyValue::Array>(&v.value)) {
    for (AnyValue& e : *arr) {
      if (auto* s = std::get_if<std::string>(&e.value); s != nullptr && s->size() > max) {
        s->resize(Truncated(*s, max).size());
      }
    }
  }
}

std::string_view SeverityText(SeverityNumber s) {
  switch (s) {
    case SeverityNumber::kTrace:
      return "TRACE";
    case SeverityNumber::kDebug:
      return "DEBUG";
    case SeverityNumber::kInfo:
      return "INFO";
    case SeverityNumber::kWarn:
      return "WARN";
    case SeverityNumber::kError:
      return "ERROR";
    case SeverityNumber::kFatal:
      return "FATAL";
    default:
      return {};
  }
}

}  // namespace

uint64_t LogRecord::ToUnixNanos(absl::Time t) {
  return static_cast<uint64_t>(std::max<int64_t>(absl::ToUnixNanos(t), 0));
}

LogRecord& LogRecord::SetTimestamp(uint64_t unix_nano) {
  if (rec_) rec_->data.time_unix_nano = unix_nano;
  return *this;
}

LogRecord& LogRecord::SetObservedTimestamp(uint64_t unix_nano) {
  if (rec_) rec_->data.observed_time_unix_nano = unix_nano;
  return *this;
}

LogRecord& LogRecord::SetSeverity(uint8_t number, std::string_view text) {
  if (rec_) {
    rec_->data.severity_number = std::min<uint8_t>(number, 24);
    rec_->data.severity_text.assign(text);
  }
  return *this;
}

LogRecord& LogRecord::SetBody(std::string_view body) {
  if (!rec_) return *this;
  if (rec_->data.body.has_value()) {
    AssignString(*rec_->data.body, body);
  } else {
    rec_->data.body.emplace(std::string(body));
  }
  body_set_ = true;
  return *this;
}

LogRecord& LogRecord::SetBody(AnyValue body) {
  if (!rec_) return *this;
  rec_->data.body = std::move(body);
  body_set_ = true;
  return *this;
}

LogRecord& LogRecord::SetEventName(std::string_view name) {
  if (rec_) rec_->data.event_name.assign(name);
  return *this;
}

LogRecord& LogRecord::SetTraceContext(const SpanContext& context) {
  if (!rec_) return *this;
  if (context.IsValid()) {
    rec_->data.trace_id = context.trace_id;
    rec_->data.span_id = context.span_id;
    rec_->data.flags = context.trace_flags;
  } else {
    rec_->data.trace_id.reset();
    rec_->data.span_id.reset();
    rec_->data.flags = 0;
  }
  trace_set_ = true;
  return *this;
}

KeyValue* LogRecord::Slot(std::string_view key) {
  if (!rec_) return nullptr;
  Attributes& attrs = rec_->data.attributes;
  for (uint32_t i = 0; i < attribute_count_; ++i) {
    if (attrs[i].key == key) return &attrs[i];
  }
  if (attribute_count_ >= limits_->attribute_count) {
    ++rec_->data.dropped_attributes_count;
    return nullptr;
  }
  if (attribute_count_ < attrs.size()) {
    KeyValue& kv = attrs[attribute_count_++];
    kv.key.assign(key);
    return &kv;
  }
  ++attribute_count_;
  return &attrs.emplace_back(KeyValue{std::string(key), AnyValue()});
}

LogRecord& LogRecord::SetAttribute(std::string_view key, std::string_view value) {
  if (KeyValue* kv = Slot(key))
    AssignString(kv->value, Truncated(value, limits_->attribute_value_length));
  return *this;
}

LogRecord& LogRecord::SetAttribute(std::string_view key, int64_t value) {
  if (KeyValue* kv = Slot(key)) kv->value.value = value;
  return *this;
}

LogRecord& LogRecord::SetAttribute(std::string_view key, double value) {
  if (KeyValue* kv = Slot(key)) kv->value.value = value;
  return *this;
}

LogRecord& LogRecord::SetAttribute(std::string_view key, bool value) {
  if (KeyValue* kv = Slot(key)) kv->value.value = value;
  return *this;
}

LogRecord& LogRecord::SetAttribute(std::string_view key, AnyValue value) {
  if (KeyValue* kv = Slot(key)) {
    kv->value = std::move(value);
    TruncateValue(kv->value, limits_->attribute_value_length);
  }
  return *this;
}

LogRecord& LogRecord::SetAttribute(const AttributeView& a) {
  switch (a.type()) {
    case AttributeView::Type::kString:
      return SetAttribute(a.key(), a.string_value());
    case AttributeView::Type::kBool:
      return SetAttribute(a.key(), a.bool_value());
    case AttributeView::Type::kInt:
      return SetAttribute(a.key(), a.int_value());
    case AttributeView::Type::kDouble:
      return SetAttribute(a.key(), a.double_value());
  }
  return *this;
}

bool Logger::Enabled() const { return provider_ != nullptr && !provider_->shut_down(); }

LogRecord Logger::CreateLogRecord() {
  LogRecord r;
  if (!Enabled()) return r;
  r.rec_ = sdk::AcquireLogRecord();
  r.limits_ = &provider_->limits();
  ReadableLogRecord& rec = *r.rec_;
  rec.scope = &scope_;
  rec.resource = &provider_->resource();
  LogRecordData& d = rec.data;
  d.time_unix_nano = 0;
  d.observed_time_unix_nano = 0;
  d.severity_number = 0;
  d.severity_text.clear();
  d.dropped_attributes_count = 0;
  d.flags = 0;
  d.trace_id.reset();
  d.span_id.reset();
  d.event_name.clear();
  return r;
}

void Logger::Emit(LogRecord&& record) {
  if (!record.rec_ || provider_ == nullptr) return;
  UniqueLogRecord rec = std::move(record.rec_);
  LogRecordData& d = rec->data;
  if (d.attributes.size() > record.attribute_count_) d.attributes.resize(record.attribute_count_);
  if (!record.body_set_) d.body.reset();
  if (d.observed_time_unix_nano == 0) d.observed_time_unix_nano = common::WallNanos();
  if (!record.trace_set_) {
    const SpanContext& sc = Context::Current().span_context();
    if (sc.IsValid()) {
      d.trace_id = sc.trace_id;
      d.span_id = sc.span_id;
      d.flags = sc.trace_flags;
    }
  }
  provider_->Dispatch(std::move(rec));
}

void Logger::Emit(SeverityNumber severity, std::string_view body,
                  std::initializer_list<AttributeView> attributes) {
  if (!Enabled()) return;
  LogRecord r = CreateLogRecord();
  const uint64_t now = common::WallNanos();
  r.SetTimestamp(now).SetObservedTimestamp(now).SetSeverity(severity, SeverityText(severity));
  r.SetBody(body);
  for (const AttributeView& a : attributes) r.SetAttribute(a);
  Emit(std::move(r));
}

}  // namespace tracewire
