//===- OnnxFuzzTest.cpp - The ONNX importer never crashes -----------------===//
//
// Structured mutations of valid ONNX models (the lit inputs, the PyTorch
// exports and a training-operator test of test/Import/onnx): attribute values,
// dimensions, element types, op types, node inputs and outputs, node order,
// truncated data. Every mutant is imported in training and in function mode;
// the importer must either return a module that verifies or report an error,
// and never crash, assert or run out of bounds (run it under ASan to be sure).
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/Import.h"
#include "dlc/Import/Onnx.h"
#include "dlc/InitAll.h"

#include "onnx/onnx_pb.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <random>

namespace {

const char *const kOps[] = {"Conv",
                            "MaxPool",
                            "AveragePool",
                            "GlobalAveragePool",
                            "Relu",
                            "LeakyRelu",
                            "Sigmoid",
                            "Tanh",
                            "Softmax",
                            "Gemm",
                            "MatMul",
                            "Add",
                            "Concat",
                            "Flatten",
                            "Reshape",
                            "Dropout",
                            "Identity",
                            "Constant",
                            "Shape",
                            "Gather",
                            "Unsqueeze",
                            "Squeeze",
                            "Cast",
                            "Slice",
                            "Transpose",
                            "Mul",
                            "Div",
                            "BatchNormalization",
                            "SoftmaxCrossEntropyLoss",
                            "Elu"};

int64_t pick(std::mt19937 &rng) {
  static const int64_t values[] = {-3, -1, 0, 1,    2,
                                   3,  5,  8, 1000, int64_t(1) << 40};
  return values[rng() % (sizeof(values) / sizeof(values[0]))];
}

void mutate(onnx::ModelProto &m, std::mt19937 &rng) {
  onnx::GraphProto *g = m.mutable_graph();
  auto anyNode = [&]() -> onnx::NodeProto * {
    return g->node_size() ? g->mutable_node(rng() % g->node_size()) : nullptr;
  };
  switch (rng() % 11) {
  case 0:
    if (onnx::NodeProto *n = anyNode(); n && n->attribute_size()) {
      onnx::AttributeProto *a =
          n->mutable_attribute(rng() % n->attribute_size());
      if (a->ints_size())
        a->set_ints(rng() % a->ints_size(), pick(rng));
      a->set_i(pick(rng));
      a->set_f(float(pick(rng)) / 3.0f);
      if (rng() % 4 == 0)
        a->set_s(rng() % 2 ? "SAME_LOWER" : "bogus");
    }
    break;
  case 1:
    if (g->initializer_size()) {
      onnx::TensorProto *t =
          g->mutable_initializer(rng() % g->initializer_size());
      if (t->dims_size())
        t->set_dims(rng() % t->dims_size(), pick(rng));
      else
        t->add_dims(pick(rng));
    }
    break;
  case 2:
    if (onnx::NodeProto *n = anyNode())
      n->set_op_type(kOps[rng() % (sizeof(kOps) / sizeof(kOps[0]))]);
    break;
  case 3:
    if (onnx::NodeProto *n = anyNode()) {
      if (n->input_size() && rng() % 2)
        n->mutable_input()->RemoveLast();
      else if (g->node_size())
        n->add_input(rng() % 3 ? g->node(rng() % g->node_size()).output(0)
                               : std::string());
    }
    break;
  case 4:
    if (g->input_size()) {
      auto *shape = g->mutable_input(rng() % g->input_size())
                        ->mutable_type()
                        ->mutable_tensor_type()
                        ->mutable_shape();
      if (shape->dim_size()) {
        auto *dim = shape->mutable_dim(rng() % shape->dim_size());
        if (rng() % 3)
          dim->set_dim_value(pick(rng));
        else
          dim->set_dim_param("n");
      } else {
        shape->add_dim()->set_dim_value(pick(rng));
      }
    }
    break;
  case 5:
    if (g->initializer_size())
      g->mutable_initializer(rng() % g->initializer_size())
          ->set_data_type(int(rng() % 17));
    break;
  case 6:
    if (g->node_size() > 1)
      g->mutable_node()->SwapElements(rng() % g->node_size(),
                                      rng() % g->node_size());
    break;
  case 7:
    if (onnx::NodeProto *n = anyNode(); n && g->input_size())
      n->set_output(0, g->input(0).name());
    break;
  case 8:
    if (g->node_size())
      g->mutable_node()->DeleteSubrange(rng() % g->node_size(), 1);
    break;
  case 9:
    if (g->initializer_size()) {
      onnx::TensorProto *t =
          g->mutable_initializer(rng() % g->initializer_size());
      if (t->has_raw_data())
        t->mutable_raw_data()->resize(t->raw_data().size() / 2);
      else if (t->float_data_size())
        t->mutable_float_data()->RemoveLast();
      else if (t->int64_data_size())
        t->set_int64_data(0, pick(rng));
    }
    break;
  default:
    if (g->output_size())
      g->mutable_output(0)->set_name(
          g->node_size() ? g->node(rng() % g->node_size()).input_size()
                               ? g->node(rng() % g->node_size()).name()
                               : "nope"
                         : "nope");
    break;
  }
}

std::vector<onnx::ModelProto> seeds() {
  std::vector<onnx::ModelProto> models;
  std::string dir = DLC_ONNX_TEST_DIR;
  for (const char *text :
       {"/Inputs/small_cnn.textproto", "/Inputs/view.textproto"}) {
    auto buffer = llvm::MemoryBuffer::getFile(dir + text);
    onnx::ModelProto m;
    if (buffer && google::protobuf::TextFormat::ParseFromString(
                      (*buffer)->getBuffer().str(), &m))
      models.push_back(m);
  }
  for (const char *binary :
       {"/pytorch/resnet.onnx", "/pytorch/cnn_bn_dynamic.onnx",
        "/training-ops/node/test_adam_post_multiple_t7/model.onnx"}) {
    auto buffer = llvm::MemoryBuffer::getFile(dir + binary);
    onnx::ModelProto m;
    if (buffer && m.ParseFromString((*buffer)->getBuffer().str()))
      models.push_back(m);
  }
  return models;
}

/// DLC_FUZZ_SEED explores other mutants (the suite runs seed 14).
unsigned seedFromEnv() {
  const char *seed = std::getenv("DLC_FUZZ_SEED");
  return seed ? unsigned(std::atoi(seed)) : 14u;
}

} // namespace

