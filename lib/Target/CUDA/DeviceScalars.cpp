//===- DeviceScalars.cpp - Scalar arguments in device memory --------------===//
//
// dlc-cuda-device-scalars: a CUDA graph replays kernels with the parameters
// they were captured with, so the per-step scalars (step, seed, learning
// rate) are read from device memory instead: each becomes a rank-0 tensor
// argument, and its description in `dlc.model` says so (`device_scalar`),
// for the model table and the runtime.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/ModelAttributes.h"
#include "dlc/Target/CUDA/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CUDADEVICESCALARSPASS
#include "dlc/Target/CUDA/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Adds `device_scalar` to the argument entries `indices` of function
/// `name` in the module's dlc.model description.
void markDescription(ModuleOp module, StringRef name,
                     ArrayRef<unsigned> indices) {
  auto model = module->getAttrOfType<DictionaryAttr>(attr::kModel);
  if (!model)
    return;
  auto functions = model.getAs<ArrayAttr>("functions");
  if (!functions)
    return;
  MLIRContext *ctx = module.getContext();
  SmallVector<Attribute> newFunctions;
  for (Attribute f : functions) {
    auto fn = dyn_cast<DictionaryAttr>(f);
    auto fnName = fn ? fn.getAs<StringAttr>("name") : StringAttr();
    auto args = fn ? fn.getAs<ArrayAttr>("args") : ArrayAttr();
    if (!fnName || fnName.getValue() != name || !args) {
      newFunctions.push_back(f);
      continue;
    }
    SmallVector<Attribute> newArgs(args.begin(), args.end());
    for (unsigned i : indices) {
      auto entry = i < newArgs.size() ? dyn_cast<DictionaryAttr>(newArgs[i])
                                      : DictionaryAttr();
      if (!entry)
        continue;
      NamedAttrList attrs(entry);
      attrs.set("device_scalar", UnitAttr::get(ctx));
      newArgs[i] = attrs.getDictionary(ctx);
    }
    NamedAttrList fnAttrs(fn);
    fnAttrs.set("args", ArrayAttr::get(ctx, newArgs));
    newFunctions.push_back(fnAttrs.getDictionary(ctx));
  }
  NamedAttrList modelAttrs(model);
  modelAttrs.set("functions", ArrayAttr::get(ctx, newFunctions));
  module->setAttr(attr::kModel, modelAttrs.getDictionary(ctx));
}

struct DeviceScalarsPass
    : public dlc::impl::CUDADeviceScalarsPassBase<DeviceScalarsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      SmallVector<unsigned> converted;
      Block &entry = func.getBody().front();
      OpBuilder b = OpBuilder::atBlockBegin(&entry);
      SmallVector<Type> argTypes(func.getArgumentTypes());
      for (BlockArgument arg : entry.getArguments()) {
        Type type = arg.getType();
        if (!type.isIntOrIndexOrFloat())
          continue;
        auto tensorType = RankedTensorType::get({}, type);
        arg.setType(tensorType);
        auto extract =
            tensor::ExtractOp::create(b, arg.getLoc(), arg, ValueRange{});
        arg.replaceAllUsesExcept(extract.getResult(), extract);
        argTypes[arg.getArgNumber()] = tensorType;
        converted.push_back(arg.getArgNumber());
      }
      if (converted.empty())
        continue;
      func.setFunctionType(FunctionType::get(
          func.getContext(), argTypes, func.getFunctionType().getResults()));
      markDescription(module, func.getSymName(), converted);
    }
  }
};

} // namespace
