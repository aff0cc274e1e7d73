//===- OnnxOps.cpp - One ONNX operator at a time to dlc ops ---------------===//
//
// The op importers of OnnxImporter: each reads its node's attributes
// (NodeAttrs reports the ones nobody read), takes its operands in the
// layout the dlc op needs (inLayout: constants are transposed on the host,
// computed values must already be in that order), creates the dlc ops
// through their shape rules and defines the node's outputs with their
// layouts. docs/Import.md lists what each accepts.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporter.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::onnximport;

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

/// Reads `name` (2 values for 2-D ops, 4 for pads) or its 2-D default.
/// For a 1-D op (`is1d`), 1 value (2 for pads) is expected and widened to
/// the 2-D form of an image of height 1: [v] -> [1, v], pads [b, e] ->
/// [0, b, 0, e].
static FailureOr<SmallVector<int64_t, 4>> pairs(NodeAttrs &a, StringRef name,
                                                SmallVector<int64_t, 4> def,
                                                bool is1d = false) {
  std::optional<SmallVector<int64_t>> v = a.getInts(name);
  if (!v)
    return def;
  if (!is1d) {
    if (v->size() != def.size())
      return failure();
    return SmallVector<int64_t, 4>(v->begin(), v->end());
  }
  if (v->size() * 2 != def.size())
    return failure();
  if (def.size() == 4)
    return SmallVector<int64_t, 4>{0, (*v)[0], 0, (*v)[1]};
  return SmallVector<int64_t, 4>{1, (*v)[0]};
}

LogicalResult OnnxImporter::importConv(NodeAttrs &a) {
  bool is1d = false;
  FailureOr<Value> x = imageOperand(0, &is1d);
  if (failed(x))
    return failure();
  FailureOr<Val *> w = operand(1);
  if (failed(w))
    return failure();
  if ((*w)->shape.size() != (is1d ? 3u : 4u))
    return unsupported("a weight of shape " + shapeStr((*w)->shape));
  // The weight's [kh, kw] (1-D: [1, k]).
  Shape wShape = (*w)->shape;
  SmallVector<int64_t, 4> kernelDims =
      is1d ? SmallVector<int64_t, 4>{1, wShape[2]}
           : SmallVector<int64_t, 4>{wShape[2], wShape[3]};
  FailureOr<Value> filter = is1d ? inLayout(**w, {2, 1, 0}, "kernel")
                                 : inLayout(**w, kHWCF, "kernel");
  if (succeeded(filter) && is1d)
    filter = reshaped(*filter, {1, wShape[2], wShape[1], wShape[0]});
  if (failed(filter))
    return failure();
  SmallVector<Value> operands = {*x, *filter};
  if (hasOperand(2)) {
    FailureOr<Val *> bias = operand(2);
    if (failed(bias))
      return failure();
    FailureOr<Value> b = inLayout(**bias, {0}, "bias");
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  auto strides = pairs(a, "strides", {1, 1}, is1d);
  auto dilations = pairs(a, "dilations", {1, 1}, is1d);
  auto pads = pairs(a, "pads", {0, 0, 0, 0}, is1d);
  auto kernel = pairs(a, "kernel_shape", kernelDims, is1d);
  if (failed(strides) || failed(dilations) || failed(pads) || failed(kernel))
    return nodeError() << "strides, dilations, kernel_shape and pads must have "
                          "one value per spatial dimension (pads: two)",
           failure();
  if (*kernel != kernelDims)
    return nodeError() << "kernel_shape " << shapeStr(*kernel)
                       << " does not match the weight "
                       << shapeStr((*w)->shape),
           failure();
  auto positive = [](ArrayRef<int64_t> v) {
    return llvm::all_of(v, [](int64_t x) { return x >= 1; });
  };
  if (!positive(*strides) || !positive(*dilations) ||
      llvm::any_of(*pads, [](int64_t p) { return p < 0; }))
    return nodeError() << "strides and dilations must be >= 1 and pads >= 0",
           failure();
  int64_t group = a.getInt("group").value_or(1);
  std::string autoPad = a.getString("auto_pad").value_or("NOTSET");
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("strides", builder.getDenseI64ArrayAttr(*strides)),
      builder.getNamedAttr("dilations",
                           builder.getDenseI64ArrayAttr(*dilations)),
      builder.getNamedAttr("groups", builder.getI64IntegerAttr(group))};
  auto padding = [&](PaddingMode mode) {
    return builder.getNamedAttr("padding", PaddingModeAttr::get(ctx, mode));
  };
  Shape in = dimsOf(*x);
  if (autoPad == "SAME_UPPER") {
    attrs.push_back(padding(PaddingMode::same));
  } else if (autoPad == "SAME_LOWER") {
    // The TensorFlow rule puts the odd pad at the end; SAME_LOWER at the
    // start: explicit pads.
    SmallVector<int64_t, 4> p;
    for (int d = 0; d < 2; ++d) {
      int64_t size = in[1 + d], s = (*strides)[d];
      int64_t out = (size + s - 1) / s;
      int64_t total = std::max<int64_t>(
          (out - 1) * s + ((*kernel)[d] - 1) * (*dilations)[d] + 1 - size, 0);
      p.push_back(total - total / 2);
      p.push_back(total / 2);
    }
    attrs.push_back(padding(PaddingMode::explicit_));
    attrs.push_back(
        builder.getNamedAttr("pads", builder.getDenseI64ArrayAttr(p)));
  } else if (autoPad == "NOTSET" || autoPad == "VALID") {
    if (autoPad == "NOTSET" &&
        llvm::any_of(*pads, [](int64_t p) { return p != 0; })) {
      // ONNX: [top, left, bottom, right]; dlc: [top, bottom, left, right].
      SmallVector<int64_t, 4> p = {(*pads)[0], (*pads)[2], (*pads)[1],
                                   (*pads)[3]};
      attrs.push_back(padding(PaddingMode::explicit_));
      attrs.push_back(
          builder.getNamedAttr("pads", builder.getDenseI64ArrayAttr(p)));
    }
  } else {
    return unsupported("auto_pad '" + autoPad + "'");
  }
  FailureOr<Value> y = create(Conv2DOp::getOperationName(), operands, attrs);
  if (failed(y))
    return failure();
  if (is1d)
    defineImage1d(*y);
  else
    defineImage(0, *y);
  return success();
}

