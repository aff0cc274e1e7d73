//===- FusedTest.cpp - e2e numerics of the fused conv/batch-norm ops ------===//
//
// Each fused op against the op chain it replaces:
//  * training forward: conv2d_bn_stats + batch_norm_train_apply [{relu}]
//    against the unfused conv2d + batch_norm_train [+ relu], both compiled
//    in the same module, and both against the naive reference;
//  * training backward: batch_norm_relu_grad against a naive reference of
//    relu_grad followed by batch_norm_grad (written here from the ops'
//    definitions; the unfused gradient ops are lowered elsewhere);
//  * inference: fold_batch_norm_params + conv2d [+ relu] against the
//    unfused conv2d + batch_norm [+ relu];
//  * loss: softmax_cross_entropy_with_grad against the unfused
//    softmax_cross_entropy + softmax_cross_entropy_grad (the loss bit for
//    bit, the gradient to 1e-6), both against a reference in double.
// Inputs with a large offset make the one-pass variance E[x^2] - E[x]^2
// face the cancellation it must survive.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

#include <algorithm>
#include <cmath>

using namespace dlc::test;

namespace {

/// A conv + batch-norm (+ relu) block.
struct Block {
  std::vector<int64_t> input; // N, H, W, C
  int64_t kernel;
  int64_t filters;
  int64_t stride = 1;
  bool same = false;
  int64_t groups = 1;
  bool bias = false;
  bool relu = true;
  /// Input values are drawn from [offset - 1, offset + 1).
  float offset = 0.0f;

  std::vector<int64_t> filterShape() const {
    return {kernel, kernel, input[3] / groups, filters};
  }
  ref::Conv2DParams params() const {
    ref::Conv2DParams p;
    p.strides = {stride, stride};
    p.groups = groups;
    if (same) {
      auto [t, b] = ref::samePadding(input[1], kernel, stride, 1);
      auto [l, r] = ref::samePadding(input[2], kernel, stride, 1);
      p.pads = {t, b, l, r};
    }
    return p;
  }
  std::vector<int64_t> outputShape() const {
    ref::Conv2DParams p = params();
    return {
        input[0],
        ref::windowOutput(input[1], kernel, stride, 1, p.pads[0], p.pads[1]),
        ref::windowOutput(input[2], kernel, stride, 1, p.pads[2], p.pads[3]),
        filters};
  }
  /// The conv2d attribute dictionary.
  std::string convAttrs() const {
    std::string attrs =
        "{groups = " + std::to_string(groups) +
        " : i64, strides = array<i64: " + std::to_string(stride) + ", " +
        std::to_string(stride) + ">";
    if (same)
      attrs += ", padding = #dlc.padding<same>";
    return attrs + "}";
  }
};

std::string vectorType(int64_t c) { return HostTensor::f32({c}).type(); }

std::string join(const std::vector<std::string> &parts) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i)
    s += (i ? ", " : "") + parts[i];
  return s;
}

/// Random parameters of a block: filter, bias, gamma, beta and statistics.
struct BlockParams {
  HostTensor w, bias, gamma, beta, mean, variance;
  BlockParams(const Block &b, std::mt19937 &rng)
      : w(HostTensor::f32(b.filterShape())), bias(HostTensor::f32({b.filters})),
        gamma(HostTensor::f32({b.filters})), beta(HostTensor::f32({b.filters})),
        mean(HostTensor::f32({b.filters})),
        variance(HostTensor::f32({b.filters})) {
    w.randomize(rng, -0.5f, 1.0f), bias.randomize(rng);
    gamma.randomize(rng, 0.5f, 1.5f), beta.randomize(rng);
    mean.randomize(rng), variance.randomize(rng, 0.1f, 2.0f);
  }
};

HostTensor reluOf(const HostTensor &x) {
  return ref::map(x, [](double v) { return v > 0 ? v : 0.0; });
}

