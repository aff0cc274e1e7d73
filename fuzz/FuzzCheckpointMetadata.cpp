//===- FuzzCheckpointMetadata.cpp - libFuzzer target: __metadata__ --------===//
//
// The metadata reader on its own, with the input as `key=value` lines (a
// value runs to the end of its line; `\n` in it is a newline), so mutations
// reach the values directly rather than through a safetensors header.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

#include "dlc/Runtime/CheckpointMetadata.h"

#include "llvm/ADT/StringRef.h"

using namespace dlc::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const CompiledModel *model =
      llvm::cantFail(CompiledModel::create(testing::fakeModel())).release();
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  Metadata meta;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    auto [key, value] = line.split('=');
    std::string unescaped;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == 'n') {
        unescaped += '\n';
        ++i;
      } else {
        unescaped += value[i];
      }
    }
    meta[key.str()] = unescaped;
  }
  for (CheckpointUse use : {CheckpointUse::Training, CheckpointUse::Inference})
    if (auto info = readCheckpointInfo(meta, "fuzz.safetensors", *model, use);
        !info)
      llvm::consumeError(info.takeError());
  return 0;
}