LogicalResult OnnxImporter::importPool(NodeAttrs &a, bool isMax) {
  bool is1d = false;
  FailureOr<Value> x = imageOperand(0, &is1d);
  if (failed(x))
    return failure();
  auto kernel = pairs(a, "kernel_shape", {0, 0}, is1d);
  auto strides = pairs(a, "strides", {1, 1}, is1d);
  auto pads = pairs(a, "pads", {0, 0, 0, 0}, is1d);
  auto dilations = pairs(a, "dilations", {1, 1}, is1d);
  if (failed(kernel) || failed(strides) || failed(pads) || failed(dilations) ||
      (*kernel)[0] <= 0 || (*kernel)[1] <= 0)
    return nodeError() << "a 2-D pool needs kernel_shape (2 values), and 2 "
                          "strides, 2 dilations and 4 pads if given",
           failure();
  if ((*strides)[0] < 1 || (*strides)[1] < 1 ||
      llvm::any_of(*pads, [](int64_t p) { return p < 0; }))
    return nodeError() << "strides must be >= 1 and pads >= 0", failure();
  if ((*dilations)[0] != 1 || (*dilations)[1] != 1)
    return unsupported("pooling with dilations");
  if (a.getInt("storage_order").value_or(0) != 0)
    return unsupported("storage_order 1");
  bool ceilMode = a.getInt("ceil_mode").value_or(0) != 0;
  bool countIncludePad =
      !isMax && a.getInt("count_include_pad").value_or(0) != 0;
  std::string autoPad = a.getString("auto_pad").value_or("NOTSET");
  Shape in = dimsOf(*x);
  // Which dlc padding gives ONNX's windows exactly: none, or Keras 'same'
  // (ceil(in / stride) outputs, the odd pad at the end).
  bool valid = true, same = true;
  // The windows as explicit pads [top, bottom, left, right] (the end pad
  // the windows reach), and whether they reach past the given pads.
  SmallVector<int64_t, 4> explicitPads;
  bool pastPads = false;
  for (int d = 0; d < 2; ++d) {
    int64_t size = in[1 + d], k = (*kernel)[d], s = (*strides)[d];
    int64_t begin = (*pads)[d], end = (*pads)[d + 2];
    int64_t sameOut = (size + s - 1) / s;
    int64_t total = std::max<int64_t>((sameOut - 1) * s + k - size, 0);
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    } else if (autoPad == "VALID") {
      begin = end = 0;
    } else if (autoPad != "NOTSET") {
      return unsupported("auto_pad '" + autoPad + "'");
    }
    int64_t span = size + begin + end - k;
    if (span < 0)
      return nodeError() << "the pool window is larger than the padded input",
             failure();
    int64_t out = (ceilMode ? (span + s - 1) / s : span / s) + 1;
    // ONNX drops a last window that starts in the end padding.
    if (ceilMode && (out - 1) * s >= size + begin)
      --out;
    // The end padding the windows actually reach (ceil_mode reaches past
    // the given pads; padding no window reaches does not matter).
    int64_t reached = std::max<int64_t>((out - 1) * s + k - size - begin, 0);
    valid &= begin == 0 && reached == 0 && out == (size - k) / s + 1;
    same &=
        begin == total / 2 && reached == total - total / 2 && out == sameOut;
    explicitPads.append({begin, reached});
    pastPads |= reached > end;
  }
  if (countIncludePad && !valid) {
    // Every window sums k positions, padding (zeros) included, and divides
    // by k: a depthwise convolution with the constant weight 1 / k and
    // these pads computes it exactly. (Windows past the given pads, from
    // ceil_mode, would divide by fewer positions.)
    if (pastPads)
      return unsupported("count_include_pad 1 with ceil_mode windows that "
                         "reach past the pads");
    int64_t channels = in[3];
    int64_t window = (*kernel)[0] * (*kernel)[1];
    auto type = RankedTensorType::get({(*kernel)[0], (*kernel)[1], 1, channels},
                                      builder.getF32Type());
    Value weight = arith::ConstantOp::create(
        builder, loc,
        DenseElementsAttr::get(
            type, ArrayRef<float>{1.0f / static_cast<float>(window)}));
    FailureOr<Value> y = create(
        Conv2DOp::getOperationName(), {*x, weight},
        {builder.getNamedAttr("strides",
                              builder.getDenseI64ArrayAttr(*strides)),
         builder.getNamedAttr(
             "padding", PaddingModeAttr::get(ctx, PaddingMode::explicit_)),
         builder.getNamedAttr("pads",
                              builder.getDenseI64ArrayAttr(explicitPads)),
         builder.getNamedAttr("groups", builder.getI64IntegerAttr(channels))});
    if (failed(y))
      return failure();
    if (is1d)
      defineImage1d(*y);
    else
      defineImage(0, *y);
    return success();
  }
  // Other pads (PyTorch's MaxPool2d(3, 2, padding=1), SAME_LOWER,
  // ceil_mode) are explicit pads of the dlc op: -inf never wins the max, and
  // the average divides by the window's valid positions, which is ONNX's
  // count_include_pad 0 whether the windows reach the given pads or past
  // them. A window wholly in the padding has nothing to take.
  bool explicitPadding = !valid && !same;
  for (int d = 0; explicitPadding && d < 2; ++d)
    if (explicitPads[2 * d] >= (*kernel)[d] ||
        explicitPads[2 * d + 1] >= (*kernel)[d])
      return unsupported("pads " + shapeStr(*pads) + " as large as the " +
                         "pool window (" + shapeStr(*kernel) + ")");
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("pool_size", builder.getDenseI64ArrayAttr(*kernel)),
      builder.getNamedAttr("strides", builder.getDenseI64ArrayAttr(*strides))};
  if (explicitPadding) {
    attrs.push_back(builder.getNamedAttr(
        "padding", PaddingModeAttr::get(ctx, PaddingMode::explicit_)));
    attrs.push_back(builder.getNamedAttr(
        "pads", builder.getDenseI64ArrayAttr(explicitPads)));
  } else if (!valid) {
    attrs.push_back(builder.getNamedAttr(
        "padding", PaddingModeAttr::get(ctx, PaddingMode::same)));
  }
  FailureOr<Value> y = create(isMax ? MaxPool2DOp::getOperationName()
                                    : AvgPool2DOp::getOperationName(),
                              *x, attrs);
  if (failed(y))
    return failure();
  if (node->output_size() > 1 && !node->output(1).empty())
    return unsupported("the Indices output of MaxPool");
  if (is1d)
    defineImage1d(*y);
  else
    defineImage(0, *y);
  return success();
}

