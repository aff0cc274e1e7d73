//===- EmbedKernels.cpp - The kernels' image and launches on the host -----===//
//
// dlc-cuda-embed-kernels: the PTX that gpu-module-to-binary produced (and a
// cubin assembled from it by ptxas, when there is one) become constants of
// the host module, and every gpu.launch_func a call of the runtime's
// dlc_cuda_launch (lib/Runtime/CUDADevice.cpp). The executable then needs
// nothing of upstream's mgpu* runtime and loads its modules lazily, on the
// device the runtime chose. Several binaries (dlc-cuda-merge-kernel-modules
// {modules=N}) become one image each, assembled by ptxas in parallel.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Threading.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CUDAEMBEDKERNELSPASS
#include "dlc/Target/CUDA/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Runs `ptxas -arch=<arch>` on `ptx`; the cubin, or an error with ptxas's
/// messages. `--split-compile=0` lets ptxas optimize the kernels on all
/// cores (0.87 s -> 0.59 s for cnn_bn's 157 kernels on 2 cores); a ptxas
/// older than CUDA 12 does not know it and is run again without it.
llvm::Expected<std::string> assemble(StringRef ptxas, StringRef arch,
                                     StringRef ptx, bool splitCompile = true) {
  SmallString<128> input, output, log;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("dlc-kernels", "ptx", fd, input))
    return llvm::createStringError("cannot create a temporary file: " +
                                   ec.message());
  llvm::FileRemover removeInput(input);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("dlc-kernels", "cubin", output))
    return llvm::createStringError("cannot create a temporary file: " +
                                   ec.message());
  llvm::FileRemover removeOutput(output);
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("dlc-ptxas", "log", log))
    return llvm::createStringError("cannot create a temporary file: " +
                                   ec.message());
  llvm::FileRemover removeLog(log);
  std::string archFlag = ("-arch=" + arch).str();
  SmallVector<StringRef> args = {ptxas, archFlag, "-o", output, input};
  if (splitCompile)
    args.insert(args.begin() + 2, "--split-compile=0");
  std::optional<StringRef> redirects[] = {std::nullopt, log.str(), log.str()};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0, 0,
                                     &message);
  if (rc != 0) {
    auto text = llvm::MemoryBuffer::getFile(log);
    if (splitCompile && text && (*text)->getBuffer().contains("split-compile"))
      return assemble(ptxas, arch, ptx, /*splitCompile=*/false);
    return llvm::createStringError((ptxas + " -arch=" + arch + " failed" +
                                    (message.empty() ? "" : ": " + message) +
                                    "\n" + (text ? (*text)->getBuffer() : ""))
                                       .str());
  }
  auto cubin = llvm::MemoryBuffer::getFile(output);
  if (!cubin)
    return llvm::createStringError("cannot read ptxas's output " + output);
  return (*cubin)->getBuffer().str();
}

class Embedder {
public:
  explicit Embedder(ModuleOp module)
      : module(module), ctx(module.getContext()),
        b(OpBuilder::atBlockEnd(module.getBody())), loc(module.getLoc()),
        ptr(LLVM::LLVMPointerType::get(ctx)), i32(b.getI32Type()),
        i64(b.getI64Type()) {}