/// Training forward: @name (fused) and @name_unfused in one source.
OpCase trainForwardCase(std::string name, Block b, float epsilon,
                        float momentum) {
  std::string x = HostTensor::f32(b.input).type();
  std::string w = HostTensor::f32(b.filterShape()).type();
  std::string y = HostTensor::f32(b.outputShape()).type();
  std::string v = vectorType(b.filters);
  // The sums are f64 and stay inside the function (the harness passes f32).
  std::string s = "tensor<" + std::to_string(b.filters) + "xf64>";
  // Arguments: x, w, [bias], gamma, beta, running mean, running variance.
  std::vector<std::string> args = {x, w};
  if (b.bias)
    args.push_back(v);
  args.insert(args.end(), 4, v);
  int64_t p = b.bias ? 3 : 2;
  auto arg = [](int64_t i) { return "%a" + std::to_string(i); };
  std::string convOperands = b.bias ? "%a0, %a1, %a2" : "%a0, %a1";
  std::string convTypes = b.bias ? x + ", " + w + ", " + v : x + ", " + w;
  std::string bnAttrs = "{epsilon = " + std::to_string(epsilon) +
                        " : f32, momentum = " + std::to_string(momentum) +
                        " : f32";
  std::string vectors4 = join({v, v, v, v});
  std::string results = "(" + join({y, v, v, v, v}) + ")";
  std::string params = join({arg(p), arg(p + 1), arg(p + 2), arg(p + 3)});

  std::string fused = "%c:3 = dlc.conv2d_bn_stats " + convOperands + " " +
                      b.convAttrs() + " : (" + convTypes + ") -> (" +
                      join({y, s, s}) +
                      ")\n"
                      "  %r:5 = dlc.batch_norm_train_apply %c#0, %c#1, %c#2, " +
                      params + " " + bnAttrs + (b.relu ? ", relu}" : "}") +
                      " : (" + join({y, s, s, vectors4}) + ") -> " + results;
  std::string unfused = "%c = dlc.conv2d " + convOperands + " " +
                        b.convAttrs() + " : (" + convTypes + ") -> " + y +
                        "\n"
                        "  %n:5 = dlc.batch_norm_train %c, " +
                        params + " " + bnAttrs + "} : (" + join({y, vectors4}) +
                        ") -> " + results +
                        (b.relu ? "\n  %r0 = dlc.relu %n#0 : " + y : "");
  std::string out0 = b.relu ? "%r0" : "%n#0";
  std::string source =
      makeFunction(name, args, fused, {"%r#0", "%r#1", "%r#2", "%r#3", "%r#4"},
                   {y, v, v, v, v}) +
      makeFunction(name + "_unfused", args, unfused,
                   {out0, "%n#1", "%n#2", "%n#3", "%n#4"}, {y, v, v, v, v});

  return {
      name, source,
      [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
        std::mt19937 rng(std::hash<std::string>()(symbol));
        HostTensor in = HostTensor::f32(b.input);
        in.randomize(rng, b.offset - 1.0f, b.offset + 1.0f);
        BlockParams bp(b, rng);
        std::vector<int64_t> shape = b.outputShape();
        auto outputs = [&] {
          std::vector<HostTensor> o = {HostTensor::f32(shape, NAN)};
          for (int i = 0; i < 4; ++i)
            o.push_back(HostTensor::f32({b.filters}, NAN));
          return o;
        };
        std::vector<HostTensor> f = outputs(), u = outputs();
        auto callArgs = [&](std::vector<HostTensor> &out, int64_t results) {
          std::vector<CallArg> a = {in, bp.w};
          if (b.bias)
            a.push_back(bp.bias);
          for (HostTensor *t : {&bp.gamma, &bp.beta, &bp.mean, &bp.variance})
            a.push_back(*t);
          for (int64_t i = 0; i < results; ++i)
            a.push_back(out[i]);
          return a;
        };
        call(object, symbol, callArgs(f, 5));
        call(object, symbol + "_unfused", callArgs(u, 5));

        // The reference chain.
        HostTensor conv =
            ref::conv2d(in, bp.w, b.bias ? &bp.bias : nullptr, b.params());
        ref::BatchNormTrainResult e = ref::batchNormTrain(
            conv, bp.gamma, bp.beta, bp.mean, bp.variance, epsilon, momentum);
        HostTensor expectedY = b.relu ? reluOf(e.y) : e.y;
        const char *what[] = {"output", "batch mean", "batch variance",
                              "running mean", "running variance"};
        std::vector<const HostTensor *> expected = {
            &expectedY, &e.mean, &e.variance, &e.newMean, &e.newVariance};
        for (int i = 0; i < 5; ++i) {
          EXPECT_TRUE(allClose(f[i].f(), expected[i]->f(), 2e-4f, 2e-4f))
              << "fused " << what[i] << " vs reference";
          EXPECT_TRUE(allClose(f[i].f(), u[i].f(), 2e-4f, 2e-4f))
              << "fused " << what[i] << " vs unfused";
        }
      }};
}