LogicalResult OnnxImporter::importGlobalAveragePool(NodeAttrs &) {
  FailureOr<Value> x = imageOperand(0);
  if (failed(x))
    return failure();
  FailureOr<Value> y = create(GlobalAvgPoolOp::getOperationName(), *x);
  if (failed(y))
    return failure();
  // [N, C] in dlc is [N, C, 1, 1] in ONNX, in either order.
  Shape s = dimsOf(*y);
  Shape nchw = {s[0], s[1], 1, 1};
  Layout l;
  l.base = nchw;
  l.perm.assign(std::begin(kNHWC), std::end(kNHWC));
  defineOutput(0, *y, nchw, l);
  return success();
}

LogicalResult OnnxImporter::importBatchNorm(NodeAttrs &a) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  size_t rank = (*xv)->shape.size();
  if (rank < 2 || rank > 4)
    return unsupported("batch normalization of a rank-" + Twine(rank) +
                       " input (dlc: [N, C, H, W], [N, C, L] or [N, C])");
  // Channels last in dlc.
  Shape perm = rank == 4   ? Shape(std::begin(kNHWC), std::end(kNHWC))
               : rank == 3 ? Shape{0, 2, 1}
                           : Shape{0, 1};
  FailureOr<Value> x = inLayout(**xv, perm);
  if (failed(x))
    return failure();
  const char *roles[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  SmallVector<Value> operands = {*x};
  for (unsigned i = 1; i <= 4; ++i) {
    FailureOr<Val *> p = operand(i);
    if (failed(p))
      return failure();
    FailureOr<Value> v = inLayout(**p, {0}, roles[i - 1]);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  float epsilon = a.getFloat("epsilon").value_or(1e-5f);
  float momentum = a.getFloat("momentum").value_or(0.9f);
  if (a.getInt("spatial").value_or(1) != 1)
    return unsupported("spatial 0");
  if (a.get("is_test")) {
    // Opset < 7 marks inference with is_test; nothing to do.
  }
  bool training = a.getInt("training_mode").value_or(0) != 0;
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("epsilon", builder.getF32FloatAttr(epsilon)),
      builder.getNamedAttr("momentum", builder.getF32FloatAttr(momentum))};
  bool extraOutputs = false;
  for (int i = 1; i < node->output_size(); ++i)
    extraOutputs |= isUsed(node->output(i));
  if (extraOutputs && !(training && options.functionMode))
    return unsupported("the running-statistics outputs of BatchNormalization "
                       "(dlc's train step updates them itself)");
  // A model exported in training mode (torch.onnx.TrainingMode.TRAINING)
  // has training_mode = 1 and running-statistics outputs nobody reads: for
  // training, that is what dlc's train step does with its inference form.
  bool trainForm = training && options.functionMode;
  Operation *op = nullptr;
  FailureOr<Value> y = create(trainForm ? BatchNormTrainOp::getOperationName()
                                        : BatchNormOp::getOperationName(),
                              operands, attrs, 0, &op);
  if (failed(y))
    return failure();
  Layout l{(*xv)->shape, perm};
  defineOutput(0, *y, (*xv)->shape, l);
  // batch_norm_train: (y, batch mean, batch variance, running mean,
  // running variance); ONNX: (Y, running_mean, running_var).
  for (int i = 1; trainForm && i < node->output_size() && i < 3; ++i)
    if (!node->output(i).empty()) {
      Value r = op->getResult(2 + i);
      defineOutput(i, r, dimsOf(r), Layout::identity(dimsOf(r)));
    }
  return success();
}

