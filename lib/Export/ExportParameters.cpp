//===- ExportParameters.cpp - @forward's weights for the exporters --------===//

#include "ExportParameters.h"

#include "dlc/Import/Import.h"
#include "dlc/Import/Onnx.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::dlc;

std::string exporting::parameterName(func::FuncOp forward, Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    if (auto name = forward.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                         attrs::kName))
      return name.str();
  return "";
}

LogicalResult exporting::planSource(func::FuncOp forward, Value v, Location loc,
                                    StringRef format,
                                    ::dlc::exporting::PlannedTensor &t) {
  Shape dims = dimsOf(v);
  t.shape.assign(dims.begin(), dims.end());
  t.loc = sourceLocation(loc);
  auto error = [&]() { return emitError(loc) << format << ": "; };
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getArgNumber() == 0)
      return error() << "the model input is used as a weight";
    t.source = parameterName(forward, v);
    return success();
  }
  if (auto cst = v.getDefiningOp<arith::ConstantOp>())
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
        dense && dense.getElementType().isF32()) {
      t.constant.assign(dense.getValues<float>().begin(),
                        dense.getValues<float>().end());
      return success();
    }
  return error() << "a weight that is computed, not a parameter";
}

::dlc::exporting::SourceLocation exporting::sourceLocation(Location loc) {
  ::dlc::exporting::SourceLocation result;
  loc->walk([&](Location l) {
    if (auto file = dyn_cast<FileLineColLoc>(l)) {
      result = {file.getFilename().str(), file.getLine(), file.getColumn()};
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return result;
}

WeightMap exporting::withInitialValues(ModuleOp module, WeightMap weights) {
  auto forward = module.lookupSymbol<func::FuncOp>(kForwardFuncName);
  if (!forward)
    return weights;
  for (unsigned i = 1, e = forward.getNumArguments(); i < e; ++i) {
    std::string name = parameterName(forward, forward.getArgument(i));
    auto init =
        forward.getArgAttrOfType<DenseElementsAttr>(i, kInitialValueAttr);
    if (!name.empty() && init && init.getElementType().isF32() &&
        !weights.count(name))
      weights[name].assign(init.getValues<float>().begin(),
                           init.getValues<float>().end());
  }
  return weights;
}

std::optional<::dlc::exporting::ExportError>
exporting::captureFirstError(MLIRContext *context,
                             function_ref<LogicalResult()> plan) {
  std::optional<::dlc::exporting::ExportError> first;
  ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error && !first)
      first = ::dlc::exporting::ExportError{sourceLocation(diag.getLocation()),
                                            diag.str()};
    return success();
  });
  if (succeeded(plan()))
    return std::nullopt;
  if (!first)
    first = ::dlc::exporting::ExportError{{}, "the export failed"};
  return first;
}

LogicalResult exporting::reportExportError(
    ModuleOp module,
    const std::optional<::dlc::exporting::ExportError> &error) {
  if (!error)
    return success();
  Location loc = module.getLoc();
  if (!error->loc.file.empty())
    loc = FileLineColLoc::get(module.getContext(), error->loc.file,
                              error->loc.line, error->loc.column);
  return emitError(loc) << error->message;
}