TEST(OnnxFuzz, MutantsAreImportedOrReported) {
  std::vector<onnx::ModelProto> models = seeds();
  ASSERT_EQ(models.size(), 5u);
  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::MLIRContext context(registry);
  std::mt19937 rng(seedFromEnv());
  int imported = 0, rejected = 0;
  for (int iteration = 0; iteration < 8000; ++iteration) {
    onnx::ModelProto m = models[iteration % models.size()];
    for (unsigned k = 0, e = 1 + rng() % 3; k < e; ++k)
      mutate(m, rng);
    std::string bytes;
    ASSERT_TRUE(m.SerializeToString(&bytes));
    for (bool functionMode : {false, true}) {
      llvm::SourceMgr sourceMgr;
      sourceMgr.AddNewSourceBuffer(
          llvm::MemoryBuffer::getMemBufferCopy(bytes, "mutant.onnx"),
          llvm::SMLoc());
      int errors = 0;
      mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
        errors += d.getSeverity() == mlir::DiagnosticSeverity::Error;
        return mlir::success();
      });
      mlir::dlc::OnnxImportOptions options;
      options.functionMode = functionMode;
      mlir::OwningOpRef<mlir::ModuleOp> module =
          mlir::dlc::importOnnxModel(sourceMgr, &context, options);
      if (module) {
        EXPECT_TRUE(succeeded(mlir::verify(*module)));
        ++imported;
      } else {
        EXPECT_GT(errors, 0)
            << "iteration " << iteration << ": import failed without an error";
        ++rejected;
      }
    }
  }
  std::printf("ONNX fuzz: %d mutants imported, %d rejected with an error\n",
              imported, rejected);
}

namespace {

/// Imports the text-format `model` in function mode; the first error, or
/// "" and the printed module in `printed`.
std::string importFunction(mlir::MLIRContext &context, const std::string &model,
                           std::string *printed = nullptr) {
  onnx::ModelProto m;
  if (!google::protobuf::TextFormat::ParseFromString(model, &m))
    return "the test model does not parse";
  std::string bytes;
  m.SerializeToString(&bytes);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "train.onnx"), llvm::SMLoc());
  std::string message;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (message.empty() && d.getSeverity() == mlir::DiagnosticSeverity::Error)
      message = d.str();
    return mlir::success();
  });
  mlir::dlc::OnnxImportOptions options;
  options.functionMode = true;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::dlc::importOnnxModel(sourceMgr, &context, options);
  if (module && printed) {
    llvm::raw_string_ostream os(*printed);
    module->print(os);
  }
  return module ? "" : (message.empty() ? "failed without an error" : message);
}

/// A graph of one ai.onnx.preview.training node `op` with `attrs`, reading
/// R, T and `tensors` ([2] floats each, except where `shapes` says).
std::string trainingModel(const std::string &op, const std::string &attrs,
                          std::vector<std::string> tensors,
                          std::vector<std::string> outputs,
                          const std::string &rShape = "") {
  auto input = [](const std::string &name, int type, const std::string &dims) {
    return "input { name: \"" + name +
           "\" type { tensor_type { elem_type: " + std::to_string(type) +
           " shape { " + dims + " } } } }\n";
  };
  std::string text =
      "ir_version: 8\nopset_import { version: 17 }\n"
      "opset_import { domain: \"ai.onnx.preview.training\" "
      "version: 1 }\ngraph {\n  node { name: \"opt\" op_type: \"" +
      op +
      "\" domain: \"ai.onnx.preview.training\" input: \"R\" "
      "input: \"T\"";
  for (const std::string &t : tensors)
    text += " input: \"" + t + "\"";
  for (const std::string &o : outputs)
    text += " output: \"" + o + "\"";
  text += " " + attrs + " }\n";
  text += input("R", 1, rShape) + input("T", 7, "");
  for (const std::string &t : tensors)
    text += input(t, 1,
                  t == "G3" ? "dim { dim_value: 3 }" : "dim { dim_value: 2 }");
  for (const std::string &o : outputs)
    text += "output { name: \"" + o +
            "\" type { tensor_type { elem_type: 1 "
            "} } }\n";
  return text + "}\n";
}

