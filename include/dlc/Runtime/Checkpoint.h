//===- Checkpoint.h - safetensors checkpoints -------------------*- C++ -*-===//
//
// Checkpoints are safetensors files (https://github.com/huggingface/
// safetensors): an 8-byte little-endian header length N, N bytes of JSON
// mapping each tensor name to {"dtype", "shape", "data_offsets": [begin,
// end]} plus a "__metadata__" map of strings, then the raw little-endian
// data. Any safetensors reader (Python, Rust, PyTorch) can open them.
//
// A dlc checkpoint holds every persistent tensor of the model under its
// model name (params, optimizer state, batch-norm state) and records the
// training position and run settings in __metadata__ (see Trainer.h).
// The tensors live on the model's device: saving downloads them (on the CPU
// it reads the device memory in place), loading uploads them.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CHECKPOINT_H
#define DLC_RUNTIME_CHECKPOINT_H

#include "dlc/Runtime/DeviceTensor.h"
#include "dlc/Runtime/Model.h"

#include <map>

namespace dlc::runtime {

/// String metadata, sorted by key (deterministic files).
using Metadata = std::map<std::string, std::string>;

/// A parsed safetensors file held in memory.
class SafeTensorsFile {
public:
  struct Entry {
    std::string name;
    DType dtype;
    llvm::SmallVector<int64_t, 4> shape;
    /// The tensor's bytes inside the file.
    llvm::ArrayRef<uint8_t> data;
  };

  /// Parses and validates a whole file in memory (header length, JSON,
  /// dtypes, shapes against byte sizes, offsets inside the data).
  static llvm::Expected<SafeTensorsFile> parse(std::vector<uint8_t> bytes,
                                               llvm::StringRef name);
  static llvm::Expected<SafeTensorsFile> read(llvm::StringRef path);

  llvm::ArrayRef<Entry> getEntries() const { return entries; }
  const Entry *lookup(llvm::StringRef name) const;
  const Metadata &getMetadata() const { return metadata; }

private:
  std::vector<uint8_t> bytes;
  std::vector<Entry> entries;
  Metadata metadata;
};

/// Serializes named tensors (in the given order) and metadata.
std::vector<uint8_t> serializeSafeTensors(
    llvm::ArrayRef<std::pair<std::string, const Tensor *>> tensors,
    const Metadata &metadata);

/// Saves every persistent tensor of `model` (`tensors`, model order)
/// atomically (Support.h).
llvm::Error saveCheckpoint(llvm::StringRef path, const CompiledModel &model,
                           llvm::ArrayRef<DeviceTensor> tensors,
                           const Metadata &metadata);

/// What a checkpoint must provide when it is loaded.
enum class CheckpointUse {
  /// --resume: every persistent tensor, optimizer state included.
  Training,
  /// evaluate / predict: params and state; optimizer state may be absent.
  Inference,
};

/// Checks that `file` (read from `path`) is a checkpoint of `model` for
/// `use`: the errors loadCheckpoint reports.
llvm::Error checkCheckpoint(const SafeTensorsFile &file, llvm::StringRef path,
                            const CompiledModel &model, CheckpointUse use);

/// Loads a checkpoint into `tensors` (model order) and returns its
/// metadata. A tensor the model lacks, a missing tensor or a wrong dtype or
/// shape is an error that says the checkpoint belongs to another model;
/// then no tensor is changed.
llvm::Expected<Metadata>
loadCheckpoint(llvm::StringRef path, const CompiledModel &model,
               llvm::MutableArrayRef<DeviceTensor> tensors, CheckpointUse use);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_CHECKPOINT_H
