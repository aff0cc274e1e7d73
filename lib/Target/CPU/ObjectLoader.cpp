//===- ObjectLoader.cpp - Run compiled objects in process -----------------===//
//
// A thin wrapper around LLJIT: one JITDylib holding the object, with a
// generator that resolves the remaining symbols (malloc, free, expf, ...)
// from the running process.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/ObjectLoader.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir::dlc;

LoadedObject::LoadedObject(std::unique_ptr<llvm::orc::LLJIT> jit)
    : jit(std::move(jit)) {}

LoadedObject::~LoadedObject() = default;

llvm::Expected<std::unique_ptr<LoadedObject>>
LoadedObject::load(std::unique_ptr<llvm::MemoryBuffer> object) {
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return jit.takeError();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process)
    return process.takeError();
  (*jit)->getMainJITDylib().addGenerator(std::move(*process));
  if (llvm::Error error = (*jit)->addObjectFile(std::move(object)))
    return std::move(error);
  return std::unique_ptr<LoadedObject>(new LoadedObject(std::move(*jit)));
}

llvm::Expected<void *> LoadedObject::lookup(llvm::StringRef symbol) {
  auto address = jit->lookup(symbol);
  if (!address)
    return address.takeError();
  return address->toPtr<void *>();
}

llvm::Expected<std::unique_ptr<LoadedObject>>
mlir::dlc::compileAndLoad(ModuleOp module, const CPUPipelineOptions &options) {
  llvm::SmallString<0> object;
  llvm::raw_svector_ostream os(object);
  if (llvm::Error error = compileToObjectFile(module, os, options))
    return std::move(error);
  return LoadedObject::load(llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(object.data(), object.size()), "dlc-module.o"));
}
