//===- Profile.h - Per-kernel times of a profiled model --------*- C++ -*-===//
//
// A model compiled with `dlc compile --profile` calls dlc_profile_enter(id)
// and dlc_profile_exit(id) around each kernel (dlc-cpu-instrument-kernels)
// and describes its kernels in the string dlc_profile_kernels. The runtime
// accumulates the wall-clock time per kernel and prints one table.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PROFILE_H
#define DLC_RUNTIME_PROFILE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace dlc::runtime {

/// Whether the linked model was compiled with --profile.
bool hasKernelProfile();

/// Forgets the times measured so far (e.g. after warm-up steps).
void resetKernelProfile();

/// Prints the kernels by time, with their share of the time of their
/// function, time per call, GFLOP/s and GB/s, and the total per function;
/// `top` limits the rows (0: all).
llvm::Error printKernelProfile(llvm::raw_ostream &os, size_t top = 0);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_PROFILE_H