/// relu_grad then batch_norm_grad, from the ops' definitions, in double.
struct BnReluGrad {
  HostTensor dx, dgamma, dbeta;
};
BnReluGrad refBnReluGrad(const HostTensor &dy, const HostTensor &y,
                         const HostTensor &x, const HostTensor &gamma,
                         const HostTensor &mean, const HostTensor &variance,
                         float epsilon) {
  int64_t c = x.shape().back(), total = x.numElements();
  double m = double(total / c);
  BnReluGrad r{HostTensor::f32(x.shape()), HostTensor::f32({c}),
               HostTensor::f32({c})};
  std::vector<double> sumG(c, 0), sumGX(c, 0), rstd(c);
  for (int64_t ch = 0; ch < c; ++ch)
    rstd[ch] = 1.0 / std::sqrt(double(variance.f()[ch]) + epsilon);
  auto at = [&](int64_t k, double &g, double &xhat) {
    int64_t ch = k % c;
    g = y.f()[k] > 0 ? dy.f()[k] : 0.0;
    xhat = (x.f()[k] - double(mean.f()[ch])) * rstd[ch];
  };
  for (int64_t k = 0; k < total; ++k) {
    double g, xhat;
    at(k, g, xhat);
    sumG[k % c] += g, sumGX[k % c] += g * xhat;
  }
  for (int64_t k = 0; k < total; ++k) {
    int64_t ch = k % c;
    double g, xhat;
    at(k, g, xhat);
    r.dx.f()[k] = float(gamma.f()[ch] * rstd[ch] / m *
                        (m * g - sumG[ch] - xhat * sumGX[ch]));
  }
  for (int64_t ch = 0; ch < c; ++ch)
    r.dgamma.f()[ch] = float(sumGX[ch]), r.dbeta.f()[ch] = float(sumG[ch]);
  return r;
}

