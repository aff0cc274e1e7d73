//===- ModelDiagnostics.h - Errors located in model files -------*- C++ -*-===//
//
// dlc prints every model-level error as file:line:col with the model file's
// line under it, as MLIR's SourceMgrDiagnosticHandler does, with two
// differences that matter for files users did not write by hand: the bytes
// of a binary file (an .onnx, a .safetensors given as a model) are never
// echoed, and a very long line (minified Keras JSON, a generated YAML) is
// shown as a window around the column instead of in full.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TOOLS_DLC_MODELDIAGNOSTICS_H
#define DLC_TOOLS_DLC_MODELDIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::dlc {

/// Whether `text` can be echoed to a terminal: UTF-8 without control
/// characters other than tab, newline and carriage return.
bool isPrintableText(llvm::StringRef text);

/// Installs itself on `context` for its lifetime; `sourceMgr` holds the
/// model file as its main buffer once it is read.
class ModelDiagnosticHandler {
public:
  /// Lines longer than this are shown as a window of this many characters.
  static constexpr unsigned kMaxLineShown = 160;

  ModelDiagnosticHandler(llvm::SourceMgr &sourceMgr,
                         mlir::MLIRContext *context);
  ~ModelDiagnosticHandler();

private:
  void emit(mlir::Location loc, const llvm::Twine &message,
            mlir::DiagnosticSeverity severity);

  llvm::SourceMgr &sourceMgr;
  mlir::MLIRContext *context;
  mlir::SourceMgrDiagnosticHandler base;
  mlir::DiagnosticEngine::HandlerID id;
};

} // namespace mlir::dlc

#endif // DLC_TOOLS_DLC_MODELDIAGNOSTICS_H
