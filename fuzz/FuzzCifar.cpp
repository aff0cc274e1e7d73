//===- FuzzCifar.cpp - libFuzzer target: CIFAR-10 binary batches ----------===//

#include "dlc/Runtime/Data/Cifar.h"

using namespace dlc::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Dataset dataset;
  if (llvm::Error e = parseCifarBatch(llvm::ArrayRef<uint8_t>(data, size),
                                      "fuzz.bin", dataset)) {
    llvm::consumeError(std::move(e));
    return 0;
  }
  if (dataset.pixels.size() != size_t(dataset.size()) * dataset.imageSize())
    __builtin_trap();
  for (int32_t label : dataset.labels)
    if (label < 0 || label > 9)
      __builtin_trap();
  return 0;
}