std::string floatAttr(const std::string &name, float value) {
  return "attribute { name: \"" + name +
         "\" type: FLOAT f: " + std::to_string(value) + " }";
}

} // namespace

// ONNX's Momentum and Adam in function mode: the mapping to dlc's update
// ops, and a located error for every parameterization they do not compute.
TEST(OnnxTrainingOps, MappedOrReportedAtTheNode) {
  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::MLIRContext context(registry);
  std::string momentum = floatAttr("alpha", 0.9f) + floatAttr("beta", 0.25f) +
                         floatAttr("norm_coefficient", 0.01f);
  std::string nesterov =
      momentum + " attribute { name: \"mode\" type: STRING s: \"nesterov\" }";
  std::vector<std::string> xgv = {"X", "G", "V"}, outs = {"X_new", "V_new"};

  std::string printed;
  EXPECT_EQ(importFunction(context,
                           trainingModel("Momentum", nesterov, xgv, outs),
                           &printed),
            "");
  // T counts from 0, the op's step from 1; beta = 1 - dampening.
  EXPECT_NE(printed.find("arith.addi"), std::string::npos) << printed;
  EXPECT_NE(printed.find("dlc.sgd_update"), std::string::npos) << printed;
  EXPECT_NE(printed.find("dampening = 7.500000e-01 : f32"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("nesterov"), std::string::npos) << printed;
  printed.clear();
  EXPECT_EQ(
      importFunction(
          context,
          trainingModel("Adam", floatAttr("norm_coefficient_post", 0.5f),
                        {"X", "G", "V", "H"}, {"X_new", "V_new", "H_new"}),
          &printed),
      "");
  EXPECT_NE(printed.find("epsilon_hat"), std::string::npos) << printed;
  EXPECT_NE(printed.find("post_decay = 5.000000e-01 : f32"), std::string::npos)
      << printed;

  struct Case {
    std::string model, error;
  } cases[] = {
      {trainingModel("Momentum", momentum, xgv, outs),
       "node 0 ('opt', Momentum): the attribute 'mode' is required"},
      {trainingModel("Momentum",
                     floatAttr("alpha", 0.0f) + floatAttr("beta", 1.0f) +
                         floatAttr("norm_coefficient", 0.0f) +
                         " attribute { name: \"mode\" type: STRING s: "
                         "\"standard\" }",
                     xgv, outs),
       "node 0 ('opt', Momentum): alpha 0 is not supported by dlc (it must "
       "be in (0, 1))"},
      {trainingModel("Momentum",
                     momentum + " attribute { name: \"mode\" type: STRING s: "
                                "\"heavy\" }",
                     xgv, outs),
       "node 0 ('opt', Momentum): mode 'heavy' (ONNX: 'standard' or "
       "'nesterov')"},
      {trainingModel("Momentum", nesterov, {"X", "G3", "V"}, outs),
       "node 0 ('opt', Momentum): 'G3' of shape [3] with 'X' of shape [2] "
       "(dlc updates tensors of one shape) is not supported by dlc"},
      {trainingModel("Momentum", nesterov, xgv, outs, "dim { dim_value: 2 }"),
       "node 0 ('opt', Momentum): the learning rate R of shape [2] (a scalar "
       "is expected) is not supported by dlc"},
      {trainingModel("Adam", "", {"X", "G", "V"}, {"X_new", "V_new"}),
       "node 0 ('opt', Adam): Adam takes R, T and 4 inputs per optimized "
       "tensor, got 5 inputs"},
      {trainingModel("Adam", floatAttr("epsilon", 0.0f), {"X", "G", "V", "H"},
                     {"X_new", "V_new", "H_new"}),
       "node 0 ('opt', Adam): epsilon 0 is not supported by dlc (it must be "
       "in (0, inf))"},
      {trainingModel("Adam", floatAttr("foo", 1.0f), {"X", "G", "V", "H"},
                     {"X_new", "V_new", "H_new"}),
       "node 0 ('opt', Adam): attribute 'foo' is not supported by dlc"},
      {trainingModel("Adagrad", "", {"X", "G", "H"}, {"X_new", "H_new"}),
       "node 0 ('opt', Adagrad): the training operator Adagrad "
       "(ai.onnx.preview.training; dlc imports Momentum and Adam) is not "
       "supported by dlc"},
  };
  for (const Case &c : cases)
    EXPECT_EQ(importFunction(context, c.model), c.error);
}