OpCase trainBackwardCase(std::string name, std::vector<int64_t> shape,
                         float epsilon) {
  int64_t c = shape.back();
  std::string t = HostTensor::f32(shape).type(), v = vectorType(c);
  std::string body = "%d:3 = dlc.batch_norm_relu_grad %a0, %a1, %a2, %a3, "
                     "%a4, %a5 {epsilon = " +
                     std::to_string(epsilon) + " : f32} : (" +
                     join({t, t, t, v, v, v}) + ") -> (" + join({t, v, v}) +
                     ")";
  return {
      name,
      makeFunction(name, {t, t, t, v, v, v}, body, {"%d#0", "%d#1", "%d#2"},
                   {t, v, v}),
      [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
        std::mt19937 rng(std::hash<std::string>()(symbol));
        HostTensor dy = HostTensor::f32(shape), x = HostTensor::f32(shape);
        HostTensor gamma = HostTensor::f32({c}), beta = HostTensor::f32({c});
        HostTensor rm = HostTensor::f32({c}), rv = HostTensor::f32({c}, 1.0f);
        dy.randomize(rng), x.randomize(rng, 1.0f, 4.0f);
        gamma.randomize(rng, 0.5f, 1.5f), beta.randomize(rng);
        // The forward values backward receives: the batch statistics of x
        // and the relu output.
        ref::BatchNormTrainResult fwd =
            ref::batchNormTrain(x, gamma, beta, rm, rv, epsilon, 0.99f);
        HostTensor y = reluOf(fwd.y);
        HostTensor dx = HostTensor::f32(shape, NAN);
        HostTensor dgamma = HostTensor::f32({c}, NAN);
        HostTensor dbeta = HostTensor::f32({c}, NAN);
        call(object, symbol,
             {dy, y, x, gamma, fwd.mean, fwd.variance, dx, dgamma, dbeta});
        BnReluGrad e =
            refBnReluGrad(dy, y, x, gamma, fwd.mean, fwd.variance, epsilon);
        EXPECT_TRUE(allClose(dx.f(), e.dx.f(), 1e-4f, 1e-3f)) << "input_grad";
        EXPECT_TRUE(allClose(dgamma.f(), e.dgamma.f(), 1e-3f, 1e-4f))
            << "gamma_grad";
        EXPECT_TRUE(allClose(dbeta.f(), e.dbeta.f(), 1e-3f, 1e-4f))
            << "beta_grad";
      }};
}

/// Inference: fold_batch_norm_params + conv2d [+ relu] (@name) and
/// conv2d + batch_norm [+ relu] (@name_unfused).
OpCase foldCase(std::string name, Block b, float epsilon) {
  std::string x = HostTensor::f32(b.input).type();
  std::string w = HostTensor::f32(b.filterShape()).type();
  std::string y = HostTensor::f32(b.outputShape()).type();
  std::string v = vectorType(b.filters);
  std::vector<std::string> args = {x, w};
  if (b.bias)
    args.push_back(v);
  args.insert(args.end(), 4, v);
  int64_t p = b.bias ? 3 : 2;
  auto arg = [](int64_t i) { return "%a" + std::to_string(i); };
  std::string params = join({arg(p), arg(p + 1), arg(p + 2), arg(p + 3)});
  std::string eps = "{epsilon = " + std::to_string(epsilon) + " : f32}";
  std::string relu = b.relu ? "\n  %r = dlc.relu %y : " + y : "";
  std::string result = b.relu ? "%r" : "%y";

  std::vector<std::string> foldTypes = {w, v, v, v, v};
  if (b.bias)
    foldTypes.push_back(v);
  std::string fused = "%p:2 = dlc.fold_batch_norm_params %a1, " +
                      (b.bias ? std::string("%a2, ") : "") + params + " " +
                      eps + " : (" + join(foldTypes) + ") -> (" + w + ", " + v +
                      ")\n"
                      "  %y = dlc.conv2d %a0, %p#0, %p#1 " +
                      b.convAttrs() + " : (" + join({x, w, v}) + ") -> " + y +
                      relu;
  std::string convOperands = b.bias ? "%a0, %a1, %a2" : "%a0, %a1";
  std::string convTypes = b.bias ? join({x, w, v}) : join({x, w});
  std::string unfused = "%c = dlc.conv2d " + convOperands + " " +
                        b.convAttrs() + " : (" + convTypes + ") -> " + y +
                        "\n  %y = dlc.batch_norm %c, " + params + " " + eps +
                        " : (" + join({y, v, v, v, v}) + ") -> " + y + relu;
  std::string source =
      makeFunction(name, args, fused, {result}, {y}) +
      makeFunction(name + "_unfused", args, unfused, {result}, {y});
  return {
      name, source,
      [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
        std::mt19937 rng(std::hash<std::string>()(symbol));
        HostTensor in = HostTensor::f32(b.input);
        in.randomize(rng, b.offset - 1.0f, b.offset + 1.0f);
        BlockParams bp(b, rng);
        HostTensor f = HostTensor::f32(b.outputShape(), NAN);
        HostTensor u = HostTensor::f32(b.outputShape(), NAN);
        auto callArgs = [&](HostTensor &out) {
          std::vector<CallArg> a = {in, bp.w};
          if (b.bias)
            a.push_back(bp.bias);
          for (HostTensor *t : {&bp.gamma, &bp.beta, &bp.mean, &bp.variance})
            a.push_back(*t);
          a.push_back(out);
          return a;
        };
        call(object, symbol, callArgs(f));
        call(object, symbol + "_unfused", callArgs(u));
        HostTensor bn = ref::batchNorm(
            ref::conv2d(in, bp.w, b.bias ? &bp.bias : nullptr, b.params()),
            bp.gamma, bp.beta, bp.mean, bp.variance, epsilon);
        HostTensor expected = b.relu ? reluOf(bn) : bn;
        EXPECT_TRUE(allClose(f.f(), expected.f(), 1e-4f, 1e-4f))
            << "folded vs reference";
        EXPECT_TRUE(allClose(f.f(), u.f(), 1e-4f, 1e-4f))
            << "folded vs unfused";
      }};
}

