//===- Batcher.cpp - Splits, epoch order and batch assembly ---------------===//
//
// Assembly goes through a per-channel lookup table: one load per pixel, and
// bit-identical values whatever the normalization constants are.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Batcher.h"

#include <cmath>

using namespace dlc::runtime;

int64_t dlc::runtime::validationCount(int64_t size, double fraction) {
  if (fraction <= 0)
    return 0;
  return static_cast<int64_t>(std::floor(size * fraction));
}

void dlc::runtime::batchIndices(llvm::ArrayRef<uint32_t> order, int64_t batch,
                                int64_t batchSize,
                                llvm::SmallVectorImpl<uint32_t> &rows) {
  rows.clear();
  int64_t n = order.size();
  for (int64_t r = 0; r < batchSize; ++r)
    rows.push_back(order[(batch * batchSize + r) % n]);
}

int64_t dlc::runtime::batchesPerEpoch(int64_t n, int64_t batchSize,
                                      bool dropRemainder) {
  return dropRemainder ? n / batchSize : (n + batchSize - 1) / batchSize;
}

BatchAssembler::BatchAssembler(const Dataset &data, const Normalization &norm)
    : data(data) {
  lut.resize(data.channels * 256);
  for (int64_t c = 0; c < data.channels; ++c) {
    float scale = norm.scale.size() == 1 ? norm.scale[0] : norm.scale[c];
    float offset = norm.offset.size() == 1 ? norm.offset[0] : norm.offset[c];
    for (int p = 0; p < 256; ++p)
      lut[c * 256 + p] = static_cast<float>(p) * scale + offset;
  }
}

void BatchAssembler::assemble(llvm::ArrayRef<uint32_t> rows, int64_t offset,
                              float *input, int32_t *labels) const {
  int64_t size = data.imageSize(), channels = data.channels;
  for (size_t r = 0; r < rows.size(); ++r) {
    int64_t sample = offset + rows[r];
    const uint8_t *pixels = data.image(sample);
    float *out = input + r * size;
    if (channels == 1) {
      for (int64_t p = 0; p < size; ++p)
        out[p] = lut[pixels[p]];
    } else {
      for (int64_t p = 0; p < size; ++p)
        out[p] = lut[(p % channels) * 256 + pixels[p]];
    }
    labels[r] = data.labels[sample];
  }
}
