//===- ModelDiagnostics.cpp - Errors located in model files ---------------===//

#include "ModelDiagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;

bool mlir::dlc::isPrintableText(StringRef text) {
  for (char c : text)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
         c != '\r') ||
        c == 0x7f)
      return false;
  const auto *begin = reinterpret_cast<const llvm::UTF8 *>(text.begin());
  return llvm::isLegalUTF8String(
      &begin, reinterpret_cast<const llvm::UTF8 *>(text.end()));
}

static StringRef kindLabel(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  llvm_unreachable("unknown diagnostic severity");
}

mlir::dlc::ModelDiagnosticHandler::ModelDiagnosticHandler(
    llvm::SourceMgr &sourceMgr, MLIRContext *context)
    : sourceMgr(sourceMgr), context(context), base(sourceMgr, context) {
  // Registered after `base`, so it sees every diagnostic first.
  id = context->getDiagEngine().registerHandler([this](Diagnostic &diag) {
    emit(diag.getLocation(), diag.str(), diag.getSeverity());
    for (Diagnostic &note : diag.getNotes())
      emit(note.getLocation(), note.str(), note.getSeverity());
    return success();
  });
}

mlir::dlc::ModelDiagnosticHandler::~ModelDiagnosticHandler() {
  context->getDiagEngine().eraseHandler(id);
}

void mlir::dlc::ModelDiagnosticHandler::emit(Location loc, const Twine &message,
                                             DiagnosticSeverity severity) {
  if (sourceMgr.getNumBuffers() == 0)
    return base.emitDiagnostic(loc, message, severity);
  StringRef buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
  if (!isPrintableText(buffer))
    return base.emitDiagnostic(loc, message, severity,
                               /*displaySourceLine=*/false);

  // Only a located line of the model file itself can be too long to show.
  auto fileLoc = loc->findInstanceOf<FileLineColLoc>();
  StringRef identifier = sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())
                             ->getBufferIdentifier();
  if (!fileLoc || fileLoc.getFilename().getValue() != identifier ||
      fileLoc.getLine() == 0)
    return base.emitDiagnostic(loc, message, severity);
  StringRef rest = buffer;
  for (unsigned line = 1; line < fileLoc.getLine() && !rest.empty(); ++line)
    rest = rest.split('\n').second;
  StringRef text = rest.split('\n').first.rtrim('\r');
  if (text.size() <= kMaxLineShown)
    return base.emitDiagnostic(loc, message, severity);

  // A window of the line that keeps the column in view, "..." where cut.
  size_t column = std::min<size_t>(
      fileLoc.getColumn() ? fileLoc.getColumn() - 1 : 0, text.size());
  size_t begin = column > kMaxLineShown / 3 ? column - kMaxLineShown / 3 : 0;
  begin = std::min(begin, text.size() - kMaxLineShown);
  std::string window = (begin > 0 ? "..." : "") +
                       text.substr(begin, kMaxLineShown).str() +
                       (begin + kMaxLineShown < text.size() ? "..." : "");
  std::replace(window.begin(), window.end(), '\t', ' ');
  size_t shownColumn = column - begin + (begin > 0 ? 3 : 0);
  llvm::errs() << identifier << ':' << fileLoc.getLine() << ':'
               << fileLoc.getColumn() << ": " << kindLabel(severity) << ": "
               << message << '\n'
               << window << '\n'
               << std::string(shownColumn, ' ') << "^\n";
}
