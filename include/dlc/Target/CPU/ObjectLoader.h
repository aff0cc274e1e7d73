//===- ObjectLoader.h - Run compiled objects in process ---------*- C++ -*-===//
//
// Links an object file produced by emitObjectFile into the running process
// (LLVM ORC's LLJIT, resolving libc/libm symbols from the process) so that
// its entry points can be called directly. The e2e tests use it to run
// exactly the code an AOT build would link, and the driver can use it to
// train without writing an executable.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_CPU_OBJECTLOADER_H
#define DLC_TARGET_CPU_OBJECTLOADER_H

#include "dlc/Target/CPU/CPUTarget.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

namespace llvm::orc {
class LLJIT;
} // namespace llvm::orc

namespace mlir::dlc {

/// An object file linked into this process. Its code stays valid as long as
/// the LoadedObject lives.
class LoadedObject {
public:
  ~LoadedObject();

  /// Links `object` (an ELF object for the host) into the process.
  static llvm::Expected<std::unique_ptr<LoadedObject>>
  load(std::unique_ptr<llvm::MemoryBuffer> object);

  /// The address of `symbol` (e.g. "_mlir_ciface_forward").
  llvm::Expected<void *> lookup(llvm::StringRef symbol);

  /// The C entry point of the compiled func.func @`name`, as a function
  /// pointer of type `Fn` (see the calling convention in CPUTarget.h).
  template <typename Fn>
  llvm::Expected<Fn *> lookupEntryPoint(llvm::StringRef name) {
    auto address = lookup(("_mlir_ciface_" + name).str());
    if (!address)
      return address.takeError();
    return reinterpret_cast<Fn *>(*address);
  }

private:
  explicit LoadedObject(std::unique_ptr<llvm::orc::LLJIT> jit);
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

/// Compiles `module` (dlc and/or linalg ops) through every stage of the CPU
/// target in process and links the object: the in-memory twin of
/// compileToObjectFile + linking. `module` is lowered in place.
llvm::Expected<std::unique_ptr<LoadedObject>>
compileAndLoad(ModuleOp module, const CPUPipelineOptions &options = {});

} // namespace mlir::dlc

#endif // DLC_TARGET_CPU_OBJECTLOADER_H
