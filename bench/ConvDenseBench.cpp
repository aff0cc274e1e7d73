//===- ConvDenseBench.cpp - GFLOP/s of compiled conv2d and dense ----------===//
//
// Compiles the convolution and dense layers of the Keras mnist_cnn example
// (examples/fashion_mnist/cnn.yaml) at batch 64 through the full CPU
// pipeline, their backward ops (the input and filter gradients of the
// convolutions, the transposed matmuls of the dense layers), and the whole
// inference forward pass, runs each on one thread and
// prints its best and median GFLOP/s next to the peak of one core: two FMA
// units per cycle at the clock read from /proc/cpuinfo, i.e. 32 fp32 FLOP/cycle
// with AVX2 (8 lanes) and 64 with AVX-512 (16 lanes), whichever the code was
// compiled for. This is a benchmark, not a test: it checks nothing and is never
// run by ctest.
//
// Usage: dlc-bench [--plain] [--seconds S] [--cpu NAME]
//   --plain    also time the untiled, unvectorized pipeline
//   --seconds  minimum timed duration per layer (default 1)
//   --cpu      compile for an LLVM CPU instead of the host, e.g. x86-64-v3
//              (AVX2 + FMA, no AVX-512) on a machine that has AVX-512
//   --lanes, --accumulators
//              override the register tile (see CPUPipelineOptions)
//
//===----------------------------------------------------------------------===//

#include "dlc/InitAll.h"
#include "dlc/Target/CPU/ObjectLoader.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Layer {
  const char *name;
  std::string source; // func.func @layer(operands...) -> y
  std::vector<std::vector<int64_t>> shapes; // operands..., y (3 or 4)
  double flops;                             // 2 * multiply-accumulates
};

std::string tensorType(const std::vector<int64_t> &shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + "f32>";
}

Layer makeLayer(const char *name, const char *op,
                std::vector<std::vector<int64_t>> shapes, double macs) {
  std::string x = tensorType(shapes[0]), w = tensorType(shapes[1]),
              b = tensorType(shapes[2]), y = tensorType(shapes[3]);
  std::string source = "func.func @layer(%x: " + x + ", %w: " + w +
                       ", %b: " + b + ") -> " + y + " {\n  %y = " + op +
                       " %x, %w, %b : (" + x + ", " + w + ", " + b + ") -> " +
                       y + "\n  return %y : " + y + "\n}\n";
  return {name, source, shapes, 2 * macs};
}

/// A backward op of two operands: `%y = <op> %x, %w <attrs> : (x, w) -> y`.
Layer makeGradLayer(const char *name, const char *op, const char *attrs,
                    std::vector<std::vector<int64_t>> shapes, double macs) {
  std::string x = tensorType(shapes[0]), w = tensorType(shapes[1]),
              y = tensorType(shapes[2]);
  std::string source = "func.func @layer(%x: " + x + ", %w: " + w + ") -> " +
                       y + " {\n  %y = " + op + " %x, %w " + attrs + " : (" +
                       x + ", " + w + ") -> " + y + "\n  return %y : " + y +
                       "\n}\n";
  return {name, source, shapes, 2 * macs};
}

std::vector<Layer> mnistCnnLayers() {
  const int64_t n = 64;
  return {
      makeLayer("conv1 28x28x1->26x26x32 3x3", "dlc.conv2d",
                {{n, 28, 28, 1}, {3, 3, 1, 32}, {32}, {n, 26, 26, 32}},
                double(n) * 26 * 26 * 32 * 3 * 3 * 1),
      makeLayer("conv2 26x26x32->24x24x64 3x3", "dlc.conv2d",
                {{n, 26, 26, 32}, {3, 3, 32, 64}, {64}, {n, 24, 24, 64}},
                double(n) * 24 * 24 * 64 * 3 * 3 * 32),
      makeLayer("dense1 9216->128", "dlc.dense",
                {{n, 9216}, {9216, 128}, {128}, {n, 128}},
                double(n) * 9216 * 128),
      makeLayer("dense2 128->10", "dlc.dense",
                {{n, 128}, {128, 10}, {10}, {n, 10}}, double(n) * 128 * 10),
  };
}

/// `layer` followed by a relu: the block whose activation the CPU schedule
/// runs in the kernel's epilogue (flops are the layer's).
Layer withRelu(Layer layer) {
  std::string y = tensorType(layer.shapes.back());
  size_t ret = layer.source.find("  return %y");
  layer.source.replace(ret, std::string::npos,
                       "  %r = dlc.relu %y : " + y + "\n  return %r : " + y +
                           "\n}\n");
  return layer;
}