  /// `@dlc_cuda_image<suffix>`, from the PTX and the (possibly empty)
  /// cubin (`@dlc_cuda_ptx<suffix>`, `@dlc_cuda_cubin<suffix>`).
  LLVM::GlobalOp addImage(StringRef suffix, StringRef ptx, StringRef cubin) {
    // The driver's JIT reads the PTX as a NUL-terminated string.
    std::string ptxText = ptx.str();
    ptxText.push_back('\0');
    LLVM::GlobalOp ptxGlobal = bytes(("dlc_cuda_ptx" + suffix).str(), ptxText);
    LLVM::GlobalOp cubinGlobal =
        cubin.empty() ? LLVM::GlobalOp()
                      : bytes(("dlc_cuda_cubin" + suffix).str(), cubin);
    auto type = LLVM::LLVMStructType::getLiteral(ctx, {ptr, i64, ptr, i64});
    OpBuilder::InsertionGuard guard(b);
    auto image = LLVM::GlobalOp::create(
        b, loc, type, /*isConstant=*/true, LLVM::Linkage::Private,
        ("dlc_cuda_image" + suffix).str(), Attribute());
    OpBuilder r = OpBuilder::atBlockBegin(b.createBlock(&image.getRegion()));
    Value value = LLVM::UndefOp::create(r, loc, type);
    Value fields[] = {
        LLVM::AddressOfOp::create(r, loc, ptxGlobal),
        constant(r, i64, ptx.size()),
        cubinGlobal ? Value(LLVM::AddressOfOp::create(r, loc, cubinGlobal))
                    : Value(LLVM::ZeroOp::create(r, loc, ptr)),
        constant(r, i64, cubin.size())};
    for (auto [i, field] : llvm::enumerate(fields))
      value = LLVM::InsertValueOp::create(r, loc, value, field,
                                          ArrayRef<int64_t>{int64_t(i)});
    LLVM::ReturnOp::create(r, loc, value);
    return image;
  }

  /// Replaces `launch` (operands already in LLVM types) by the runtime call
  /// of a kernel of `image`.
  LogicalResult replaceLaunch(gpu::LaunchFuncOp launch, LLVM::GlobalOp image) {
    if (!launch.getAsyncDependencies().empty() || launch.getAsyncToken())
      return launch.emitOpError("is asynchronous; the CUDA target's launches "
                                "run in order on the runtime's stream");
    OpBuilder r(launch);
    Location l = launch.getLoc();
    StringRef kernel = launch.getKernelName().getValue();
    // params[i] points to a stack copy of kernel operand i.
    ValueRange operands = launch.getKernelOperands();
    Value one = constant(r, i64, 1);
    Value params = LLVM::AllocaOp::create(
        r, l, ptr, ptr, constant(r, i64, std::max<size_t>(1, operands.size())));
    for (auto [i, operand] : llvm::enumerate(operands)) {
      Value slot = LLVM::AllocaOp::create(r, l, ptr, operand.getType(), one);
      LLVM::StoreOp::create(r, l, operand, slot);
      Value entry = LLVM::GEPOp::create(r, l, ptr, ptr, params,
                                        ArrayRef<LLVM::GEPArg>{int32_t(i)});
      LLVM::StoreOp::create(r, l, slot, entry);
    }
    auto toI64 = [&](Value v) -> Value {
      if (v.getType() == i64)
        return v;
      return LLVM::ZExtOp::create(r, l, i64, v);
    };
    Value shared = launch.getDynamicSharedMemorySize();
    if (!shared)
      shared = constant(r, i32, 0);
    Value args[] = {LLVM::AddressOfOp::create(r, l, image),
                    LLVM::AddressOfOp::create(r, l, functionSlot(kernel)),
                    LLVM::AddressOfOp::create(r, l, string(kernel)),
                    toI64(launch.getGridSizeX()),
                    toI64(launch.getGridSizeY()),
                    toI64(launch.getGridSizeZ()),
                    toI64(launch.getBlockSizeX()),
                    toI64(launch.getBlockSizeY()),
                    toI64(launch.getBlockSizeZ()),
                    shared,
                    params};
    LLVM::CallOp::create(r, l, launchFunction(), args);
    launch.erase();
    return success();
  }

private:
  Value constant(OpBuilder &r, Type type, int64_t value) {
    return LLVM::ConstantOp::create(r, loc, type,
                                    r.getIntegerAttr(type, value));
  }

