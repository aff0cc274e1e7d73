//===- Idx.h - IDX files (MNIST, Fashion-MNIST) -----------------*- C++ -*-===//
//
// The IDX format of LeCun's MNIST distribution: a magic number (two zero
// bytes, a type code, the number of dimensions), big-endian 32-bit
// dimensions, then the data. The runtime reads unsigned-byte (0x08) image
// files of rank 3 ([N, H, W]) or 4 ([N, H, W, C]) and label files of
// rank 1, raw or gzip-compressed.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATA_IDX_H
#define DLC_RUNTIME_DATA_IDX_H

#include "dlc/Runtime/Data/Dataset.h"
#include "dlc/Runtime/Support.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

namespace dlc::runtime {

/// One IDX array of unsigned bytes.
struct IdxArray {
  llvm::SmallVector<int64_t, 4> dims;
  std::vector<uint8_t> data;
};

/// What an IDX file must hold; its magic number's rank byte tells.
enum class IdxKind {
  /// rank 3 [N, H, W] or 4 [N, H, W, C]
  Images,
  /// rank 1 [N]
  Labels,
  /// rank 1 to 4
  Any,
};

/// Reads an IDX array from `stream` (raw or gzip): the header first, then
/// exactly the data it announces, so a gzip stream is never decompressed
/// past that. Errors name the stream: a bad or unexpected magic number,
/// an unsupported type, truncated data or data longer than announced.
llvm::Expected<IdxArray> readIdx(ByteStream &stream, IdxKind kind);

/// readIdx on bytes in memory (raw or gzip); `name` is used in errors.
llvm::Expected<IdxArray> parseIdx(llvm::ArrayRef<uint8_t> bytes,
                                  llvm::StringRef name,
                                  IdxKind kind = IdxKind::Any);

/// Reads an IDX image file (rank 3 or 4) into a Dataset without labels
/// (labels are all 0); used by `predict --input`.
llvm::Expected<Dataset> readIdxImages(llvm::StringRef path);

/// Reads a pair of IDX image and label files; their counts must agree.
llvm::Expected<Dataset> readIdxDataset(llvm::StringRef imagesPath,
                                       llvm::StringRef labelsPath);

/// True if `dir` holds the four MNIST-layout files (raw or .gz).
bool isIdxDirectory(llvm::StringRef dir);

/// Reads train-{images,labels} and t10k-{images,labels} from `dir`
/// (names as in the MNIST distribution, optionally .gz).
llvm::Expected<DataSplits> readIdxDirectory(llvm::StringRef dir);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DATA_IDX_H
