//===- Batcher.h - Splits, epoch order and batch assembly -------*- C++ -*-===//
//
// The compiled steps take a fixed batch size, so every batch the runtime
// builds has exactly `batchSize` rows. This file decides which samples go
// into which batch (validation split, per-epoch shuffle, the last partial
// batch) and converts 8-bit pixels to the model's normalized float input.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATA_BATCHER_H
#define DLC_RUNTIME_DATA_BATCHER_H

#include "dlc/Runtime/Data/Dataset.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

namespace dlc::runtime {

/// x = pixel * scale[c] + offset[c] for channel c (pixel in 0..255). One
/// value applies to every channel.
struct Normalization {
  llvm::SmallVector<float, 4> scale{1.0f / 255.0f};
  llvm::SmallVector<float, 4> offset{0.0f};
};

/// Keras's validation_split: the *last* `fraction` of the training data
/// (before any shuffling) is held out. Returns the number of validation
/// samples, rounded down.
int64_t validationCount(int64_t size, double fraction);

/// The sample indices of row r = 0..batchSize-1 of batch `batch` in an
/// epoch whose order is `order`: order[(batch * batchSize + r) % n]. A last
/// partial batch is therefore padded with the first samples of the epoch's
/// order, which keeps every batch full without dropping data.
void batchIndices(llvm::ArrayRef<uint32_t> order, int64_t batch,
                  int64_t batchSize, llvm::SmallVectorImpl<uint32_t> &rows);

/// Number of training batches per epoch: ceil(n / b), or floor with
/// `dropRemainder`.
int64_t batchesPerEpoch(int64_t n, int64_t batchSize, bool dropRemainder);

/// Fills the model's input and label buffers from dataset rows.
class BatchAssembler {
public:
  BatchAssembler(const Dataset &data, const Normalization &norm);

  /// `input` is [rows.size(), H, W, C] f32, `labels` is [rows.size()] i32.
  /// Row r is dataset sample `offset + rows[r]`.
  void assemble(llvm::ArrayRef<uint32_t> rows, int64_t offset, float *input,
                int32_t *labels) const;

private:
  const Dataset &data;
  /// lut[c * 256 + p]: the normalized value of pixel p in channel c.
  std::vector<float> lut;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DATA_BATCHER_H