/// Blocks of the inference step, with and without epilogue fusion.
std::vector<Layer> epilogueLayers() {
  std::vector<Layer> layers = mnistCnnLayers();
  Layer conv2 = withRelu(layers[1]), dense1 = withRelu(layers[2]);
  conv2.name = "conv2 + bias + relu";
  dense1.name = "dense1 + bias + relu";
  return {conv2, dense1};
}

/// The backward ops of the training step (conv1 needs no input gradient).
std::vector<Layer> mnistCnnBackwardLayers() {
  const int64_t n = 64;
  double conv1 = double(n) * 26 * 26 * 32 * 3 * 3 * 1;
  double conv2 = double(n) * 24 * 24 * 64 * 3 * 3 * 32;
  double dense1 = double(n) * 9216 * 128;
  return {
      makeGradLayer("conv1 grad filter", "dlc.conv2d_grad_filter",
                    "{kernel_size = array<i64: 3, 3>}",
                    {{n, 28, 28, 1}, {n, 26, 26, 32}, {3, 3, 1, 32}}, conv1),
      makeGradLayer("conv2 grad input", "dlc.conv2d_grad_input",
                    "{input_shape = array<i64: 64, 26, 26, 32>}",
                    {{n, 24, 24, 64}, {3, 3, 32, 64}, {n, 26, 26, 32}}, conv2),
      makeGradLayer("conv2 grad filter", "dlc.conv2d_grad_filter",
                    "{kernel_size = array<i64: 3, 3>}",
                    {{n, 26, 26, 32}, {n, 24, 24, 64}, {3, 3, 32, 64}}, conv2),
      makeGradLayer("dense1 grad input (A B^T)", "dlc.matmul",
                    "{transpose_rhs}", {{n, 128}, {9216, 128}, {n, 9216}},
                    dense1),
      makeGradLayer("dense1 grad kernel (A^T B)", "dlc.matmul",
                    "{transpose_lhs}", {{n, 9216}, {n, 128}, {9216, 128}},
                    dense1),
  };
}

/// The memref descriptor of dlc's C ABI for a row-major buffer.
std::vector<int64_t> descriptor(std::vector<float> &data,
                                const std::vector<int64_t> &shape) {
  int64_t rank = shape.size();
  std::vector<int64_t> d(3 + 2 * rank, 0);
  d[0] = d[1] = reinterpret_cast<intptr_t>(data.data());
  int64_t stride = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    d[3 + i] = shape[i];
    d[3 + rank + i] = stride;
    stride *= shape[i];
  }
  return d;
}

/// The nominal clock in GHz from /proc/cpuinfo (0 if unknown).
double cpuGHz() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("cpu MHz", 0) == 0)
      return std::stod(line.substr(line.find(':') + 1)) / 1000.0;
  return 0;
}

struct Timing {
  double best, median; // seconds per call
};

/// Times `fn` for at least `seconds` (after two warm-up calls).
template <typename Fn> Timing timeIt(Fn fn, double seconds) {
  fn();
  fn();
  std::vector<double> samples;
  auto start = std::chrono::steady_clock::now();
  while (true) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration<double>(t1 - t0).count());
    if (std::chrono::duration<double>(t1 - start).count() >= seconds &&
        samples.size() >= 5)
      break;
  }
  std::sort(samples.begin(), samples.end());
  return {samples.front(), samples[samples.size() / 2]};
}

/// Compiles and times one layer; returns false on a compile failure.
bool runLayer(const Layer &layer, const mlir::dlc::CPUPipelineOptions &options,
              const char *label, double seconds, double peakCore) {
  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(layer.source, &context);
  if (!module)
    return false;
  auto compileStart = std::chrono::steady_clock::now();
  auto object = mlir::dlc::compileAndLoad(*module, options);
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - compileStart)
                              .count();
  if (!object) {
    llvm::errs() << layer.name << ": " << llvm::toString(object.takeError())
                 << "\n";
    return false;
  }
  auto entry = (*object)->lookup("_mlir_ciface_layer");
  if (!entry) {
    llvm::errs() << llvm::toString(entry.takeError()) << "\n";
    return false;
  }
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<std::vector<float>> buffers;
  std::vector<std::vector<int64_t>> descriptors;
  for (const auto &shape : layer.shapes) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    buffers.emplace_back(n);
    for (float &v : buffers.back())
      v = dist(rng);
  }
  for (size_t i = 0; i < buffers.size(); ++i)
    descriptors.push_back(descriptor(buffers[i], layer.shapes[i]));
  // Forward layers take (x, w, b) and backward ones (x, w), then y.
  auto *call3 = reinterpret_cast<void (*)(void *, void *, void *)>(*entry);
  auto *call4 =
      reinterpret_cast<void (*)(void *, void *, void *, void *)>(*entry);
  Timing t = timeIt(
      [&] {
        if (descriptors.size() == 3)
          call3(descriptors[0].data(), descriptors[1].data(),
                descriptors[2].data());
        else
          call4(descriptors[0].data(), descriptors[1].data(),
                descriptors[2].data(), descriptors[3].data());
      },
      seconds);
  double best = layer.flops / t.best / 1e9,
         median = layer.flops / t.median / 1e9;
  std::printf("%-30s %-7s %9.3f ms %8.1f %8.1f %7.0f%% %8.2f s\n", layer.name,
              label, t.median * 1e3, best, median,
              peakCore > 0 ? 100 * best / peakCore : 0.0, compileSeconds);
  return true;
}