LogicalResult OnnxImporter::importUnary(NodeAttrs &a, StringRef opName) {
  FailureOr<Val *> x = operand(0);
  if (failed(x))
    return failure();
  Val in = **x;
  if (!in.value) {
    FailureOr<Value> v = inLayout(**x, Layout::identity(in.shape).perm);
    if (failed(v))
      return failure();
    in.value = *v;
    in.layout = Layout::identity(in.shape);
  }
  SmallVector<NamedAttribute> attrs;
  if (opName == LeakyReluOp::getOperationName())
    attrs.push_back(builder.getNamedAttr(
        "alpha", builder.getF32FloatAttr(a.getFloat("alpha").value_or(0.01f))));
  FailureOr<Value> y = create(opName, in.value, attrs);
  if (failed(y))
    return failure();
  defineOutput(0, *y, in.shape, in.layout);
  return success();
}

LogicalResult OnnxImporter::importSoftmax(NodeAttrs &a) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  Val &x = **xv;
  int64_t rank = x.shape.size();
  int64_t axis = a.getInt("axis").value_or(opset < 13 ? 1 : -1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis " << axis << " is out of range", failure();
  // Work in the value's own order when it is a permutation of the ONNX
  // shape (NHWC images), else in ONNX order.
  Shape perm = Layout::identity(x.shape).perm;
  if (x.value && x.layout.base == x.shape)
    perm = x.layout.perm;
  FailureOr<Value> v = inLayout(x, perm);
  if (failed(v))
    return failure();
  Shape dlcShape = permute(x.shape, perm);
  Value y;
  if (opset >= 13) {
    int64_t dlcAxis = llvm::find(perm, axis) - perm.begin();
    FailureOr<Value> r = create(
        SoftmaxOp::getOperationName(), *v,
        {builder.getNamedAttr("axis", builder.getI64IntegerAttr(dlcAxis))});
    if (failed(r))
      return failure();
    y = *r;
  } else {
    // Softmax over the flattened dimensions axis..rank-1: they must be a
    // suffix of the dlc order (their order within it does not matter).
    int64_t suffix = rank - axis;
    for (int64_t i = rank - suffix; i < rank; ++i)
      if (perm[i] < axis)
        return unsupported("softmax over dimensions that are not the last "
                           "ones in dlc's layout");
    Shape flat = {numElements(ArrayRef<int64_t>(dlcShape).take_front(axis)),
                  numElements(ArrayRef<int64_t>(dlcShape).drop_front(axis))};
    FailureOr<Value> f = reshaped(*v, flat);
    if (failed(f))
      return failure();
    FailureOr<Value> r = create(SoftmaxOp::getOperationName(), *f);
    if (failed(r))
      return failure();
    FailureOr<Value> back = reshaped(*r, dlcShape);
    if (failed(back))
      return failure();
    y = *back;
  }
  Layout l;
  l.base = x.shape;
  l.perm = perm;
  defineOutput(0, y, x.shape, l);
  return success();
}

