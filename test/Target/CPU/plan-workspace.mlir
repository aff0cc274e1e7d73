// RUN: dlc-opt %s --dlc-cpu-plan-workspace -split-input-file | FileCheck %s

// Three temporaries: %a dies when %c is allocated, so %c reuses its bytes;
// %b is live throughout and gets its own. The deallocs go.

// CHECK: memref.global "private" @__dlc_workspace : memref<8192xi8> = uninitialized {alignment = 64 : i64}
// CHECK-LABEL: func.func @reuse
// CHECK: %[[WS:.*]] = memref.get_global @__dlc_workspace : memref<8192xi8>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C4096:.*]] = arith.constant 4096 : index
// CHECK-NOT: memref.alloc
// CHECK: %[[A:.*]] = memref.view %[[WS]][%[[C0]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[B:.*]] = memref.view %[[WS]][%[[C4096]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.copy %{{.*}}, %[[A]]
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: %[[C:.*]] = memref.view %[[WS]][%[[C0]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.copy %[[B]], %[[C]]
// CHECK: memref.copy %[[C]], %arg1
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @reuse(%in: memref<1024xf32>, %out: memref<1024xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %in, %a : memref<1024xf32> to memref<1024xf32>
  memref.copy %a, %b : memref<1024xf32> to memref<1024xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %b, %c : memref<1024xf32> to memref<1024xf32>
  memref.copy %c, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}

// -----

// A use through a view, inside a loop, keeps the buffer live until that
// loop ends: %u, allocated before the loop, may not take %t's bytes; %w,
// allocated after it, may.

// CHECK-LABEL: func.func @view_in_loop
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %{{.*}}[%[[C0]]][] : memref<128xi8> to memref<4x4xf32>
// CHECK: memref.view %{{.*}}[%[[C64]]][] : memref<128xi8> to memref<16xf32>
// CHECK: scf.for
// CHECK: memref.view %{{.*}}[%[[C0]]][] : memref<128xi8> to memref<16xf32>
func.func @view_in_loop(%in: memref<4x4xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %t = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %t : memref<4x4xf32> to memref<4x4xf32>
  %flat = memref.collapse_shape %t [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  %u = memref.alloc() : memref<16xf32>
  memref.copy %out, %u : memref<16xf32> to memref<16xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %flat[%i] : memref<16xf32>
    memref.store %v, %out[%i] : memref<16xf32>
  }
  %w = memref.alloc() : memref<16xf32>
  memref.copy %u, %w : memref<16xf32> to memref<16xf32>
  memref.copy %w, %out : memref<16xf32> to memref<16xf32>
  memref.dealloc %t : memref<4x4xf32>
  memref.dealloc %u : memref<16xf32>
  memref.dealloc %w : memref<16xf32>
  return
}

// -----

// Left to the allocator: a dynamic size, an allocation inside a loop (one
// per iteration, possibly on another thread), and a returned buffer. A
// buffer passed to a call stays live to the end of the function.

// CHECK-LABEL: func.func @left_alone
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.view {{.*}} to memref<8xf32>
// CHECK: call @keep
// CHECK: memref.view {{.*}} to memref<8xf32>
// CHECK: scf.for
// CHECK: memref.alloc() : memref<2xf32>
// CHECK: %[[R:.*]] = memref.alloc() : memref<4xf32>
// CHECK: return %[[R]]
func.func private @keep(memref<8xf32>)
func.func @left_alone(%n: index, %in: memref<8xf32>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %d : memref<?xf32>
  %kept = memref.alloc() : memref<8xf32>
  memref.copy %in, %kept : memref<8xf32> to memref<8xf32>
  func.call @keep(%kept) : (memref<8xf32>) -> ()
  %later = memref.alloc() : memref<8xf32>
  memref.copy %in, %later : memref<8xf32> to memref<8xf32>
  scf.for %i = %c0 to %n step %c1 {
    %p = memref.alloc() : memref<2xf32>
    memref.dealloc %p : memref<2xf32>
  }
  %r = memref.alloc() : memref<4xf32>
  memref.dealloc %kept : memref<8xf32>
  memref.dealloc %later : memref<8xf32>
  return %r : memref<4xf32>
}

// -----

// Functions that do not call each other share one workspace, as large as
// the largest plan (the runtime runs one compiled function at a time).

// CHECK: memref.global "private" @__dlc_workspace : memref<256xi8>
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @small
// CHECK: memref.get_global @__dlc_workspace : memref<256xi8>
// CHECK-LABEL: func.func @large
// CHECK: memref.get_global @__dlc_workspace : memref<256xi8>
func.func @small(%in: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %in, %a : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}
func.func @large(%in: memref<64xf32>) {
  %a = memref.alloc() : memref<64xf32>
  memref.copy %in, %a : memref<64xf32> to memref<64xf32>
  memref.dealloc %a : memref<64xf32>
  return
}

// -----

// A function that calls another defined function: each gets its own, so
// that the callee cannot overwrite the caller's live temporaries.

// CHECK-DAG: memref.global "private" @__dlc_workspace_callee : memref<16xi8>
// CHECK-DAG: memref.global "private" @__dlc_workspace_caller : memref<16xi8>
// CHECK-LABEL: func.func @callee
// CHECK: memref.get_global @__dlc_workspace_callee
// CHECK-LABEL: func.func @caller
// CHECK: memref.get_global @__dlc_workspace_caller
func.func @callee(%in: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %in, %a : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}
func.func @caller(%in: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %in, %a : memref<4xf32> to memref<4xf32>
  call @callee(%in) : (memref<4xf32>) -> ()
  memref.copy %a, %in : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}

// -----

// An all-reduce bucket in flight (dlc.all_reduce_start / wait lowered to
// runtime calls): the communication thread writes %bucket between the two
// calls, so %tmp, a temporary that lives and dies between them, may not
// take its bytes; the wait's use keeps %bucket live until the wait at
// least (and the call rule, to the end).

// CHECK: memref.global "private" @__dlc_workspace : memref<8192xi8>
// CHECK-LABEL: func.func @in_flight
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C4096:.*]] = arith.constant 4096 : index
// CHECK: %[[BUCKET:.*]] = memref.view %{{.*}}[%[[C0]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: call @dlc_rt_all_reduce_start_f32
// CHECK: %[[TMP:.*]] = memref.view %{{.*}}[%[[C4096]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.copy %[[TMP]], %arg1
// CHECK: call @dlc_rt_all_reduce_wait_f32
// CHECK: memref.copy %[[BUCKET]], %arg1
func.func private @dlc_rt_all_reduce_start_f32(memref<?xf32>, i32, i64)
func.func private @dlc_rt_all_reduce_wait_f32(memref<?xf32>, i64)
func.func @in_flight(%in: memref<1024xf32>, %out: memref<1024xf32>) {
  %mean = arith.constant 1 : i32
  %b0 = arith.constant 0 : i64
  %bucket = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %in, %bucket : memref<1024xf32> to memref<1024xf32>
  %dyn = memref.cast %bucket : memref<1024xf32> to memref<?xf32>
  func.call @dlc_rt_all_reduce_start_f32(%dyn, %mean, %b0) : (memref<?xf32>, i32, i64) -> ()
  %tmp = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %in, %tmp : memref<1024xf32> to memref<1024xf32>
  memref.copy %tmp, %out : memref<1024xf32> to memref<1024xf32>
  func.call @dlc_rt_all_reduce_wait_f32(%dyn, %b0) : (memref<?xf32>, i64) -> ()
  memref.copy %bucket, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %tmp : memref<1024xf32>
  memref.dealloc %bucket : memref<1024xf32>
  return
}
