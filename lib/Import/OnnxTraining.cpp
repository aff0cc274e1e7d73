//===- OnnxTraining.cpp - ONNX's training operators to dlc updates -------===//
//
// ONNX's ai.onnx.preview.training Momentum and Adam (opset 1) in function
// mode (the conformance tests), as dlc's optimizer updates. Each optimized
// tensor X_i (with its gradient G_i and state V_i, H_i) becomes one
// dlc.sgd_update / dlc.adam_update, with ONNX's parameterization mapped to
// the ops' attributes:
//
//   Momentum: momentum = alpha, weight_decay = norm_coefficient (ONNX adds
//     it to the gradient, as PyTorch does), dampening = 1 - beta (ONNX's
//     beta_adjusted is 1 at T = 0, PyTorch's undamped first step: the op's
//     1-based step is T + 1), nesterov when mode is "nesterov".
//   Adam: beta1 = alpha, beta2 = beta, epsilon with epsilon_hat (ONNX adds
//     it to sqrt(H) before the bias correction of the learning rate),
//     weight_decay = norm_coefficient (coupled), post_decay =
//     norm_coefficient_post, step = T (T = 0: no bias correction).
//
// The learning rate R and the count T are scalar tensors; their values are
// read with tensor.extract. Every parameter outside what the dlc ops
// compute is a located error naming the node.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporter.h"

#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::onnximport;

FailureOr<Value> OnnxImporter::scalarOperand(unsigned i, bool isInt) {
  FailureOr<Val *> x = operand(i);
  if (failed(x))
    return failure();
  Val &v = **x;
  const char *what = i == 0 ? "the learning rate R" : "the update count T";
  if (numElements(v.shape) != 1 || v.shape.size() > 1)
    return unsupported(std::string(what) + " of shape " + shapeStr(v.shape) +
                       " (a scalar is expected)");
  bool valueIsInt = v.constant ? v.constant->isInt
                               : v.elemType == onnx::TensorProto::INT64 ||
                                     v.elemType == onnx::TensorProto::INT32;
  if (valueIsInt != isInt)
    return unsupported(std::string(what) + " of element type " +
                       onnx::TensorProto::DataType_Name(
                           onnx::TensorProto::DataType(v.elemType)));
  if (v.constant) {
    if (isInt)
      return arith::ConstantOp::create(
                 builder, loc, builder.getI64IntegerAttr(v.constant->i[0]))
          .getResult();
    return arith::ConstantOp::create(builder, loc,
                                     builder.getF32FloatAttr(v.constant->f[0]))
        .getResult();
  }
  SmallVector<Value> indices(v.shape.size(),
                             arith::ConstantIndexOp::create(builder, loc, 0));
  Value scalar = tensor::ExtractOp::create(builder, loc, v.value, indices);
  // Integer graph inputs are i32 in dlc; the update ops count in i64.
  if (isInt && !scalar.getType().isInteger(64))
    scalar = arith::ExtSIOp::create(builder, loc, builder.getI64Type(), scalar);
  return scalar;
}

