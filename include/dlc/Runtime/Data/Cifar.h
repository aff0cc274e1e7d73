//===- Cifar.h - CIFAR-10 binary batches ------------------------*- C++ -*-===//
//
// The "binary version" of CIFAR-10: files of 3073-byte records, one label
// byte then a 32x32 image stored channel-planar (1024 R, 1024 G, 1024 B).
// Images are converted to NHWC on load.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATA_CIFAR_H
#define DLC_RUNTIME_DATA_CIFAR_H

#include "dlc/Runtime/Data/Dataset.h"

#include "llvm/ADT/ArrayRef.h"

namespace dlc::runtime {

/// Appends the records of one CIFAR-10 batch file (in memory) to `data`.
/// The size must be a multiple of 3073 bytes and labels must be < 10.
llvm::Error parseCifarBatch(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name,
                            Dataset &data);

/// True if `dir` (or its cifar-10-batches-bin subdirectory) holds the
/// CIFAR-10 binary files.
bool isCifarDirectory(llvm::StringRef dir);

/// Reads data_batch_1..5.bin (train) and test_batch.bin (test) from `dir`
/// or from its cifar-10-batches-bin subdirectory.
llvm::Expected<DataSplits> readCifarDirectory(llvm::StringRef dir);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DATA_CIFAR_H
