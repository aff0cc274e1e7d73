//===- OnnxPyTorchTest.cpp - CNNs exported by torch.onnx.export train -----===//
//
// The models of test/Import/onnx/pytorch (written by make_onnx_models.py
// with torch.onnx.export, opset 17: a reduced cnn_bn with static and with
// dynamic batch, and a small residual network) are imported the way
// `dlc train model.onnx` imports them (training settings from the YAML
// sidecar: SGD, momentum 0.9, batch 8), then
//   * @forward, compiled alone and called with the exported weights (the
//     importer's initial values), must give PyTorch's eval-mode logits;
//   * the training step built by dlc-build-train-step, started from the
//     same weights, must follow PyTorch's losses over 5 SGD steps on one
//     batch (train mode: batch statistics).
// The input is computed the same way as in the generator.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "dlc/Import/Import.h"
#include "dlc/InitAll.h"
#include "dlc/Runtime/ModelABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <map>

using ::dlc::test::allClose;
using ::dlc::test::call;
using ::dlc::test::CallArg;
using ::dlc::test::compileSource;
using ::dlc::test::HostTensor;

namespace {

std::string modelDir() { return DLC_ONNX_PYTORCH_DIR; }

/// x[k] = ((k * 7919) % 1009) / 1009 - 0.5 over the NCHW batch, as
/// make_onnx_models.py; returned in dlc's NHWC order.
std::vector<float> makeInput(int64_t n, int64_t c, int64_t h, int64_t w) {
  std::vector<float> nhwc(n * c * h * w);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t ih = 0; ih < h; ++ih)
        for (int64_t iw = 0; iw < w; ++iw) {
          int64_t k = ((in * c + ic) * h + ih) * w + iw;
          nhwc[((in * h + ih) * w + iw) * c + ic] =
              float(double((k * 7919) % 1009) / 1009.0 - 0.5);
        }
  return nhwc;
}

struct Imported {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// The initial value of every parameter and state tensor, by name.
  std::map<std::string, std::vector<float>> values;
};

void importModel(const std::string &path, mlir::MLIRContext &context,
                 Imported &out) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(bool(buffer)) << "cannot read " << path;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  out.module = mlir::dlc::importModel(sourceMgr, &context);
  ASSERT_TRUE(out.module) << "import of " << path << " failed";
  auto forward = out.module->lookupSymbol<mlir::func::FuncOp>("forward");
  for (unsigned i = 1; i < forward.getNumArguments(); ++i) {
    auto name = forward.getArgAttrOfType<mlir::StringAttr>(i, "dlc.name");
    auto value = forward.getArgAttrOfType<mlir::DenseElementsAttr>(
        i, "dlc.initial_value");
    ASSERT_TRUE(name && value) << "argument " << i << " has no initial value";
    out.values[name.str()] = std::vector<float>(
        value.getValues<float>().begin(), value.getValues<float>().end());
  }
}

struct Golden {
  int64_t batch = 0;
  std::vector<float> logits;
  std::vector<double> losses;
};

Golden readGolden(llvm::StringRef model) {
  Golden g;
  auto file = llvm::MemoryBuffer::getFile(modelDir() + "/golden.json");
  if (!file)
    return g;
  auto json = llvm::json::parse((*file)->getBuffer());
  if (!json) {
    llvm::consumeError(json.takeError());
    return g;
  }
  const llvm::json::Object *root = json->getAsObject();
  g.batch = root->getInteger("batch").value_or(0);
  const llvm::json::Object *m = root->getObject(model);
  for (const llvm::json::Value &v : *m->getArray("logits"))
    g.logits.push_back(float(v.getAsNumber().value_or(NAN)));
  for (const llvm::json::Value &v : *m->getArray("losses"))
    g.losses.push_back(v.getAsNumber().value_or(NAN));
  return g;
}

struct Buffer {
  HostTensor tensor = HostTensor::f32({});
  void *descriptor = nullptr;
  int64_t i64 = 0;
  float f32 = 0;
};

