/* Descriptors: an array object as one printable line, and back. */
#include "sma_int.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX "sma/"

int sma_describe(const sma_t *a, char *buf, size_t *size) {
  if (a == NULL) return SMA_EINVAL;
  sma__text_t out;
  int rc = sma__text_begin(&out, buf, size);
  if (rc != 0) return rc;
  char shape[SMA_MAX_DIMS * 21 + 3], slice[SMA_MAX_DIMS * 64];
  size_t shape_len = sizeof shape, slice_len = sizeof slice, nslice;
  const sma_slice_t *slices = sma_slice_get(a, &nslice);
  if ((rc = sma_shape_format(sma_shape(a), sma_ndim(a), shape, &shape_len)) != 0 ||
      (rc = sma_slice_format(slices, nslice, slice, &slice_len)) != 0)
    return rc;
  /* The dtype's name, not its type string: native order is implied (the
   * segment's record says which order its data has, and is checked at
   * load), so the line is the same text on every machine. */
  /* Version 1 unless there is a flag to carry, so that readers which
   * know only version 1 take every line they can represent. */
  bool persistent = sma_is_persistent(a) != 0;
  sma__text_putf(&out, PREFIX "%d backend=", persistent ? SMA_DESCRIPTOR_VERSION : 1);
  sma__text_put(&out, sma_backend());
  sma__text_put(&out, " dtype=");
  sma__text_put(&out, sma_dtype_name(sma_dtype_get(a)));
  sma__text_put(&out, " shape=");
  sma__text_put(&out, shape);
  sma__text_put(&out, " slice=");
  sma__text_put(&out, slice);
  if (persistent) sma__text_put(&out, " persistent=1");
  sma__text_put(&out, " name=");
  sma__text_put(&out, sma_name(a));
  return sma__text_end(&out, size);
}

/* Expects "key=" at *p; on success *value and *len span the value up to the
 * next space (or the end of the line when `rest` is set). */
static int field(const char **p, const char *key, int rest, const char **value, size_t *len) {
  size_t klen = strlen(key);
  if (strncmp(*p, key, klen) != 0 || (*p)[klen] != '=') return SMA_EDESCRIPTOR;
  const char *v = *p + klen + 1;
  size_t n = rest ? strcspn(v, "\r\n") : strcspn(v, " \r\n");
  *value = v;
  *len = n;
  *p = v + n;
  if (!rest) {
    if (**p != ' ') return SMA_EDESCRIPTOR;
    ++*p;
  }
  return 0;
}

/* Copies a field into a NUL-terminated buffer; false if it is too long. */
static bool copy_field(char *dst, size_t cap, const char *v, size_t len) {
  if (len >= cap) return false;
  memcpy(dst, v, len);
  dst[len] = '\0';
  return true;
}

int sma_parse(sma_t **out, const char **bad_field, const char *line) {
  const char *ignored;
  if (bad_field == NULL) bad_field = &ignored;
  *bad_field = "line";
  if (out == NULL || line == NULL) return SMA_EINVAL;
  *out = NULL;

  const char *p = line, *v;
  size_t len;
  char text[SMA_MAX_DIMS * 64];
  *bad_field = "version";
  if (strncmp(p, PREFIX, strlen(PREFIX)) != 0) return SMA_EDESCRIPTOR;
  p += strlen(PREFIX);
  char *end;
  long version = strtol(p, &end, 10);
  if (end == p || *end != ' ' || version < 1 || version > SMA_DESCRIPTOR_VERSION)
    return SMA_EDESCRIPTOR;
  p = end + 1;

  *bad_field = "backend";
  if (field(&p, "backend", 0, &v, &len) != 0) return SMA_EDESCRIPTOR;
  if (len != strlen(sma_backend()) || strncmp(v, sma_backend(), len) != 0) return SMA_EMISMATCH;

  *bad_field = "dtype";
  sma_dtype_t dtype;
  if (field(&p, "dtype", 0, &v, &len) != 0 || !copy_field(text, sizeof text, v, len))
    return SMA_EDESCRIPTOR;
  int rc = sma_dtype_parse(&dtype, text);
  if (rc != 0) return rc;

  *bad_field = "shape";
  size_t shape[SMA_MAX_DIMS], ndim;
  if (field(&p, "shape", 0, &v, &len) != 0 || !copy_field(text, sizeof text, v, len))
    return SMA_EDESCRIPTOR;
  rc = sma_shape_parse(shape, SMA_MAX_DIMS, &ndim, text);
  if (rc != 0) return rc == SMA_ESHAPE ? SMA_EDESCRIPTOR : rc;

  *bad_field = "slice";
  sma_slice_t slices[SMA_MAX_DIMS];
  size_t nslice;
  if (field(&p, "slice", 0, &v, &len) != 0 || !copy_field(text, sizeof text, v, len))
    return SMA_EDESCRIPTOR;
  if ((rc = sma_slice_parse(slices, SMA_MAX_DIMS, &nslice, text)) != 0) return rc;

  /* Version 2: whether the segment is meant to persist, 0 or 1. */
  bool persistent = false;
  if (version >= 2) {
    *bad_field = "persistent";
    if (field(&p, "persistent", 0, &v, &len) != 0 || len != 1 || (*v != '0' && *v != '1'))
      return SMA_EDESCRIPTOR;
    persistent = *v == '1';
  }

  *bad_field = "name";
  char name[SMA_NAME_BUF];
  if (field(&p, "name", 1, &v, &len) != 0 || !copy_field(name, sizeof name, v, len))
    return SMA_EDESCRIPTOR;
  if (*p == '\r') p++;
  if (*p == '\n') p++;
  if (*p != '\0') return SMA_EDESCRIPTOR; /* more than one line */

  rc = sma_new(out, &(sma_array_desc_t){.name = name,
                                        .ndim = ndim,
                                        .shape = shape,
                                        .dtype = dtype,
                                        .slice = slices,
                                        .nslice = nslice});
  if (rc == SMA_ENDIM)
    *bad_field = "shape";
  else if (rc == SMA_ETOOMANYSLICES || rc == SMA_ESTEP)
    *bad_field = "slice";
  else if (rc == SMA_EOVERFLOW)
    *bad_field = "shape";
  if (rc == 0 && persistent) sma__mark_persistent(*out);
  if (rc == 0) *bad_field = NULL;
  return rc;
}
