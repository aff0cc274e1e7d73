//===- FuzzSafeTensors.cpp - libFuzzer target: checkpoint files -----------===//
//
// Parses the input as a safetensors file and, when that succeeds, reads
// its __metadata__ as a dlc checkpoint of the fake model (both uses). Errors
// are fine; crashes, sanitizer reports and hangs are not.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/CheckpointMetadata.h"

using namespace dlc::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const CompiledModel *model =
      llvm::cantFail(CompiledModel::create(testing::fakeModel())).release();
  auto file = SafeTensorsFile::parse(std::vector<uint8_t>(data, data + size),
                                     "fuzz.safetensors");
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  for (const SafeTensorsFile::Entry &e : file->getEntries()) {
    // Touch every byte a valid entry claims.
    volatile uint8_t sum = 0;
    for (uint8_t b : e.data)
      sum += b;
    (void)sum;
  }
  for (CheckpointUse use : {CheckpointUse::Training, CheckpointUse::Inference})
    if (auto info = readCheckpointInfo(file->getMetadata(), "fuzz.safetensors",
                                       *model, use);
        !info)
      llvm::consumeError(info.takeError());
  return 0;
}