/// The whole mnist_cnn forward pass (inference: dropout off) at `batch`.
std::string cnnForwardSource(int64_t n) {
  std::string b = std::to_string(n);
  std::string src = R"mlir(
func.func @forward(%x: tensor<Bx28x28x1xf32>,
                   %w1: tensor<3x3x1x32xf32>, %b1: tensor<32xf32>,
                   %w2: tensor<3x3x32x64xf32>, %b2: tensor<64xf32>,
                   %w3: tensor<9216x128xf32>, %b3: tensor<128xf32>,
                   %w4: tensor<128x10xf32>, %b4: tensor<10xf32>) -> tensor<Bx10xf32> {
  %0 = dlc.conv2d %x, %w1, %b1 : (tensor<Bx28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<Bx26x26x32xf32>
  %1 = dlc.relu %0 : tensor<Bx26x26x32xf32>
  %2 = dlc.conv2d %1, %w2, %b2 : (tensor<Bx26x26x32xf32>, tensor<3x3x32x64xf32>, tensor<64xf32>) -> tensor<Bx24x24x64xf32>
  %3 = dlc.relu %2 : tensor<Bx24x24x64xf32>
  %4 = dlc.max_pool2d %3 {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<Bx24x24x64xf32>) -> tensor<Bx12x12x64xf32>
  %5 = dlc.dropout %4 {rate = 2.500000e-01 : f32} : (tensor<Bx12x12x64xf32>) -> tensor<Bx12x12x64xf32>
  %6 = dlc.flatten %5 : (tensor<Bx12x12x64xf32>) -> tensor<Bx9216xf32>
  %7 = dlc.dense %6, %w3, %b3 : (tensor<Bx9216xf32>, tensor<9216x128xf32>, tensor<128xf32>) -> tensor<Bx128xf32>
  %8 = dlc.relu %7 : tensor<Bx128xf32>
  %9 = dlc.dropout %8 {rate = 5.000000e-01 : f32} : (tensor<Bx128xf32>) -> tensor<Bx128xf32>
  %10 = dlc.dense %9, %w4, %b4 : (tensor<Bx128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<Bx10xf32>
  return %10 : tensor<Bx10xf32>
}
)mlir";
  for (size_t at; (at = src.find("<Bx")) != std::string::npos;)
    src.replace(at + 1, 1, b);
  return src;
}

/// Compiles and times the whole forward pass; returns false on failure.
bool runForward(const mlir::dlc::CPUPipelineOptions &options, double seconds,
                double flops) {
  const int64_t n = 64;
  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::MLIRContext context(registry);
  auto module =
      mlir::parseSourceString<mlir::ModuleOp>(cnnForwardSource(n), &context);
  if (!module)
    return false;
  auto object = mlir::dlc::compileAndLoad(*module, options);
  if (!object) {
    llvm::errs() << llvm::toString(object.takeError()) << "\n";
    return false;
  }
  using Forward = void(void *, void *, void *, void *, void *, void *, void *,
                       void *, void *, void *);
  auto entry = (*object)->lookupEntryPoint<Forward>("forward");
  if (!entry) {
    llvm::errs() << llvm::toString(entry.takeError()) << "\n";
    return false;
  }
  std::vector<std::vector<int64_t>> shapes = {
      {n, 28, 28, 1}, {3, 3, 1, 32}, {32},      {3, 3, 32, 64}, {64},
      {9216, 128},    {128},         {128, 10}, {10},           {n, 10}};
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> dist(-0.1f, 0.1f);
  std::vector<std::vector<float>> buffers;
  std::vector<std::vector<int64_t>> d;
  for (const auto &shape : shapes) {
    int64_t count = 1;
    for (int64_t e : shape)
      count *= e;
    buffers.emplace_back(count);
    for (float &v : buffers.back())
      v = dist(rng);
  }
  for (size_t i = 0; i < shapes.size(); ++i)
    d.push_back(descriptor(buffers[i], shapes[i]));
  Timing t = timeIt(
      [&] {
        (*entry)(d[0].data(), d[1].data(), d[2].data(), d[3].data(),
                 d[4].data(), d[5].data(), d[6].data(), d[7].data(),
                 d[8].data(), d[9].data());
      },
      seconds);
  std::printf("%-30s %-7s %9.3f ms %8.1f %8.1f %9.0f images/s\n",
              "cnn forward (inference)", "tiled", t.median * 1e3,
              flops / t.best / 1e9, flops / t.median / 1e9, n / t.median);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  bool plain = false;
  double seconds = 1.0;
  mlir::dlc::CPUPipelineOptions options;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--plain"))
      plain = true;
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--cpu") && i + 1 < argc)
      options.cpu = argv[++i];
    else if (!std::strcmp(argv[i], "--lanes") && i + 1 < argc)
      options.vectorLanes = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--accumulators") && i + 1 < argc)
      options.accumulatorRegisters = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: %s [--plain] [--seconds S] [--cpu NAME] "
                   "[--lanes L] [--accumulators A]\n",
                   argv[0]);
      return 2;
    }
  }
