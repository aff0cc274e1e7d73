//===- EventFile.cpp - TensorBoard event files ----------------------------===//
//
// The protobuf wire format by hand: varint keys (field << 3 | wire type),
// wire type 1 = 64-bit, 2 = length-delimited, 5 = 32-bit, 0 = varint.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Monitor/EventFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unistd.h>

using namespace dlc::runtime;

static const uint32_t *crc32cTable() {
  static uint32_t table[256];
  static bool ready = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1; // Reflected 0x1EDC6F41.
      table[i] = c;
    }
    return true;
  }();
  (void)ready;
  return table;
}

uint32_t dlc::runtime::crc32c(llvm::ArrayRef<uint8_t> data, uint32_t crc) {
  const uint32_t *table = crc32cTable();
  crc = ~crc;
  for (uint8_t byte : data)
    crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t dlc::runtime::maskedCrc32c(llvm::ArrayRef<uint8_t> data) {
  uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

namespace {
/// A minimal protobuf writer.
class ProtoWriter {
public:
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  }
  void key(int field, int wireType) { varint(uint64_t(field) << 3 | wireType); }
  void fixed(const void *p, size_t n) {
    out.append(static_cast<const char *>(p), n); // Little-endian host.
  }
  void doubleField(int field, double v) {
    key(field, 1);
    fixed(&v, 8);
  }
  void floatField(int field, float v) {
    key(field, 5);
    fixed(&v, 4);
  }
  void int64Field(int field, int64_t v) {
    key(field, 0);
    varint(static_cast<uint64_t>(v));
  }
  void packedDoubles(int field, llvm::ArrayRef<double> v) {
    key(field, 2);
    varint(v.size() * 8);
    for (double d : v)
      fixed(&d, 8);
  }
  void bytesField(int field, llvm::StringRef v) {
    key(field, 2);
    varint(v.size());
    out.append(v.data(), v.size());
  }
  std::string out;
};
} // namespace

std::string dlc::runtime::encodeScalarEvent(
    double wallTime, int64_t step,
    llvm::ArrayRef<std::pair<std::string, float>> scalars,
    llvm::StringRef fileVersion) {
  ProtoWriter summary;
  for (const auto &[tag, value] : scalars) {
    ProtoWriter v;
    v.bytesField(1, tag);
    v.floatField(2, value);
    summary.bytesField(1, v.out);
  }
  ProtoWriter event;
  event.doubleField(1, wallTime);
  event.int64Field(2, step);
  if (!fileVersion.empty())
    event.bytesField(3, fileVersion);
  if (!scalars.empty())
    event.bytesField(5, summary.out);
  return event.out;
}

Histogram Histogram::of(llvm::ArrayRef<float> values, int numBuckets) {
  Histogram h;
  if (values.empty())
    return h;
  h.min = h.max = values.front();
  for (float v : values) {
    h.min = std::min<double>(h.min, v);
    h.max = std::max<double>(h.max, v);
    h.sum += v;
    h.sumSquares += double(v) * v;
  }
  h.num = double(values.size());
  // One bucket when every value is the same (e.g. zero-initialized biases).
  int n = h.max > h.min ? numBuckets : 1;
  double width = (h.max - h.min) / n;
  h.buckets.assign(n, 0);
  for (int i = 0; i < n; ++i)
    h.bucketLimits.push_back(i + 1 == n ? h.max : h.min + width * (i + 1));
  for (float v : values) {
    int i = width > 0 ? int((v - h.min) / width) : 0;
    h.buckets[std::clamp(i, 0, n - 1)] += 1;
  }
  return h;
}

/// An Event holding one summary value (already encoded).
static std::string eventWithValue(double wallTime, int64_t step,
                                  llvm::StringRef value) {
  ProtoWriter summary;
  summary.bytesField(1, value);
  ProtoWriter event;
  event.doubleField(1, wallTime);
  event.int64Field(2, step);
  event.bytesField(5, summary.out);
  return event.out;
}

std::string dlc::runtime::encodeHistogramEvent(double wallTime, int64_t step,
                                               llvm::StringRef tag,
                                               const Histogram &h) {
  ProtoWriter histo;
  histo.doubleField(1, h.min);
  histo.doubleField(2, h.max);
  histo.doubleField(3, h.num);
  histo.doubleField(4, h.sum);
  histo.doubleField(5, h.sumSquares);
  histo.packedDoubles(6, h.bucketLimits);
  histo.packedDoubles(7, h.buckets);
  ProtoWriter value;
  value.bytesField(1, tag);
  value.bytesField(5, histo.out);
  return eventWithValue(wallTime, step, value.out);
}

std::string dlc::runtime::encodeTextEvent(double wallTime, int64_t step,
                                          llvm::StringRef tag,
                                          llvm::StringRef text) {
  ProtoWriter pluginData;
  pluginData.bytesField(1, "text");
  ProtoWriter metadata;
  metadata.bytesField(1, pluginData.out);
  ProtoWriter tensor;
  tensor.int64Field(1, 7);    // DT_STRING
  tensor.bytesField(2, "");   // A scalar: a shape without dimensions.
  tensor.bytesField(8, text); // string_val
  ProtoWriter value;
  value.bytesField(1, tag);
  value.bytesField(8, tensor.out);
  value.bytesField(9, metadata.out);
  return eventWithValue(wallTime, step, value.out);
}

std::string dlc::runtime::frameRecord(llvm::StringRef data) {
  auto bytes = [](const void *p, size_t n) {
    return llvm::ArrayRef<uint8_t>(static_cast<const uint8_t *>(p), n);
  };
  uint64_t length = data.size();
  uint32_t lengthCrc = maskedCrc32c(bytes(&length, 8));
  uint32_t dataCrc = maskedCrc32c(bytes(data.data(), data.size()));
  std::string record;
  record.append(reinterpret_cast<const char *>(&length), 8);
  record.append(reinterpret_cast<const char *>(&lengthCrc), 4);
  record.append(data.data(), data.size());
  record.append(reinterpret_cast<const char *>(&dataCrc), 4);
  return record;
}

double dlc::runtime::eventWallTime() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

static double wallTime() { return eventWallTime(); }

EventFileWriter::~EventFileWriter() {
  if (file)
    std::fclose(file);
}

llvm::Error EventFileWriter::open(llvm::StringRef dir) {
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  std::string base = "events.out.tfevents." +
                     std::to_string(static_cast<int64_t>(wallTime())) + "." +
                     host;
  for (int suffix = 0;; ++suffix) {
    llvm::SmallString<256> candidate(dir);
    llvm::sys::path::append(
        candidate, suffix ? base + "." + std::to_string(suffix) : base);
    if (!llvm::sys::fs::exists(candidate)) {
      path = candidate.str().str();
      break;
    }
  }
  file = std::fopen(path.c_str(), "wb");
  if (!file)
    return llvm::createStringError("cannot create '%s': %s", path.c_str(),
                                   std::strerror(errno));
  return write(
      frameRecord(encodeScalarEvent(wallTime(), 0, {}, "brain.Event:2")));
}

llvm::Error EventFileWriter::addScalars(
    int64_t step, llvm::ArrayRef<std::pair<std::string, float>> scalars) {
  return write(frameRecord(encodeScalarEvent(wallTime(), step, scalars)));
}

llvm::Error EventFileWriter::addEvent(llvm::StringRef event) {
  return write(frameRecord(event));
}

llvm::Error EventFileWriter::write(llvm::StringRef record) {
  if (!file)
    return llvm::Error::success();
  if (std::fwrite(record.data(), 1, record.size(), file) != record.size() ||
      std::fflush(file) != 0)
    return llvm::createStringError("cannot write '%s': %s", path.c_str(),
                                   std::strerror(errno));
  return llvm::Error::success();
}
