//===- Cifar.cpp - CIFAR-10 binary batches --------------------------------===//
//
// Format reference: https://www.cs.toronto.edu/~kriz/cifar.html ("Binary
// version").
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Cifar.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace dlc::runtime;

static constexpr int64_t kSide = 32, kChannels = 3, kClasses = 10;
static constexpr int64_t kPlane = kSide * kSide;
static constexpr int64_t kRecord = 1 + kChannels * kPlane;

llvm::Error dlc::runtime::parseCifarBatch(llvm::ArrayRef<uint8_t> bytes,
                                          llvm::StringRef name, Dataset &data) {
  if (bytes.empty() || bytes.size() % kRecord != 0)
    return llvm::createStringError(
        llvm::formatv("{0}: truncated CIFAR-10 batch: {1} bytes is not a "
                      "whole number of {2}-byte records",
                      name, bytes.size(), kRecord)
            .str());
  int64_t n = bytes.size() / kRecord;
  data.height = data.width = kSide;
  data.channels = kChannels;
  size_t base = data.pixels.size();
  data.pixels.resize(base + n * kChannels * kPlane);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t *record = bytes.data() + i * kRecord;
    if (record[0] >= kClasses)
      return llvm::createStringError(
          llvm::formatv("{0}: record {1} has label {2}; CIFAR-10 labels are "
                        "0..9 (corrupt file?)",
                        name, i, record[0])
              .str());
    data.labels.push_back(record[0]);
    // Channel-planar on disk, NHWC in memory.
    uint8_t *out = data.pixels.data() + base + i * kChannels * kPlane;
    for (int64_t c = 0; c < kChannels; ++c)
      for (int64_t p = 0; p < kPlane; ++p)
        out[p * kChannels + c] = record[1 + c * kPlane + p];
  }
  return llvm::Error::success();
}

/// The directory that actually holds the batches: `dir` or the
/// cifar-10-batches-bin directory the archive unpacks to.
static std::string batchDirectory(llvm::StringRef dir) {
  llvm::SmallString<256> nested(dir);
  llvm::sys::path::append(nested, "cifar-10-batches-bin");
  if (llvm::sys::fs::is_directory(nested))
    return nested.str().str();
  return dir.str();
}

bool dlc::runtime::isCifarDirectory(llvm::StringRef dir) {
  llvm::SmallString<256> path(batchDirectory(dir));
  llvm::sys::path::append(path, "test_batch.bin");
  return llvm::sys::fs::is_regular_file(path);
}

static llvm::Error readBatchFile(llvm::StringRef dir, llvm::StringRef file,
                                 Dataset &data) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  if (!llvm::sys::fs::exists(path))
    return llvm::createStringError("missing CIFAR-10 file '%s'", path.c_str());
  // A batch file of the distribution is 10000 records; a much larger one
  // (or a gzip stream that expands to it) is no CIFAR-10 file.
  auto bytes = readFileMaybeGzip(path, 4 * 10000 * kRecord);
  if (!bytes)
    return bytes.takeError();
  return parseCifarBatch(*bytes, path, data);
}

llvm::Expected<DataSplits>
dlc::runtime::readCifarDirectory(llvm::StringRef dir) {
  std::string batches = batchDirectory(dir);
  DataSplits splits;
  for (int i = 1; i <= 5; ++i)
    if (llvm::Error err = readBatchFile(
            batches, ("data_batch_" + llvm::Twine(i) + ".bin").str(),
            splits.train))
      return std::move(err);
  if (llvm::Error err = readBatchFile(batches, "test_batch.bin", splits.test))
    return std::move(err);
  splits.train.source = batches + "/data_batch_{1..5}.bin";
  splits.test.source = batches + "/test_batch.bin";
  splits.description = "CIFAR-10 binary batches in " + batches;
  return splits;
}