#ifdef __GLIBC__
  // The forward pass mallocs and frees its large intermediates on every
  // call; glibc would return them to the kernel each time (mmap/munmap) and
  // page-fault them back in (~10 ms per batch-64 call). A runtime keeps
  // them, as here.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  double ghz = cpuGHz();
  unsigned cores = std::thread::hardware_concurrency();
  int64_t lanes = mlir::dlc::getVectorRegisterFile(options).lanes;
  double flopPerCycle = 2 * 2 * lanes; // 2 FMA units x lanes x (mul + add)
  double peakCore = ghz * flopPerCycle;
  std::printf("dlc-bench: mnist_cnn layers and their gradients, batch 64, one "
              "thread, code for "
              "%s (%s)\n",
              options.cpu.empty() ? "the host CPU" : options.cpu.c_str(),
              lanes == 16 ? "AVX-512" : "AVX2+FMA");
  std::printf("peak: %.2f GHz x %.0f FLOP/cycle = %.1f GFLOP/s per core, "
              "%.1f GFLOP/s on %u cores\n\n",
              ghz, flopPerCycle, peakCore, peakCore * cores, cores);
  std::printf("%-30s %-7s %12s %8s %8s %8s %10s\n", "layer", "code", "median",
              "best", "median", "of peak", "compile");
  std::printf("%-30s %-7s %12s %8s %8s %8s %10s\n", "", "", "", "GFLOP/s",
              "GFLOP/s", "(1 core)", "");
  bool ok = true;
  double forwardFlops = 0;
  for (const Layer &layer : mnistCnnLayers()) {
    forwardFlops += layer.flops;
    ok &= runLayer(layer, options, "tiled", seconds, peakCore);
    if (plain) {
      mlir::dlc::CPUPipelineOptions loops = options;
      loops.vectorize = false;
      ok &= runLayer(layer, loops, "plain", seconds, peakCore);
    }
  }
  ok &= runForward(options, seconds, forwardFlops);
  std::printf("\n");
  for (const Layer &layer : mnistCnnBackwardLayers()) {
    ok &= runLayer(layer, options, "tiled", seconds, peakCore);
    if (plain) {
      mlir::dlc::CPUPipelineOptions loops = options;
      loops.vectorize = false;
      ok &= runLayer(layer, loops, "plain", seconds, peakCore);
    }
  }
  // Epilogue fusion per block: "tiled" runs the relu on each output tile,
  // "no-epi" (--no-fuse-epilogue) as its own pass.
  std::printf("\n");
  for (const Layer &layer : epilogueLayers()) {
    ok &= runLayer(layer, options, "tiled", seconds, peakCore);
    mlir::dlc::CPUPipelineOptions apart = options;
    apart.fuseEpilogue = false;
    ok &= runLayer(layer, apart, "no-epi", seconds, peakCore);
  }
  std::printf("\n'of peak' uses the nominal clock from /proc/cpuinfo; a core "
              "running at a higher turbo clock can exceed 100%%.\n");
  return ok ? 0 : 1;
}