FailureOr<Value> OnnxImporter::denseKernel(Val &b, bool transB, double alpha,
                                           ArrayRef<int64_t> sigma, int64_t k) {
  if (b.shape.size() != 2)
    return unsupported("a weight of shape " + shapeStr(b.shape) +
                       " (dlc: 2-D)");
  Shape perm = transB ? Shape{1, 0} : Shape{0, 1};
  bool identityRows = sigma.empty();
  if (!b.constant) {
    if (!identityRows)
      return nodeError() << "its input is a flattened NCHW tensor (in NHWC "
                            "order in dlc): its weight must be an initializer "
                            "so that dlc can permute its rows",
             failure();
    if (alpha != 1.0)
      return unsupported("alpha != 1 with a weight that is not a constant");
    return inLayout(b, perm, "kernel");
  }
  // kernel[j, m] = alpha * B'[sigma(j), m], B' = transB ? B^T : B.
  Shape kshape = permute(b.shape, perm);
  if (kshape[0] != k)
    return nodeError() << "its weight " << shapeStr(b.shape)
                       << " does not match its input's " << k << " features",
           failure();
  std::vector<float> bt = permuteData(*b.constant, b.shape, perm);
  std::vector<float> kernel(bt.size());
  int64_t m = kshape[1];
  for (int64_t j = 0; j < k; ++j) {
    int64_t src = identityRows ? j : sigma[j];
    for (int64_t c = 0; c < m; ++c)
      kernel[j * m + c] = float(alpha * bt[src * m + c]);
  }
  return materialize(b, std::move(kernel), kshape, "kernel");
}

LogicalResult OnnxImporter::importGemm(NodeAttrs &a, bool isMatMul) {
  FailureOr<Val *> av = operand(0), bv = operand(1);
  if (failed(av) || failed(bv))
    return failure();
  Val &A = **av;
  bool transA = !isMatMul && a.getInt("transA").value_or(0);
  bool transB = !isMatMul && a.getInt("transB").value_or(0);
  double alpha = isMatMul ? 1.0 : a.getFloat("alpha").value_or(1.0f);
  double beta = isMatMul ? 1.0 : a.getFloat("beta").value_or(1.0f);
  // Opset < 7: `broadcast` lets C broadcast, which dlc handles by shape.
  if (!isMatMul)
    a.getInt("broadcast");
  if (A.shape.size() != 2)
    return unsupported("a rank-" + Twine(A.shape.size()) +
                       " first input (dlc: [N, K])");
  // A in ONNX order, or a flattened image whose weight rows we permute.
  Value x;
  std::vector<int64_t> sigma;
  if (transA || A.constant || A.layout.isIdentityOrder()) {
    FailureOr<Value> v = inLayout(A, transA ? Shape{1, 0} : Shape{0, 1});
    if (failed(v))
      return failure();
    x = *v;
  } else {
    sigma = rowPermutation(A.layout, A.shape);
    if (sigma.empty())
      return nodeError() << "its input '" << A.name
                         << "' mixes the batch with other dimensions in "
                            "dlc's layout",
             failure();
    FailureOr<Value> v = reshaped(A.value, A.shape);
    if (failed(v))
      return failure();
    x = *v;
  }
  int64_t n = dimsOf(x)[0], k = dimsOf(x)[1];
  FailureOr<Value> kernel = denseKernel(**bv, transB, alpha, sigma, k);
  if (failed(kernel))
    return failure();
  int64_t m = dimsOf(*kernel)[1];
  SmallVector<Value> operands = {x, *kernel};
  Value addLater;
  if (!isMatMul && hasOperand(2)) {
    FailureOr<Val *> cv = operand(2);
    if (failed(cv))
      return failure();
    Val &C = **cv;
    int64_t cn = numElements(C.shape);
    bool isVector = (C.shape.size() == 1 && C.shape[0] == m) ||
                    (C.shape.size() == 2 && C.shape[0] == 1 && C.shape[1] == m);
    if (C.constant) {
      std::vector<float> bias(m);
      if (!isVector && cn != 1)
        return unsupported("a bias C of shape " + shapeStr(C.shape) +
                           " (dlc: [M], [1, M] or one value)");
      for (int64_t j = 0; j < m; ++j)
        bias[j] = float(beta * C.constant->at(cn == 1 ? 0 : j));
      FailureOr<Value> b = materialize(C, std::move(bias), {m}, "bias");
      if (failed(b))
        return failure();
      operands.push_back(*b);
    } else {
      if (beta != 1.0)
        return unsupported("beta != 1 with a bias C that is not a constant");
      if (isVector) {
        FailureOr<Value> b =
            inLayout(C, Layout::identity(C.shape).perm, "bias");
        if (succeeded(b))
          b = reshaped(*b, {m});
        if (failed(b))
          return failure();
        operands.push_back(*b);
      } else if (C.shape == Shape{n, m}) {
        FailureOr<Value> c = inLayout(C, {0, 1});
        if (failed(c))
          return failure();
        addLater = *c;
      } else {
        return unsupported("a bias C of shape " + shapeStr(C.shape) +
                           " that is not a constant");
      }
    }
  }
  FailureOr<Value> y = create(DenseOp::getOperationName(), operands);
  if (failed(y))
    return failure();
  if (addLater) {
    y = create(AddOp::getOperationName(), {*y, addLater});
    if (failed(y))
      return failure();
  }
  defineOutput(0, *y, dimsOf(*y), Layout::identity(dimsOf(*y)));
  return success();
}