LogicalResult OnnxImporter::importTrainingOptimizer(NodeAttrs &a, bool isAdam) {
  StringRef op = node->op_type();
  if (!options.functionMode)
    return unsupported("a training operator inside the graph (give the "
                       "optimizer in the sidecar YAML; dlc builds the "
                       "update into the train step)");
  // Inputs R, T, then the groups X..., G..., V... (and H... for Adam);
  // outputs X_new..., V_new... (and H_new...).
  unsigned groups = isAdam ? 4 : 3;
  int tensors = node->input_size() - 2;
  if (tensors < int(groups) || tensors % groups != 0)
    return nodeError() << op << " takes R, T and " << groups
                       << " inputs per optimized tensor, got "
                       << node->input_size() << " inputs",
           failure();
  int n = tensors / groups;
  if (node->output_size() != n * int(groups - 1))
    return nodeError() << op << " of " << n << " tensor(s) has "
                       << n * (groups - 1) << " outputs, got "
                       << node->output_size(),
           failure();

  // Attributes, checked here so that errors name the node (the op
  // verifiers check the same ranges).
  auto required = [&](StringRef name) -> FailureOr<float> {
    std::optional<float> f = a.getFloat(name);
    if (!f)
      return nodeError() << "the attribute '" << name << "' is required",
             failure();
    return *f;
  };
  auto inRange = [&](StringRef name, float value, float lo, float hi,
                     bool loOpen, bool hiOpen) -> LogicalResult {
    bool ok = !std::isnan(value) && (loOpen ? value > lo : value >= lo) &&
              (hiOpen ? value < hi : value <= hi);
    if (ok)
      return success();
    char range[64];
    std::snprintf(range, sizeof(range), "%s%g, %g%s", loOpen ? "(" : "[", lo,
                  hi, hiOpen ? ")" : "]");
    char text[32];
    std::snprintf(text, sizeof(text), "%g", value);
    return nodeError() << name << " " << text
                       << " is not supported by dlc (it must be in " << range
                       << ")",
           failure();
  };
  SmallVector<NamedAttribute> attrs;
  auto f32 = [&](StringRef name, float value) {
    attrs.push_back(builder.getNamedAttr(name, builder.getF32FloatAttr(value)));
  };
  bool nesterov = false;
  if (isAdam) {
    float alpha = a.getFloat("alpha").value_or(0.9f);
    float beta = a.getFloat("beta").value_or(0.999f);
    float epsilon = a.getFloat("epsilon").value_or(1e-6f);
    float norm = a.getFloat("norm_coefficient").value_or(0.0f);
    float post = a.getFloat("norm_coefficient_post").value_or(0.0f);
    if (failed(inRange("alpha", alpha, 0, 1, false, true)) ||
        failed(inRange("beta", beta, 0, 1, false, true)) ||
        failed(inRange("epsilon", epsilon, 0, INFINITY, true, true)) ||
        failed(inRange("norm_coefficient", norm, 0, INFINITY, false, true)) ||
        failed(inRange("norm_coefficient_post", post, 0, 1, false, true)))
      return failure();
    f32("beta1", alpha);
    f32("beta2", beta);
    f32("epsilon", epsilon);
    attrs.push_back(builder.getNamedAttr("epsilon_hat", builder.getUnitAttr()));
    f32("weight_decay", norm);
    f32("post_decay", post);
  } else {
    FailureOr<float> alpha = required("alpha"), beta = required("beta"),
                     norm = required("norm_coefficient");
    if (failed(alpha) || failed(beta) || failed(norm))
      return failure();
    std::optional<std::string> mode = a.getString("mode");
    if (!mode)
      return nodeError() << "the attribute 'mode' is required", failure();
    if (*mode != "standard" && *mode != "nesterov")
      return nodeError() << "mode '" << *mode
                         << "' (ONNX: 'standard' or 'nesterov')",
             failure();
    nesterov = *mode == "nesterov";
    // alpha = 0 would still update V (V_new = beta_adjusted * G), which
    // dlc's momentum-free SGD does not keep.
    if (failed(inRange("alpha", *alpha, 0, 1, true, true)) ||
        failed(inRange("beta", *beta, 0, 1, false, false)) ||
        failed(inRange("norm_coefficient", *norm, 0, INFINITY, false, true)))
      return failure();
    f32("momentum", *alpha);
    f32("weight_decay", *norm);
    f32("dampening", 1.0f - *beta);
    if (nesterov)
      attrs.push_back(builder.getNamedAttr("nesterov", builder.getUnitAttr()));
  }

  FailureOr<Value> lr = scalarOperand(0, /*isInt=*/false);
  if (failed(lr))
    return failure();
  FailureOr<Value> count = scalarOperand(1, /*isInt=*/true);
  if (failed(count))
    return failure();
  Value step = *count;
  if (!isAdam) // ONNX counts from 0, the op's first step is 1.
    step = arith::AddIOp::create(
        builder, loc, step,
        arith::ConstantOp::create(builder, loc, builder.getI64IntegerAttr(1)));

  for (int k = 0; k < n; ++k) {
    // X's dlc order, which G, V and H must share (the update is
    // elementwise, so any common order computes it).
    FailureOr<Val *> xv = operand(2 + k);
    if (failed(xv))
      return failure();
    Val &x = **xv;
    Shape perm = Layout::identity(x.shape).perm;
    if (x.value && x.layout.base == x.shape)
      perm = x.layout.perm;
    SmallVector<Value> values;
    for (unsigned g = 0; g < groups; ++g) {
      FailureOr<Val *> v = operand(2 + g * n + k);
      if (failed(v))
        return failure();
      if ((*v)->shape != x.shape)
        return unsupported("'" + (*v)->name + "' of shape " +
                           shapeStr((*v)->shape) + " with '" + x.name +
                           "' of shape " + shapeStr(x.shape) +
                           " (dlc updates tensors of one shape)");
      FailureOr<Value> in = inLayout(**v, perm);
      if (failed(in))
        return failure();
      values.push_back(*in);
    }
    SmallVector<Value> operands = values;
    operands.push_back(*lr);
    operands.push_back(step);
    OperationState state(loc, isAdam ? AdamUpdateOp::getOperationName()
                                     : SgdUpdateOp::getOperationName());
    state.addOperands(operands);
    state.addAttributes(attrs);
    state.addTypes(SmallVector<Type>(groups - 1, values.front().getType()));
    Operation *update = builder.create(state);
    // A backstop: the verifier's message, located at the node.
    std::string message;
    LogicalResult verified = success();
    {
      ScopedDiagnosticHandler capture(ctx, [&](Diagnostic &d) {
        if (message.empty())
          message = d.str();
        return success();
      });
      verified = mlir::verify(update);
    }
    if (failed(verified)) {
      update->erase();
      return nodeError() << message, failure();
    }
    Layout layout;
    layout.base = x.shape;
    layout.perm = perm;
    for (unsigned r = 0; r + 1 < groups; ++r)
      defineOutput(r * n + k, update->getResult(r), x.shape, layout);
  }
  return success();
}
