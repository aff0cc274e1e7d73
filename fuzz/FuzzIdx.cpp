//===- FuzzIdx.cpp - libFuzzer target: IDX files (raw or gzip) ------------===//
//
// Reads the input as an IDX file of each kind (images, labels, any), raw or
// gzip-compressed as its first bytes say, the way the dataset readers do.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Idx.h"

using namespace dlc::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (IdxKind kind : {IdxKind::Images, IdxKind::Labels, IdxKind::Any}) {
    auto array =
        parseIdx(llvm::ArrayRef<uint8_t>(data, size), "fuzz.idx", kind);
    if (!array) {
      llvm::consumeError(array.takeError());
      continue;
    }
    uint64_t count = 1;
    for (int64_t d : array->dims)
      count *= d;
    if (count != array->data.size())
      __builtin_trap(); // The header and the data must agree.
  }
  return 0;
}