LogicalResult OnnxImporter::importAdd(NodeAttrs &) {
  FailureOr<Val *> av = operand(0), bv = operand(1);
  if (failed(av) || failed(bv))
    return failure();
  Val *A = *av, *B = *bv;
  if (A->constant && !B->constant)
    std::swap(A, B);
  if (!A->value)
    return unsupported("Add of two constants that are not integers");
  if (A->shape.empty())
    return unsupported("Add of scalars");
  // Work in A's order.
  Shape perm = Layout::identity(A->shape).perm;
  if (A->layout.base == A->shape)
    perm = A->layout.perm;
  FailureOr<Value> x = inLayout(*A, perm);
  if (failed(x))
    return failure();
  Value y;
  if (B->shape == A->shape) {
    FailureOr<Value> b = inLayout(*B, perm, "bias");
    if (failed(b))
      return failure();
    FailureOr<Value> r = create(AddOp::getOperationName(), {*x, *b});
    if (failed(r))
      return failure();
    y = *r;
  } else {
    // A bias along the dimension that is last in dlc's order: B broadcasts
    // along every other dimension.
    int64_t last = perm.back();
    int64_t rank = A->shape.size();
    int64_t offset = rank - int64_t(B->shape.size());
    bool isBias = offset >= 0;
    for (int64_t i = 0; isBias && i < int64_t(B->shape.size()); ++i) {
      int64_t d = i + offset;
      isBias &= d == last ? B->shape[i] == A->shape[d] : B->shape[i] == 1;
    }
    if (!isBias)
      return unsupported("broadcasting " + shapeStr(B->shape) + " to " +
                         shapeStr(A->shape) +
                         " (dlc adds tensors of one shape, or a bias along "
                         "the channels)");
    int64_t c = A->shape[last];
    FailureOr<Value> b;
    if (B->constant) {
      b = materialize(*B, permuteData(*B->constant, {c}, {0}), {c}, "bias");
    } else {
      FailureOr<Value> full =
          inLayout(*B, Layout::identity(B->shape).perm, "bias");
      if (failed(full))
        return failure();
      b = reshaped(*full, {c});
    }
    if (failed(b))
      return failure();
    FailureOr<Value> r = create(BiasAddOp::getOperationName(), {*x, *b});
    if (failed(r))
      return failure();
    y = *r;
  }
  Layout l;
  l.base = A->shape;
  l.perm = perm;
  defineOutput(0, y, A->shape, l);
  return success();
}

