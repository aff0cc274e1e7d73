//===- EventFile.h - TensorBoard event files --------------------*- C++ -*-===//
//
// Writes the files TensorBoard reads (events.out.tfevents.*) without
// TensorFlow or protobuf: TFRecord framing around hand-encoded Event
// protos carrying scalar summaries.
//
// TFRecord record: uint64 length (LE), uint32 masked CRC-32C of the length
// bytes, the data, uint32 masked CRC-32C of the data. The mask is
// ((crc >> 15) | (crc << 17)) + 0xa282ead8.
//
// Event (tensorflow/core/util/event.proto): wall_time = 1 (double),
// step = 2 (int64), file_version = 3 (string, first record only:
// "brain.Event:2"), summary = 5 (Summary). Summary.value = 1 (repeated
// Value); Value.tag = 1 (string), Value.simple_value = 2 (float),
// Value.histo = 5 (HistogramProto: min = 1, max = 2, num = 3, sum = 4,
// sum_squares = 5 (doubles), bucket_limit = 6, bucket = 7 (packed
// doubles)), Value.tensor = 8 (TensorProto: dtype = 1, tensor_shape = 2,
// string_val = 8) with Value.metadata = 9 (SummaryMetadata: plugin_data =
// 1 (PluginData: plugin_name = 1, content = 2)) for text summaries.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MONITOR_EVENTFILE_H
#define DLC_RUNTIME_MONITOR_EVENTFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace dlc::runtime {

/// CRC-32C (Castagnoli), as used by TFRecord; crc32c("123456789") ==
/// 0xE3069283.
uint32_t crc32c(llvm::ArrayRef<uint8_t> data, uint32_t crc = 0);
/// TFRecord's masked CRC-32C.
uint32_t maskedCrc32c(llvm::ArrayRef<uint8_t> data);

/// Encodes an Event with scalar summaries (or, with an empty `scalars` and
/// a non-empty `fileVersion`, the file header event).
std::string
encodeScalarEvent(double wallTime, int64_t step,
                  llvm::ArrayRef<std::pair<std::string, float>> scalars,
                  llvm::StringRef fileVersion = "");

/// A histogram of `values` in equal-width buckets between their minimum
/// and maximum, as TensorBoard's histogram and distribution dashboards
/// read it (HistogramProto).
struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sumSquares = 0;
  std::vector<double> bucketLimits, buckets;
  static Histogram of(llvm::ArrayRef<float> values, int numBuckets = 30);
};

/// Encodes an Event with one histogram summary.
std::string encodeHistogramEvent(double wallTime, int64_t step,
                                 llvm::StringRef tag,
                                 const Histogram &histogram);

/// Encodes an Event with one text summary (TensorBoard's text plugin:
/// Markdown in a string tensor).
std::string encodeTextEvent(double wallTime, int64_t step, llvm::StringRef tag,
                            llvm::StringRef text);

/// Seconds since the epoch, as events record it.
double eventWallTime();

/// Frames `data` as one TFRecord.
std::string frameRecord(llvm::StringRef data);

/// Appends events to one file in a log directory.
class EventFileWriter {
public:
  EventFileWriter() = default;
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter &) = delete;
  EventFileWriter &operator=(const EventFileWriter &) = delete;

  /// Creates events.out.tfevents.<seconds>.<host> in `dir` (with a numeric
  /// suffix if that exists) and writes the file_version record.
  llvm::Error open(llvm::StringRef dir);
  /// Writes one Event with these scalars at `step`, and flushes.
  llvm::Error addScalars(int64_t step,
                         llvm::ArrayRef<std::pair<std::string, float>> scalars);
  /// Writes one encoded Event (encode*Event), and flushes.
  llvm::Error addEvent(llvm::StringRef event);
  const std::string &getPath() const { return path; }

private:
  llvm::Error write(llvm::StringRef record);
  std::FILE *file = nullptr;
  std::string path;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MONITOR_EVENTFILE_H
