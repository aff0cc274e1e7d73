// The machine's fp32 FMA peak, measured (bench/peers.py compiles and runs
// it): 12 independent FMA chains per thread (enough to cover the FMA latency
// on two ports), AVX-512 when compiled with -mavx512f, else AVX2. Prints
// "single ALL" GFLOP/s: one thread, then one thread per core at once.
//   clang -O3 -mavx512f -mfma fma_peak.c -o fma_peak -lpthread
//   ./fma_peak THREADS
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef __AVX512F__
typedef __m512 V;
enum { kLanes = 16 };
#define FMA _mm512_fmadd_ps
#define SET _mm512_set1_ps
#define SUM(v) _mm512_reduce_add_ps(v)
#else
typedef __m256 V;
enum { kLanes = 8 };
#define FMA _mm256_fmadd_ps
#define SET _mm256_set1_ps
static float SUM(V v) {
  float t[8];
  _mm256_storeu_ps(t, v);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

enum { kChains = 12 };
static const long kIters = 40L * 1000 * 1000;
static volatile float sink;

static void *work(void *arg) {
  (void)arg;
  V a[kChains];
  for (int i = 0; i < kChains; ++i)
    a[i] = SET(1.0f + i * 1e-3f);
  V b = SET(0.9999999f), c = SET(1e-7f);
  for (long n = 0; n < kIters; ++n) {
    for (int i = 0; i < kChains; ++i)
      a[i] = FMA(a[i], b, c);
    // Keeps the compiler from folding or reordering the chains away.
    for (int i = 0; i < kChains; ++i)
      __asm__ volatile("" : "+x"(a[i]));
  }
  float s = 0;
  for (int i = 0; i < kChains; ++i)
    s += SUM(a[i]);
  sink = s;
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/// Best of three runs of `threads` threads at once, in GFLOP/s.
static double measure(int threads) {
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    pthread_t ids[256];
    double start = now();
    for (int t = 0; t < threads; ++t)
      pthread_create(&ids[t], NULL, work, NULL);
    for (int t = 0; t < threads; ++t)
      pthread_join(ids[t], NULL);
    double flops = 2.0 * kLanes * kChains * (double)kIters * threads;
    double g = flops / (now() - start) / 1e9;
    if (g > best)
      best = g;
  }
  return best;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256)
    threads = 1;
  printf("%.1f %.1f %d\n", measure(1), measure(threads), (int)kLanes * 32);
  return 0;
}