LogicalResult OnnxImporter::importConcat(NodeAttrs &a) {
  SmallVector<Val *> inputs;
  for (int i = 0; i < node->input_size(); ++i) {
    FailureOr<Val *> v = operand(i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  if (inputs.empty())
    return nodeError() << "it has no inputs", failure();
  Val &first = *inputs.front();
  int64_t rank = first.shape.size();
  std::optional<int64_t> axisAttr = a.getInt("axis");
  if (!axisAttr)
    return nodeError() << "the attribute 'axis' is required", failure();
  int64_t axis = *axisAttr < 0 ? *axisAttr + rank : *axisAttr;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis " << *axisAttr << " is out of range", failure();
  Shape perm = Layout::identity(first.shape).perm;
  if (first.value && first.layout.base == first.shape)
    perm = first.layout.perm;
  SmallVector<Value> operands;
  Shape shape = first.shape;
  shape[axis] = 0;
  for (Val *v : inputs) {
    if (int64_t(v->shape.size()) != rank)
      return nodeError() << "its inputs differ in rank", failure();
    FailureOr<Value> x = inLayout(*v, perm);
    if (failed(x))
      return failure();
    operands.push_back(*x);
    shape[axis] += v->shape[axis];
  }
  int64_t dlcAxis = llvm::find(perm, axis) - perm.begin();
  FailureOr<Value> y = create(
      ConcatOp::getOperationName(), operands,
      {builder.getNamedAttr("axis", builder.getI64IntegerAttr(dlcAxis))});
  if (failed(y))
    return failure();
  Layout l;
  l.base = shape;
  l.perm = perm;
  defineOutput(0, *y, shape, l);
  return success();
}

LogicalResult OnnxImporter::importReshape(NodeAttrs &a, bool isFlatten) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  Val &x = **xv;
  int64_t rank = x.shape.size();
  Shape target;
  if (isFlatten) {
    int64_t axis = a.getInt("axis").value_or(1);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis > rank)
      return nodeError() << "axis is out of range", failure();
    target = {numElements(ArrayRef<int64_t>(x.shape).take_front(axis)),
              numElements(ArrayRef<int64_t>(x.shape).drop_front(axis))};
  } else {
    FailureOr<Val *> sv = operand(1);
    if (failed(sv))
      return failure();
    if (!(*sv)->constant || !(*sv)->constant->isInt)
      return nodeError() << "its shape '" << (*sv)->name
                         << "' is not a constant (dlc needs static shapes; "
                            "the importer folds Shape/Gather/Concat chains "
                            "of constants)",
             failure();
    bool allowZero = a.getInt("allowzero").value_or(0) != 0;
    int64_t known = 1, inferred = -1;
    const std::vector<int64_t> &s = (*sv)->constant->i;
    for (auto [i, entry] : llvm::enumerate(s)) {
      int64_t d = entry;
      if (d == 0 && !allowZero) {
        if (int64_t(i) >= rank)
          return nodeError() << "shape entry " << i << " copies a dimension "
                             << "the input does not have",
                 failure();
        d = x.shape[i];
      }
      if (d == -1) {
        if (inferred >= 0)
          return nodeError() << "its shape has two -1 entries", failure();
        inferred = i;
        target.push_back(1);
        continue;
      }
      if (d < 0)
        return nodeError() << "its shape has the entry " << d, failure();
      std::optional<int64_t> product = llvm::checkedMul(known, d);
      if (!product || *product > kMaxElements)
        return nodeError() << "its shape " << shapeStr(s) << " is too large",
               failure();
      known = *product;
      target.push_back(d);
    }
    int64_t total = numElements(x.shape);
    if (inferred >= 0) {
      if (known == 0 || total % known)
        return nodeError() << "cannot reshape " << shapeStr(x.shape) << " to "
                           << shapeStr(s),
               failure();
      target[inferred] = total / known;
    }
    if (numElements(target) != total)
      return nodeError() << "cannot reshape " << shapeStr(x.shape) << " ("
                         << total << " elements) to " << shapeStr(target)
                         << " (at batch size " << batchSize << ")",
             failure();
  }
  if (x.constant) {
    Val &out = define(0);
    out.constant = *x.constant;
    out.constant->shape = target;
    out.shape = target;
    out.elemType = x.elemType;
    out.isInitializer = x.isInitializer;
    out.name = x.isInitializer ? x.name : out.name;
    return success();
  }
  // The buffer keeps its order: only the shape changes (dlc.flatten when
  // the batch stays, as for Keras's Flatten).
  FailureOr<Value> y = target.size() == 2 && target[0] == dimsOf(x.value)[0] &&
                               dimsOf(x.value).size() > 2
                           ? create(FlattenOp::getOperationName(), x.value)
                           : reshaped(x.value, target);
  if (failed(y))
    return failure();
  if (dimsOf(*y) != target) {
    y = reshaped(*y, target);
    if (failed(y))
      return failure();
  }
  defineOutput(0, *y, target, x.layout);
  return success();
}