/// Softmax cross-entropy and its gradient in double, the label clamped to
/// [0, K) as the lowerings do: {loss, logits_grad}.
std::pair<float, HostTensor> refCrossEntropyWithGrad(const HostTensor &logits,
                                                     const HostTensor &labels,
                                                     float lossGrad) {
  int64_t n = logits.shape()[0], k = logits.shape()[1];
  HostTensor grad = HostTensor::f32({n, k});
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float *x = &logits.f()[i * k];
    int64_t label = std::clamp<int64_t>(labels.i()[i], 0, k - 1);
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < k; ++j)
      max = std::max(max, double(x[j]));
    for (int64_t j = 0; j < k; ++j)
      sum += std::exp(x[j] - max);
    total += std::log(sum) + max - x[label];
    for (int64_t j = 0; j < k; ++j)
      grad.f()[i * k + j] =
          float((std::exp(x[j] - max) / sum - (j == label ? 1.0 : 0.0)) *
                lossGrad / n);
  }
  return {float(total / n), grad};
}

/// softmax_cross_entropy_with_grad (@name) and the pair it replaces
/// (@name_unfused). Rows 0 and 1 have labels K - 1 and 0 (the boundary);
/// with `outOfRange`, rows 2 and 3 have -1 and K (clamped). Row 1 has a
/// logit of 80 and row 2 all logits near 80: exp without the row max would
/// overflow the sum (80 * K > log(FLT_MAX)) or lose the others.
OpCase crossEntropyWithGradCase(std::string name, int64_t batch,
                                int64_t classes, bool outOfRange) {
  std::string l = HostTensor::f32({batch, classes}).type();
  std::string y = HostTensor::i32({batch}).type();
  std::string s = "tensor<f32>";
  std::string fused = "%r:2 = dlc.softmax_cross_entropy_with_grad %a0, %a1, "
                      "%a2 : (" +
                      join({l, y, s}) + ") -> (" + join({s, l}) + ")";
  std::string unfused =
      "%loss = dlc.softmax_cross_entropy %a0, %a1 : (" + join({l, y}) +
      ") -> " + s +
      "\n  %grad = dlc.softmax_cross_entropy_grad %a0, %a1, %a2 : (" +
      join({l, y, s}) + ") -> " + l;
  std::string source =
      makeFunction(name, {l, y, s}, fused, {"%r#0", "%r#1"}, {s, l}) +
      makeFunction(name + "_unfused", {l, y, s}, unfused, {"%loss", "%grad"},
                   {s, l});
  return {name, source,
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor x = HostTensor::f32({batch, classes});
            x.randomize(rng, -4.0f, 4.0f);
            HostTensor labels = HostTensor::i32({batch});
            std::uniform_int_distribution<int32_t> dist(0, classes - 1);
            for (int32_t &label : labels.i())
              label = dist(rng);
            labels.i()[0] = classes - 1;
            labels.i()[1] = 0;
            x.f()[1 * classes + classes / 2] = 80.0f;
            for (int64_t j = 0; j < classes; ++j)
              x.f()[2 * classes + j] += 80.0f;
            if (outOfRange)
              labels.i()[2] = -1, labels.i()[3] = int32_t(classes);
            HostTensor seed = HostTensor::f32({}, 0.75f);

            HostTensor fLoss = HostTensor::f32({}, NAN);
            HostTensor uLoss = HostTensor::f32({}, NAN);
            HostTensor fGrad = HostTensor::f32({batch, classes}, NAN);
            HostTensor uGrad = HostTensor::f32({batch, classes}, NAN);
            call(object, symbol, {x, labels, seed, fLoss, fGrad});
            call(object, symbol + "_unfused", {x, labels, seed, uLoss, uGrad});

            // The same builders in the same order: the same bits.
            EXPECT_EQ(fLoss.f()[0], uLoss.f()[0]) << "fused loss vs unfused";
            EXPECT_TRUE(allClose(fGrad.f(), uGrad.f(), 1e-12f, 1e-6f))
                << "fused logits_grad vs unfused";
            auto [loss, grad] = refCrossEntropyWithGrad(x, labels, 0.75f);
            EXPECT_TRUE(allClose(fLoss.f(), {loss}, 1e-5f, 1e-5f))
                << "fused loss vs reference";
            EXPECT_TRUE(allClose(fGrad.f(), grad.f(), 1e-7f, 1e-5f))
                << "fused logits_grad vs reference";
          }};
}