std::vector<int64_t> shapeOf(const dlc_tensor_info &t) {
  return std::vector<int64_t>(t.shape, t.shape + t.rank);
}

struct ModelCase {
  const char *file, *golden;
  int64_t c, h, w;
};

/// Test names show the model file, not the parameter's bytes.
[[maybe_unused]] void PrintTo(const ModelCase &c, std::ostream *os) {
  *os << c.file;
}

class OnnxPyTorch : public ::testing::TestWithParam<ModelCase> {};

} // namespace

TEST_P(OnnxPyTorch, ForwardMatchesPyTorch) {
  const ModelCase &mc = GetParam();
  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::MLIRContext context(registry);
  Imported imported;
  importModel(modelDir() + "/" + mc.file, context, imported);
  if (HasFatalFailure())
    return;
  Golden golden = readGolden(mc.golden);
  ASSERT_EQ(golden.batch, 8);

  std::string source;
  llvm::raw_string_ostream os(source);
  imported.module->print(os);
  std::unique_ptr<mlir::dlc::LoadedObject> object = compileSource(source);
  ASSERT_TRUE(object);

  auto forward = imported.module->lookupSymbol<mlir::func::FuncOp>("forward");
  std::vector<HostTensor> tensors;
  tensors.reserve(forward.getNumArguments() + 1);
  HostTensor x = HostTensor::f32({golden.batch, mc.h, mc.w, mc.c});
  x.f() = makeInput(golden.batch, mc.c, mc.h, mc.w);
  tensors.push_back(std::move(x));
  for (unsigned i = 1; i < forward.getNumArguments(); ++i) {
    auto type =
        mlir::cast<mlir::RankedTensorType>(forward.getArgumentTypes()[i]);
    HostTensor p = HostTensor::f32(
        std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
    p.f() =
        imported.values
            [forward.getArgAttrOfType<mlir::StringAttr>(i, "dlc.name").str()];
    tensors.push_back(std::move(p));
  }
  tensors.push_back(HostTensor::f32({golden.batch, 10}));
  std::vector<CallArg> args;
  for (HostTensor &t : tensors)
    args.emplace_back(t);
  call(*object, "forward", args);
  // f32 sums in another order than PyTorch's: a few ulps per layer
  // (measured: 5e-8).
  EXPECT_TRUE(allClose(tensors.back().f(), golden.logits, 1e-5f, 1e-5f));
  float worst = 0;
  for (size_t k = 0; k < golden.logits.size(); ++k)
    worst =
        std::max(worst, std::fabs(tensors.back().f()[k] - golden.logits[k]));
  std::printf("%s: forward max |dlc - PyTorch| = %.3g\n", mc.file, worst);
}

TEST_P(OnnxPyTorch, TrainingFollowsPyTorch) {
  const ModelCase &mc = GetParam();
  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::MLIRContext context(registry);
  Imported imported;
  importModel(modelDir() + "/" + mc.file, context, imported);
  if (HasFatalFailure())
    return;
  Golden golden = readGolden(mc.golden);
  ASSERT_EQ(golden.batch, 8);

  std::string source;
  llvm::raw_string_ostream os(source);
  imported.module->print(os);
  std::unique_ptr<mlir::dlc::LoadedObject> object =
      compileSource(source, {}, "dlc-build-train-step");
  ASSERT_TRUE(object);
  auto table = object->lookup("dlc_model");
  ASSERT_TRUE(bool(table)) << llvm::toString(table.takeError());
  const auto *info = static_cast<const dlc_model_info *>(*table);
  const dlc_function_info *step = nullptr;
  for (int32_t f = 0; f < info->num_functions; ++f)
    if (std::strcmp(info->functions[f].name, "train_step") == 0)
      step = &info->functions[f];
  ASSERT_TRUE(step);

  std::vector<Buffer> args(step->num_args), results(step->num_results);
  std::map<std::string, size_t> argByName;
  for (int32_t i = 0; i < step->num_args; ++i) {
    const dlc_tensor_info &a = step->args[i];
    std::string role = a.role, name = a.name;
    Buffer &b = args[i];
    argByName[role + ":" + name] = i;
    if (a.rank >= 0)
      b.tensor = a.dtype == DLC_DTYPE_I32 ? HostTensor::i32(shapeOf(a))
                                          : HostTensor::f32(shapeOf(a));
    if (role == "param" || role == "state") {
      auto it = imported.values.find(name);
      ASSERT_NE(it, imported.values.end()) << name;
      b.tensor.f() = it->second;
    } else if (role == "input") {
      b.tensor.f() = makeInput(golden.batch, mc.c, mc.h, mc.w);
    } else if (role == "labels") {
      for (int64_t n = 0; n < golden.batch; ++n)
        b.tensor.i()[n] = int32_t((3 * n) % 10);
    } else if (role == "learning_rate") {
      b.f32 = 0.05f;
    }
  }
  for (int32_t i = 0; i < step->num_results; ++i) {
    const dlc_tensor_info &r = step->results[i];
    results[i].tensor = r.dtype == DLC_DTYPE_I32 ? HostTensor::i32(shapeOf(r))
                                                 : HostTensor::f32(shapeOf(r));
  }

  std::vector<double> losses;
  for (size_t s = 0; s < golden.losses.size(); ++s) {
    std::vector<void *> packed;
    for (int32_t i = 0; i < step->num_args; ++i) {
      Buffer &b = args[i];
      if (std::string(step->args[i].role) == "step")
        b.i64 = int64_t(s);
      if (step->args[i].rank >= 0) {
        b.descriptor = b.tensor.descriptor();
        packed.push_back(&b.descriptor);
      } else {
        packed.push_back(step->args[i].dtype == DLC_DTYPE_F32
                             ? static_cast<void *>(&b.f32)
                             : static_cast<void *>(&b.i64));
      }
    }
    for (Buffer &b : results) {
      b.descriptor = b.tensor.descriptor();
      packed.push_back(&b.descriptor);
    }
    step->packed(packed.data());
    for (int32_t i = 0; i < step->num_results; ++i) {
      const dlc_tensor_info &r = step->results[i];
      std::string role = r.role;
      if (role == "loss")
        losses.push_back(results[i].tensor.f()[0]);
      auto it = argByName.find(role + ":" + r.name);
      if (it != argByName.end())
        std::swap(args[it->second].tensor, results[i].tensor);
    }
  }
  ASSERT_EQ(losses.size(), golden.losses.size());
  double worst = 0;
  for (size_t s = 0; s < losses.size(); ++s) {
    double rel = std::fabs(losses[s] - golden.losses[s]) /
                 std::max(1e-6, std::fabs(golden.losses[s]));
    worst = std::max(worst, rel);
    // Same weights, same batch, same updates: f32 rounding only (measured:
    // 1.2e-7 relative over 5 steps).
    EXPECT_LE(rel, 1e-5) << "step " << s << ": dlc " << losses[s]
                         << ", PyTorch " << golden.losses[s];
    std::printf("%s: step %zu loss dlc %.6f PyTorch %.6f\n", mc.file, s,
                losses[s], golden.losses[s]);
  }
  std::printf("%s: %zu SGD steps, max relative loss difference %.3g\n", mc.file,
              losses.size(), worst);
}

INSTANTIATE_TEST_SUITE_P(
    Models, OnnxPyTorch,
    ::testing::Values(ModelCase{"cnn_bn.onnx", "cnn_bn", 1, 28, 28},
                      ModelCase{"cnn_bn_dynamic.onnx", "cnn_bn", 1, 28, 28},
                      ModelCase{"resnet.onnx", "resnet", 3, 16, 16}),
    [](const ::testing::TestParamInfo<ModelCase> &info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('.'));
    });
