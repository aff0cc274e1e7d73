//===- Export.h - `EXE export`: weights for Keras 3 and PyTorch -*- C++ -*-===//

#ifndef DLC_LIB_RUNTIME_EXPORT_H
#define DLC_LIB_RUNTIME_EXPORT_H

#include "dlc/Runtime/Model.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace dlc::runtime {

/// What `EXE export` was asked for (the command line checked: a
/// checkpoint, format keras or torch, an output path).
struct ExportRequest {
  std::string checkpoint, format, output;
};

/// Writes the Keras 3 .weights.h5 (keras) or the PyTorch safetensors and
/// model.py (torch) of `request.checkpoint`, the same files as `dlc export`
/// with the same flags; errors are one line on `err`, status 1, no files.
/// `program` is the executable's name, for messages.
int runExport(llvm::StringRef program, const CompiledModel &model,
              const ExportRequest &request, llvm::raw_ostream &out,
              llvm::raw_ostream &err);

} // namespace dlc::runtime

#endif // DLC_LIB_RUNTIME_EXPORT_H
