//===- TestVJP.cpp - @f -> @f_vjp for gradient checks ---------------------===//
//
// Exposes the reverse-mode engine on any function, so that each op's
// gradient rule can be compiled and checked against finite differences of
// the op itself (see unittests/e2e).
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Autodiff.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCTESTVJP
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

bool isF32Tensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isF32();
}

LogicalResult buildVJP(func::FuncOp f) {
  OpBuilder b(f.getContext());
  b.setInsertionPointAfter(f);
  SmallVector<Type> argTypes(f.getArgumentTypes());
  llvm::append_range(argTypes, f.getResultTypes());
  SmallVector<Type> gradTypes;
  for (Type t : f.getArgumentTypes())
    if (isF32Tensor(t))
      gradTypes.push_back(t);
  auto vjp = func::FuncOp::create(b, f.getLoc(), (f.getName() + "_vjp").str(),
                                  b.getFunctionType(argTypes, gradTypes));
  Block *entry = vjp.addEntryBlock();
  OpBuilder body = OpBuilder::atBlockBegin(entry);

  IRMapping mapping;
  mapping.map(f.getArguments(),
              entry->getArguments().take_front(f.getNumArguments()));
  SmallVector<Operation *> ops;
  Operation *terminator = f.getBody().front().getTerminator();
  for (Operation &op : f.getBody().front().without_terminator())
    ops.push_back(body.clone(op, mapping));

  SmallVector<Value> roots;
  for (BlockArgument arg : f.getArguments())
    if (isF32Tensor(arg.getType()))
      roots.push_back(mapping.lookup(arg));
  DenseSet<Value> varied = computeVariedValues(ops, roots);
  DenseMap<Value, Value> grads;
  for (auto [result, dy] :
       llvm::zip(terminator->getOperands(),
                 entry->getArguments().drop_front(f.getNumArguments()))) {
    Value mapped = mapping.lookup(result);
    auto [it, inserted] = grads.try_emplace(mapped, dy);
    if (!inserted)
      it->second =
          AddOp::create(body, f.getLoc(), dy.getType(), it->second, dy);
  }
  if (failed(buildReverseMode(body, ops, varied, grads)))
    return failure();

  SmallVector<Value> returned;
  for (Value root : roots) {
    Value grad = grads.lookup(root);
    if (!grad) // The argument reaches no result: its gradient is zero.
      grad = arith::ConstantOp::create(
          body, f.getLoc(),
          DenseElementsAttr::get(cast<ShapedType>(root.getType()), 0.0f));
    returned.push_back(grad);
  }
  func::ReturnOp::create(body, f.getLoc(), returned);
  return success();
}

struct TestVJPPass : public dlc::impl::DLCTestVJPBase<TestVJPPass> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> functions;
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (f.isPublic() && !f.isExternal())
        functions.push_back(f);
    for (func::FuncOp f : functions)
      if (failed(buildVJP(f)))
        return signalPassFailure();
  }
};

} // namespace