std::vector<OpCase> fusedCases() {
  Block small{{2, 6, 6, 3}, 3, 8};
  Block same{{3, 7, 7, 4}, 3, 12, 2, /*same=*/true};
  same.bias = true;
  Block noRelu{{2, 5, 5, 8}, 1, 16};
  noRelu.relu = false;
  Block grouped{{2, 6, 6, 4}, 3, 8, 1, true, /*groups=*/2};
  // A realistic layer (the second conv of cnn_bn, smaller batch) with a
  // large input offset: the conv output's mean dwarfs its spread.
  Block offset{{4, 12, 12, 16}, 3, 32};
  offset.offset = 4.0f;
  return {
      trainForwardCase("train_fwd_b2_6x6x3_f8", small, 1e-3f, 0.99f),
      trainForwardCase("train_fwd_b3_7x7x4_s2_same_bias", same, 1e-5f, 0.9f),
      trainForwardCase("train_fwd_b2_5x5x8_k1_norelu", noRelu, 1e-3f, 0.99f),
      trainForwardCase("train_fwd_b2_6x6x4_groups2", grouped, 1e-3f, 0.99f),
      trainForwardCase("train_fwd_b4_12x12x16_f32_offset", offset, 1e-3f,
                       0.99f),
      trainBackwardCase("train_bwd_2x4x4x8", {2, 4, 4, 8}, 1e-3f),
      trainBackwardCase("train_bwd_8x12x12x32", {8, 12, 12, 32}, 1e-5f),
      trainBackwardCase("train_bwd_5x9", {5, 9}, 1e-3f),
      foldCase("fold_b2_6x6x3_f8_relu", small, 1e-3f),
      foldCase("fold_b3_7x7x4_s2_same_bias", same, 1e-5f),
      foldCase("fold_b2_5x5x8_k1_norelu", noRelu, 1e-3f),
      foldCase("fold_b2_6x6x4_groups2", grouped, 1e-3f),
      crossEntropyWithGradCase("xent_grad_8x10", 8, 10, false),
      crossEntropyWithGradCase("xent_grad_64x10", 64, 10, false),
      crossEntropyWithGradCase("xent_grad_6x17_out_of_range", 6, 17, true),
  };
}

class FusedTest : public OpCaseSuite<fusedCases> {};
DLC_INSTANTIATE_OP_CASES(FusedTest);

} // namespace