  LLVM::GlobalOp bytes(StringRef name, StringRef data) {
    OpBuilder::InsertionGuard guard(b);
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), data.size());
    auto op = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                     LLVM::Linkage::Private, name,
                                     b.getStringAttr(data));
    op.setAlignment(16);
    return op;
  }

  /// A NUL-terminated kernel name.
  LLVM::GlobalOp string(StringRef kernel) {
    std::string name = ("dlc_cuda_name_" + kernel).str();
    if (auto existing = module.lookupSymbol<LLVM::GlobalOp>(name))
      return existing;
    std::string value = kernel.str();
    value.push_back('\0');
    return bytes(name, value);
  }

  /// The CUfunction cache of one kernel, null until its first launch.
  LLVM::GlobalOp functionSlot(StringRef kernel) {
    OpBuilder::InsertionGuard guard(b);
    std::string name = ("dlc_cuda_function_" + kernel).str();
    if (auto existing = module.lookupSymbol<LLVM::GlobalOp>(name))
      return existing;
    auto op = LLVM::GlobalOp::create(b, loc, ptr, /*isConstant=*/false,
                                     LLVM::Linkage::Private, name, Attribute());
    OpBuilder r = OpBuilder::atBlockBegin(b.createBlock(&op.getRegion()));
    LLVM::ReturnOp::create(r, loc, LLVM::ZeroOp::create(r, loc, ptr).getRes());
    return op;
  }

  LLVM::LLVMFuncOp launchFunction() {
    if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>("dlc_cuda_launch"))
      return f;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto type = LLVM::LLVMFunctionType::get(
        LLVM::LLVMVoidType::get(ctx),
        {ptr, ptr, ptr, i64, i64, i64, i64, i64, i64, i32, ptr});
    return LLVM::LLVMFuncOp::create(b, loc, "dlc_cuda_launch", type);
  }

  ModuleOp module;
  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  Type ptr, i32, i64;
};

struct EmbedKernelsPass
    : public dlc::impl::CUDAEmbedKernelsPassBase<EmbedKernelsPass> {
  using CUDAEmbedKernelsPassBase::CUDAEmbedKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
    if (binaries.empty()) {
      if (!launches.empty()) {
        launches.front().emitOpError(
            "launches a kernel but the module has no gpu.binary (run "
            "gpu-module-to-binary first)");
        return signalPassFailure();
      }
      return;
    }
    // Each binary's PTX, and its cubin assembled by ptxas (the binaries in
    // parallel: each ptxas also splits its module over the cores).
    struct Image {
      gpu::BinaryOp binary;
      StringRef ptx;
      std::string cubin;
    };
    SmallVector<Image> images;
    for (gpu::BinaryOp binary : binaries) {
      gpu::ObjectAttr object;
      for (Attribute a : binary.getObjects())
        if (auto o = dyn_cast<gpu::ObjectAttr>(a);
            o && o.getFormat() == gpu::CompilationTarget::Assembly)
          object = o;
      if (!object) {
        binary.emitOpError("has no PTX (use gpu-module-to-binary{format=isa})");
        return signalPassFailure();
      }
      images.push_back({binary, object.getObject().getValue(), {}});
    }
    if (!ptxas.empty() &&
        failed(failableParallelForEachN(
            &getContext(), 0, images.size(), [&](size_t i) -> LogicalResult {
              llvm::Expected<std::string> assembled =
                  assemble(ptxas, cubinArch, images[i].ptx);
              if (!assembled)
                return images[i].binary.emitError(
                    llvm::toString(assembled.takeError()));
              images[i].cubin = std::move(*assembled);
              return success();
            })))
      return signalPassFailure();
    Embedder embedder(module);
    llvm::DenseMap<StringAttr, LLVM::GlobalOp> imageOf;
    for (Image &image : images)
      imageOf[image.binary.getNameAttr()] = embedder.addImage(
          images.size() == 1 ? "" : ("_" + image.binary.getName()).str(),
          image.ptx, image.cubin);
    for (gpu::LaunchFuncOp launch : launches) {
      LLVM::GlobalOp image = imageOf.lookup(launch.getKernelModuleName());
      if (!image) {
        launch.emitOpError("launches a kernel of a module that is no "
                           "gpu.binary here");
        return signalPassFailure();
      }
      if (failed(embedder.replaceLaunch(launch, image)))
        return signalPassFailure();
    }
    for (Image &image : images)
      image.binary.erase();
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
