/* The main job's computation (see blur.h). */
#include "blur.h"

#include <string.h>

static const blur_kernel_t kernels[] = {
    {"gauss5", 2, {1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f}},
    {"box3", 1, {1 / 3.f, 1 / 3.f, 1 / 3.f}},
};

const blur_kernel_t *blur_find_kernel(const char *name) {
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
    if (strcmp(kernels[i].name, name) == 0) return &kernels[i];
  return NULL;
}

/* i + t clamped to [0, n - 1], in unsigned arithmetic: row and column
 * numbers are any size_t (above LONG_MAX, above 2^31 on 32-bit systems),
 * and a signed detour would wrap them negative. n > 0, |t| <= radius. */
static size_t clamp_index(size_t i, int t, size_t n) {
  size_t step = (size_t)(t < 0 ? -t : t);
  if (t < 0) return i < step ? 0 : i - step < n ? i - step : n - 1;
  return i >= n - 1 || n - 1 - i <= step ? n - 1 : i + step;
}

int blur_rows(const blur_kernel_t *k, const char *in, size_t in_row0, size_t in_rows,
              ptrdiff_t in_pitch, char *out, ptrdiff_t out_pitch, size_t row0, size_t row1,
              size_t height, size_t width, float *tmp, blur_progress_t *progress) {
  int r = k->radius;
  for (size_t y = row0; y < row1; y++) {
    for (size_t x = 0; x < width; x++) tmp[x] = 0;
    for (int t = -r; t <= r; t++) {
      size_t src = clamp_index(y, t, height);
      /* Only rows of the input view: a row outside it is the caller's
       * bad arguments, never a read before or after the view. */
      if (src < in_row0 || src - in_row0 >= in_rows) return -1;
      const float *row = (const float *)(in + (ptrdiff_t)(src - in_row0) * in_pitch);
      float w = k->weights[t + r];
      for (size_t x = 0; x < width; x++) tmp[x] += w * row[x];
    }
    float *dst = (float *)(out + (ptrdiff_t)(y - row0) * out_pitch);
    for (size_t x = 0; x < width; x++) {
      float acc = 0;
      for (int t = -r; t <= r; t++) acc += k->weights[t + r] * tmp[clamp_index(x, t, width)];
      dst[x] = acc;
    }
    if (progress) *progress = y - row0 + 1;
  }
  return 0;
}

void blur_synthesize(float *img, size_t row0, size_t row1, size_t h, size_t w) {
  for (size_t y = row0; y < row1; y++)
    for (size_t x = 0; x < w; x++) {
      size_t dx = x > w / 2 ? x - w / 2 : w / 2 - x;
      size_t dy = y > h / 2 ? y - h / 2 : h / 2 - y;
      img[(y - row0) * w + x] = (float)((dx * dx + dy * dy) / 64 % 256) +
                                0.25f * (float)((x * 7 ^ y * 13) & 31) + (float)x / (float)w;
    }
}
