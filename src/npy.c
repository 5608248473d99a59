/*
 * NumPy .npy files: a view written out, an array created from one.
 *
 * The format (numpy/lib/format.py): the magic "\x93NUMPY", a major and a
 * minor version byte, the header's length (version 1: 2 bytes, 2 and 3: 4
 * bytes, little-endian), then the header, a Python dict literal such as
 * "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" padded
 * with spaces and one '\n' so that the data starts at a multiple of 64
 * bytes, then the elements in C (or Fortran) order.
 *
 * Bytes come and go through the caller's callbacks, so the library opens
 * no file. Headers are parsed from a bounded buffer (SMA__NPY_HEADER_MAX),
 * never trusted: every field is checked, sizes are overflow-checked, and a
 * stream that ends early leaves no segment behind.
 */
#include "sma_int.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
enum { ALIGN = 64, GROWTH_AXIS_MAX_DIGITS = 21, CHUNK = 1 << 16 };

/* ---- the header --------------------------------------------------------- */

static const char *skip(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* A quoted Python string ('...' or "...", no escapes) into out[cap]. */
static const char *quoted(const char *p, const char *end, char *out, size_t cap) {
  if (p >= end || (*p != '\'' && *p != '"')) return NULL;
  char q = *p++;
  size_t n = 0;
  while (p < end && *p != q) {
    if (*p == '\\' || n + 1 >= cap) return NULL;
    out[n++] = *p++;
  }
  if (p >= end) return NULL;
  out[n] = '\0';
  return p + 1;
}

/* True or False. */
static const char *boolean(const char *p, const char *end, bool *out) {
  if (end - p >= 4 && memcmp(p, "True", 4) == 0) return *out = true, p + 4;
  if (end - p >= 5 && memcmp(p, "False", 5) == 0) return *out = false, p + 5;
  return NULL;
}

/* A tuple of non-negative integers, "()", "(7,)" or "(3, 4)", through the
 * one shape parser. */
static const char *tuple(const char *p, const char *end, sma__npy_header_t *h, int *rc) {
  const char *close = p < end && *p == '(' ? memchr(p, ')', (size_t)(end - p)) : NULL;
  if (close == NULL || close - p > 512) return NULL;
  char text[520];
  memcpy(text, p, (size_t)(close - p + 1));
  text[close - p + 1] = '\0';
  int r = sma_shape_parse(h->shape, SMA_MAX_DIMS, &h->ndim, text);
  if (r == SMA_ENDIM || r == SMA_EOVERFLOW) *rc = r;
  return r == 0 ? close + 1 : NULL;
}

/* The dtype of a descr, and whether its byte order is the other one. */
static int descr_dtype(const char *descr, sma__npy_header_t *h) {
  int rc = sma_dtype_parse(&h->dtype, descr);
  h->swap = false;
  if (rc != SMA_EBYTEORDER) return rc == 0 ? 0 : SMA_EDTYPE;
  char flipped[16];
  if (strlen(descr) >= sizeof flipped) return SMA_EDTYPE;
  strcpy(flipped, descr);
  flipped[0] = flipped[0] == '<' ? '>' : '<'; /* '>' and '!' are big-endian */
  h->swap = true;
  return sma_dtype_parse(&h->dtype, flipped) == 0 ? 0 : SMA_EDTYPE;
}

/* The dict: exactly the keys descr, fortran_order and shape, once each. */
static int parse_dict(const char *p, const char *end, sma__npy_header_t *h) {
  int seen = 0, rc = SMA_ENPY;
  char descr[64] = "";
  p = skip(p, end);
  if (p >= end || *p++ != '{') return SMA_ENPY;
  for (;;) {
    p = skip(p, end);
    if (p < end && *p == '}') break;
    char key[32];
    if ((p = quoted(p, end, key, sizeof key)) == NULL) return SMA_ENPY;
    p = skip(p, end);
    if (p >= end || *p++ != ':') return SMA_ENPY;
    p = skip(p, end);
    int bit = strcmp(key, "descr") == 0           ? 1
              : strcmp(key, "fortran_order") == 0 ? 2
              : strcmp(key, "shape") == 0         ? 4
                                                  : 0;
    if (bit == 0 || (seen & bit)) return SMA_ENPY;
    seen |= bit;
    if (bit == 1 && p < end && *p == '[') return SMA_EDTYPE; /* structured */
    if (bit == 1) p = quoted(p, end, descr, sizeof descr);
    if (bit == 2) p = boolean(p, end, &h->fortran);
    if (bit == 4) p = tuple(p, end, h, &rc);
    if (p == NULL) return bit == 1 ? SMA_EDTYPE : rc;
    p = skip(p, end);
    if (p < end && *p == ',')
      p++;
    else if (p >= end || *p != '}')
      return SMA_ENPY;
  }
  if (skip(p + 1, end) != end || seen != 7) return SMA_ENPY;
  return descr_dtype(descr, h);
}

static uint32_t get_le(const unsigned char *b, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

int sma__npy_prefix(const unsigned char *buf, size_t n, size_t *header_len, size_t *prefix_len) {
  if (n < 10 || memcmp(buf, MAGIC, sizeof MAGIC) != 0) return SMA_ENPY;
  int major = buf[6];
  if (buf[7] != 0 || major < 1 || major > 3) return SMA_ENPY;
  *prefix_len = major == 1 ? 10 : 12;
  if (n < *prefix_len) return SMA_ENPY;
  *header_len = get_le(buf + 8, major == 1 ? 2 : 4);
  return *header_len > SMA__NPY_HEADER_MAX ? SMA_ENPY : 0;
}

int sma__npy_header_parse(const unsigned char *buf, size_t n, sma__npy_header_t *h) {
  memset(h, 0, sizeof *h);
  size_t header_len, prefix_len;
  int rc = sma__npy_prefix(buf, n, &header_len, &prefix_len);
  if (rc != 0) return rc;
  if (n - prefix_len < header_len) return SMA_ENPY;
  const char *text = (const char *)buf + prefix_len;
  if (memchr(text, '\0', header_len) != NULL) return SMA_ENPY;
  if ((rc = parse_dict(text, text + header_len, h)) != 0) return rc;
  h->data_offset = prefix_len + header_len;
  return sma__array_bytes(h->ndim, h->shape, sma_dtype_size(h->dtype), &h->data_bytes);
}

/* ---- writing ----------------------------------------------------------- */

static void put_tuple(sma__text_t *t, const size_t *shape, size_t ndim) {
  sma__text_put(t, "(");
  for (size_t d = 0; d < ndim; d++)
    sma__text_putf(t, d == 0 ? "%llu" : ", %llu", (unsigned long long)shape[d]);
  sma__text_put(t, ndim == 1 ? ",)" : ")");
}

/* The whole preamble for a C-order array, as NumPy writes it (keys
 * sorted, room for the first axis to grow to 21 digits, padding to 64,
 * version 1.0 unless the header needs more than 65535 bytes). */
static int preamble(const sma_view_t *v, unsigned char *out, size_t cap, size_t *len) {
  char dict[1024];
  sma__text_t t;
  size_t size = sizeof dict;
  sma__text_begin(&t, dict, &size);
  sma__text_putf(&t, "{'descr': '%s', 'fortran_order': False, 'shape': ", sma_dtype_str(v->dtype));
  put_tuple(&t, v->shape, v->ndim);
  sma__text_put(&t, ", }");
  if (v->ndim > 0) {
    int digits = 1;
    for (size_t n = v->shape[0]; n >= 10; n /= 10) digits++;
    for (int i = digits; i < GROWTH_AXIS_MAX_DIGITS; i++) sma__text_put(&t, " ");
  }
  if (sma__text_end(&t, &size) != 0) return SMA_EOVERFLOW;
  size_t prefix = size + 1 > 65535 - 10 ? 12 : 10;
  size_t total = (prefix + size + 1 + ALIGN - 1) / ALIGN * ALIGN; /* +1: the '\n' */
  if (total > cap) return SMA_EOVERFLOW;
  size_t header_len = total - prefix;
  memcpy(out, MAGIC, sizeof MAGIC);
  out[6] = prefix == 10 ? 1 : 2;
  out[7] = 0;
  for (size_t i = 0; i < prefix - 8; i++) out[8 + i] = (unsigned char)(header_len >> (8 * i));
  memcpy(out + prefix, dict, size);
  memset(out + prefix + size, ' ', header_len - size - 1);
  out[total - 1] = '\n';
  *len = total;
  return 0;
}

typedef struct sink {
  sma_write_fn write;
  void *user;
  unsigned char *buf;
  size_t used;
} sink_t;

static int flush(sink_t *s) {
  if (s->used == 0) return 0;
  size_t n = s->used;
  s->used = 0;
  return s->write(s->buf, n, s->user) == n ? 0 : SMA_EIO;
}

/* Every element of the view in C order, through a CHUNK-byte buffer; the
 * last dimension is copied in one piece where it is contiguous. */
static int put_elements(sink_t *s, const sma_view_t *v) {
  size_t count = 1, item = v->itemsize;
  for (size_t d = 0; d < v->ndim; d++) count *= v->shape[d];
  if (count == 0) return 0;
  size_t inner = v->ndim ? v->shape[v->ndim - 1] : 1;
  ptrdiff_t inner_stride = v->ndim ? v->strides[v->ndim - 1] : (ptrdiff_t)item;
  size_t index[SMA_MAX_DIMS] = {0};
  for (size_t row = 0; row < count / inner; row++) {
    const unsigned char *p = v->data;
    for (size_t d = 0; d + 1 < v->ndim; d++) p += (ptrdiff_t)index[d] * v->strides[d];
    for (size_t j = 0; j < inner;) {
      if (s->used + item > CHUNK) {
        int rc = flush(s);
        if (rc != 0) return rc;
      }
      size_t take = 1;
      if (inner_stride == (ptrdiff_t)item) {
        take = (CHUNK - s->used) / item;
        if (take > inner - j) take = inner - j;
      }
      memcpy(s->buf + s->used, p + (ptrdiff_t)j * inner_stride, take * item);
      s->used += take * item;
      j += take;
    }
    for (size_t d = v->ndim > 1 ? v->ndim - 1 : 0; d-- > 0;) { /* next row: odometer */
      if (++index[d] < v->shape[d]) break;
      index[d] = 0;
    }
  }
  return flush(s);
}

int sma_npy_write(const sma_t *a, sma_write_fn write, void *user) {
  if (a == NULL || write == NULL) return SMA_EINVAL;
  const sma_view_t *v = sma_view_get(a);
  if (v == NULL) return SMA_ESTATE;
  unsigned char *buf = malloc(CHUNK);
  if (buf == NULL) return SMA_ENOMEM;
  sink_t s = {write, user, buf, 0};
  int rc = preamble(v, buf, CHUNK, &s.used);
  if (rc == 0) rc = flush(&s);
  if (rc == 0) rc = put_elements(&s, v);
  free(buf);
  return rc;
}

/* ---- reading ----------------------------------------------------------- */

static int get(sma_read_fn read, void *user, void *buf, size_t n) {
  return n == 0 || read(buf, n, user) == n ? 0 : SMA_ENPY;
}

static void swap_bytes(unsigned char *p, size_t count, size_t item, size_t unit) {
  /* complex numbers swap each of their two halves */
  for (size_t e = 0; e < count * (item / unit); e++, p += unit)
    for (size_t i = 0; i < unit / 2; i++) {
      unsigned char t = p[i];
      p[i] = p[unit - 1 - i];
      p[unit - 1 - i] = t;
    }
}

/* The data, in file order, into the C-order array at dst: a straight read
 * for C order, a scatter for Fortran order (first index fastest). */
static int get_data(sma_read_fn read, void *user, const sma__npy_header_t *h, unsigned char *dst) {
  size_t item = sma_dtype_size(h->dtype), count = h->data_bytes / (item ? item : 1);
  size_t unit = h->dtype == SMA_COMPLEX64 || h->dtype == SMA_COMPLEX128 ? item / 2 : item;
  if (!h->fortran || h->ndim < 2) {
    int rc = get(read, user, dst, h->data_bytes);
    if (rc == 0 && h->swap) swap_bytes(dst, count, item, unit);
    return rc;
  }
  unsigned char *buf = malloc(CHUNK);
  if (buf == NULL) return SMA_ENOMEM;
  size_t cstride[SMA_MAX_DIMS], index[SMA_MAX_DIMS] = {0};
  cstride[h->ndim - 1] = item;
  for (size_t d = h->ndim - 1; d-- > 0;) cstride[d] = cstride[d + 1] * h->shape[d + 1];
  int rc = 0;
  for (size_t done = 0; rc == 0 && done < count;) {
    size_t take = count - done < CHUNK / item ? count - done : CHUNK / item;
    if ((rc = get(read, user, buf, take * item)) != 0) break;
    if (h->swap) swap_bytes(buf, take, item, unit);
    for (size_t k = 0; k < take; k++) {
      size_t off = 0;
      for (size_t d = 0; d < h->ndim; d++) off += index[d] * cstride[d];
      memcpy(dst + off, buf + k * item, item);
      for (size_t d = 0; d < h->ndim && ++index[d] == h->shape[d]; d++) index[d] = 0;
    }
    done += take;
  }
  free(buf);
  return rc;
}

/* The preamble from the stream into *h, bounded by SMA__NPY_HEADER_MAX. */
static int get_header(sma_read_fn read, void *user, sma__npy_header_t *h) {
  unsigned char start[12] = {0};
  size_t header_len, prefix_len;
  int rc = get(read, user, start, 10);
  if (rc == 0) rc = sma__npy_prefix(start, sizeof start, &header_len, &prefix_len);
  if (rc == 0 && prefix_len == 12) rc = get(read, user, start + 10, 2);
  if (rc == 0) rc = sma__npy_prefix(start, prefix_len, &header_len, &prefix_len);
  if (rc != 0) return rc;
  unsigned char *buf = malloc(prefix_len + header_len);
  if (buf == NULL) return SMA_ENOMEM;
  memcpy(buf, start, prefix_len);
  rc = get(read, user, buf + prefix_len, header_len);
  if (rc == 0) rc = sma__npy_header_parse(buf, prefix_len + header_len, h);
  free(buf);
  return rc;
}

/* The stream's data, poured into a new segment before it is published. */
typedef struct pour {
  sma_read_fn read;
  void *user;
  const sma__npy_header_t *h;
} pour_t;

static int pour(const sma_view_t *view, void *user) {
  const pour_t *p = user;
  return get_data(p->read, p->user, p->h, view->data);
}

int sma_npy_read(sma_t **out, const char *name, unsigned flags, sma_read_fn read, void *user) {
  if (out == NULL) return SMA_EINVAL;
  *out = NULL;
  if (name == NULL || read == NULL) return SMA_EINVAL;
  sma__npy_header_t h;
  int rc = get_header(read, user, &h);
  if (rc != 0) return rc;
  sma_t *a;
  if ((rc =
           sma_new(&a, &(sma_array_desc_t){
                           .name = name, .ndim = h.ndim, .shape = h.shape, .dtype = h.dtype})) != 0)
    return rc;
  /* The name appears only once every byte is in: a load killed or cut
   * short midway leaves nothing a reader could take for the array. */
  pour_t p = {read, user, &h};
  if ((rc = sma_create_filled(a, flags, pour, &p)) != 0) {
    sma_free(a);
    return rc;
  }
  *out = a;
  return 0;
}
