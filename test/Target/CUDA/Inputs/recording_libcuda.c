/* A stand-in libcuda.so.1 for testing the runtime's CUDA device without a
 * GPU: device memory is host memory, kernels do nothing, and every call the
 * runtime makes is counted. At exit the counts go to $FAKE_CUDA_LOG as
 * "name value" lines. The losses of a run are meaningless (no kernel runs);
 * what is tested is the sequence of driver calls. Streams are told apart
 * (the runtime has one for the steps and one for batch prefetches), and a
 * copy on the stream being captured is refused as CUDA refuses it; the
 * counters are atomic (the prefetch thread copies too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long CUdeviceptr;
static void *_Atomic capturing; /* the stream being captured, or null */
static _Atomic long counts[16];
enum { ALLOC, ALLOC_IN_CAPTURE, FREE, MODULE_CUBIN, MODULE_PTX, LAUNCH,
       LAUNCH_IN_CAPTURE, CAPTURES, GRAPH_LAUNCH, HTOD, DTOH,
       HTOD_OTHER_STREAM, STREAM_WAITS, LAST = STREAM_WAITS };
static const char *names[] = {"alloc", "alloc_in_capture", "free",
                              "module_cubin", "module_ptx", "launch",
                              "launch_in_capture", "captures", "graph_launch",
                              "htod", "dtoh", "htod_other_stream",
                              "stream_waits"};
static int token;
static int streams[8], events[8];
static _Atomic int numStreams, numEvents;

__attribute__((destructor)) static void report(void) {
  const char *path = getenv("FAKE_CUDA_LOG");
  FILE *f = path ? fopen(path, "w") : NULL;
  if (!f)
    return;
  for (int i = 0; i <= LAST; ++i)
    fprintf(f, "%s %ld\n", names[i], counts[i]);
  fclose(f);
}

int cuInit(unsigned flags) { return 0; }
int cuDeviceGetCount(int *n) { *n = 1; return 0; }
int cuDeviceGet(int *d, int ordinal) { *d = ordinal; return 0; }
int cuDeviceGetName(char *name, int len, int d) {
  strncpy(name, "Fake GPU", len);
  return 0;
}
int cuDeviceGetAttribute(int *v, int attribute, int d) {
  *v = attribute == 75 ? 9 : 0;
  return 0;
}
int cuDevicePrimaryCtxRetain(void **ctx, int d) { *ctx = &token; return 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { return 0; }
int cuCtxSetCurrent(void *ctx) { return 0; }
int cuStreamCreate(void **s, unsigned flags) {
  *s = &streams[numStreams++ % 8];
  return 0;
}
int cuStreamDestroy_v2(void *s) { return 0; }
int cuStreamSynchronize(void *s) { return capturing ? 900 : 0; }
int cuEventCreate(void **e, unsigned flags) {
  *e = &events[numEvents++ % 8];
  return 0;
}
int cuEventRecord(void *e, void *s) { return s == capturing ? 900 : 0; }
int cuEventDestroy_v2(void *e) { return 0; }
int cuStreamWaitEvent(void *s, void *e, unsigned flags) {
  ++counts[STREAM_WAITS];
  return capturing ? 900 : 0; /* outside captures only */
}
int cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  ++counts[capturing ? ALLOC_IN_CAPTURE : ALLOC];
  void *m = aligned_alloc(256, (bytes + 255) / 256 * 256);
  *p = (CUdeviceptr)m;
  return m ? 0 : 2;
}
int cuMemFree_v2(CUdeviceptr p) { ++counts[FREE]; free((void *)p); return 0; }
int cuMemAllocHost_v2(void **p, size_t bytes) {
  *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
  return *p ? 0 : 2;
}
int cuMemFreeHost(void *p) { free(p); return 0; }
int cuMemsetD8Async(CUdeviceptr p, unsigned char v, size_t n, void *s) {
  memset((void *)p, v, n);
  return 0;
}
int cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *h, size_t n, void *s) {
  ++counts[s == (void *)&streams[0] ? HTOD : HTOD_OTHER_STREAM];
  memcpy((void *)d, h, n);
  return s == capturing ? 900 : 0;
}
int cuMemcpyDtoHAsync_v2(void *h, CUdeviceptr d, size_t n, void *s) {
  ++counts[DTOH];
  memcpy(h, (void *)d, n);
  return capturing ? 900 : 0;
}
int cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void *st) {
  memcpy((void *)d, (void *)s, n);
  return 0;
}
int cuModuleLoadData(void **m, const void *image) {
  if (getenv("FAKE_CUDA_REJECT_CUBIN"))
    return 209; /* CUDA_ERROR_NO_BINARY_FOR_GPU */
  /* An ELF cubin starts with \x7fELF. */
  if (memcmp(image, "\x7f" "ELF", 4) != 0)
    return 200; /* CUDA_ERROR_INVALID_IMAGE */
  ++counts[MODULE_CUBIN];
  *m = &token;
  return 0;
}
int cuModuleLoadDataEx(void **m, const void *ptx, unsigned n, int *o,
                       void **v) {
  if (strstr((const char *)ptx, ".entry") == NULL)
    return 218; /* CUDA_ERROR_INVALID_PTX */
  ++counts[MODULE_PTX];
  *m = &token;
  return 0;
}
int cuModuleUnload(void *m) { return 0; }
int cuModuleGetFunction(void **f, void *m, const char *name) {
  *f = &token;
  return 0;
}
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz,
                   unsigned bx, unsigned by, unsigned bz, unsigned shared,
                   void *s, void **params, void **extra) {
  if (gx == 0 || bx == 0 || bx > 1024 || !params)
    return 1; /* CUDA_ERROR_INVALID_VALUE */
  ++counts[capturing ? LAUNCH_IN_CAPTURE : LAUNCH];
  return 0;
}
int cuStreamBeginCapture_v2(void *s, int mode) {
  capturing = s;
  ++counts[CAPTURES];
  return 0;
}
int cuStreamEndCapture(void *s, void **graph) {
  capturing = NULL;
  *graph = &token;
  return 0;
}
int cuGraphInstantiateWithFlags(void **exec, void *graph,
                                unsigned long long flags) {
  *exec = &token;
  return 0;
}
int cuGraphLaunch(void *exec, void *s) { ++counts[GRAPH_LAUNCH]; return 0; }
int cuGraphDestroy(void *g) { return 0; }
int cuGraphExecDestroy(void *e) { return 0; }
int cuGetErrorName(int e, const char **name) { *name = "CUDA_ERROR_FAKE"; return 0; }
int cuGetErrorString(int e, const char **s) { *s = "fake error"; return 0; }