LogicalResult OnnxImporter::importDropout(NodeAttrs &a) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  float ratio = a.getFloat("ratio").value_or(0.5f);
  if (hasOperand(1)) {
    FailureOr<Val *> r = operand(1);
    if (failed(r))
      return failure();
    if (!(*r)->constant || (*r)->constant->size() != 1)
      return unsupported("a ratio that is not a constant");
    ratio = float((*r)->constant->at(0));
  }
  if (hasOperand(2)) {
    FailureOr<Val *> t = operand(2);
    if (failed(t))
      return failure();
    // A model exported for training says true: dlc's train step applies
    // dropout in training and not in evaluation either way.
    if (!(*t)->constant || (*t)->constant->size() != 1 ||
        ((*t)->constant->at(0) != 0 && options.functionMode))
      return unsupported("training_mode that is not the constant false "
                         "(dlc's train step applies dropout in training)");
  }
  a.getInt("seed");
  a.get("is_test");
  if (node->output_size() > 1 && isUsed(node->output(1)))
    return unsupported("the mask output of Dropout");
  Val &x = **xv;
  if (!x.value)
    return unsupported("Dropout of a constant");
  FailureOr<Value> y = create(
      DropoutOp::getOperationName(), x.value,
      {builder.getNamedAttr("rate", builder.getF32FloatAttr(ratio)),
       builder.getNamedAttr("stream", builder.getI64IntegerAttr(nextStream))});
  if (failed(y))
    return failure();
  ++nextStream;
  defineOutput(0, *y, x.shape, x.layout);
  return success();
}

LogicalResult OnnxImporter::importSoftmaxCrossEntropy(NodeAttrs &a) {
  if (!options.functionMode)
    return unsupported("a loss inside the graph (give the loss in the "
                       "sidecar YAML; dlc builds the train step)");
  std::string reduction = a.getString("reduction").value_or("mean");
  if (reduction != "mean")
    return unsupported("reduction '" + reduction + "'");
  if (a.get("ignore_index"))
    return unsupported("ignore_index");
  if (hasOperand(2))
    return unsupported("class weights");
  if (node->output_size() > 1 && !node->output(1).empty())
    return unsupported("the log_prob output");
  FailureOr<Val *> sv = operand(0), lv = operand(1);
  if (failed(sv) || failed(lv))
    return failure();
  if ((*sv)->shape.size() != 2)
    return unsupported("scores of shape " + shapeStr((*sv)->shape) +
                       " (dlc: [N, C])");
  FailureOr<Value> scores = inLayout(**sv, {0, 1});
  if (failed(scores))
    return failure();
  if (!(*lv)->value || (*lv)->shape.size() != 1)
    return unsupported("labels that are not a graph input of shape [N]");
  FailureOr<Value> loss = create(SoftmaxCrossEntropyOp::getOperationName(),
                                 {*scores, (*lv)->value});
  if (failed(loss))
    return failure();
  defineOutput(0, *loss, {}, Layout::identity({}));
  return success();
}

LogicalResult OnnxImporter::importConstant(NodeAttrs &a) {
  HostTensor t;
  if (const onnx::AttributeProto *v = a.get("value")) {
    std::string err = readTensorProto(v->t(), t);
    if (!err.empty())
      return nodeError() << "its value: " << err, failure();
  } else if (auto f = a.getFloat("value_float")) {
    t = HostTensor::floats({}, {*f});
  } else if (auto i = a.getInt("value_int")) {
    t = HostTensor::ints({}, {*i});
  } else if (auto is = a.getInts("value_ints")) {
    t = HostTensor::ints({int64_t(is->size())},
                         std::vector<int64_t>(is->begin(), is->end()));
  } else if (const onnx::AttributeProto *fs = a.get("value_floats")) {
    t = HostTensor::floats(
        {fs->floats_size()},
        std::vector<float>(fs->floats().begin(), fs->floats().end()));
  } else {
    return unsupported("this kind of Constant");
  }
  Val &out = define(0);
  out.shape = t.shape;
  out.elemType = t.isInt ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT;
  out.constant = std::move(t);
  return success();
}

LogicalResult OnnxImporter::importShape(NodeAttrs &a) {
  FailureOr<Val *> x = operand(0);
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  int64_t start = a.getInt("start").value_or(0);
  int64_t end = a.getInt("end").value_or(rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims((*x)->shape.begin() + start,
                            (*x)->shape.begin() + end);
  Val &out = define(0);
  out.shape = {int64_t(dims.size())};
  out.elemType = onnx::TensorProto::INT64;
  out.constant = HostTensor::ints(out.shape, std::move(dims));
  return success();
}
