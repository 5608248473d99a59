/* dtype sizing and NumPy spellings. */
#include "sma_int.h"

#include <string.h>

typedef struct dtype_info {
  const char *name;   /* canonical NumPy name */
  char kind;          /* NumPy kind letter: b i u f c */
  unsigned char size; /* bytes */
  char code;          /* NumPy one-letter type code (fixed-size only) */
} dtype_info_t;

static const dtype_info_t dtypes[SMA_DTYPE_COUNT] = {
    [SMA_BOOL] = {"bool", 'b', 1, '?'},           [SMA_INT8] = {"int8", 'i', 1, 'b'},
    [SMA_INT16] = {"int16", 'i', 2, 'h'},         [SMA_INT32] = {"int32", 'i', 4, 'i'},
    [SMA_INT64] = {"int64", 'i', 8, 'q'},         [SMA_UINT8] = {"uint8", 'u', 1, 'B'},
    [SMA_UINT16] = {"uint16", 'u', 2, 'H'},       [SMA_UINT32] = {"uint32", 'u', 4, 'I'},
    [SMA_UINT64] = {"uint64", 'u', 8, 'Q'},       [SMA_FLOAT16] = {"float16", 'f', 2, 'e'},
    [SMA_FLOAT32] = {"float32", 'f', 4, 'f'},     [SMA_FLOAT64] = {"float64", 'f', 8, 'd'},
    [SMA_COMPLEX64] = {"complex64", 'c', 8, 'F'}, [SMA_COMPLEX128] = {"complex128", 'c', 16, 'D'},
};

/* NumPy's other names for fixed-size types. Platform-dependent ones
 * ("int", "long", "l", "g"...) are deliberately absent: their size differs
 * between Linux and Windows, which a shared segment cannot afford. */
static const struct {
  const char *alias;
  sma_dtype_t dtype;
} aliases[] = {
    {"bool_", SMA_BOOL},         {"bool8", SMA_BOOL},         {"byte", SMA_INT8},
    {"ubyte", SMA_UINT8},        {"short", SMA_INT16},        {"ushort", SMA_UINT16},
    {"intc", SMA_INT32},         {"uintc", SMA_UINT32},       {"longlong", SMA_INT64},
    {"ulonglong", SMA_UINT64},   {"half", SMA_FLOAT16},       {"single", SMA_FLOAT32},
    {"double", SMA_FLOAT64},     {"float", SMA_FLOAT64},      {"csingle", SMA_COMPLEX64},
    {"cdouble", SMA_COMPLEX128}, {"complex", SMA_COMPLEX128},
};

/* Type strings, indexed like `dtypes`, for each byte order. */
static const char *const typestr_le[SMA_DTYPE_COUNT] = {"|b1", "|i1", "<i2", "<i4", "<i8",
                                                        "|u1", "<u2", "<u4", "<u8", "<f2",
                                                        "<f4", "<f8", "<c8", "<c16"};
static const char *const typestr_be[SMA_DTYPE_COUNT] = {"|b1", "|i1", ">i2", ">i4", ">i8",
                                                        "|u1", ">u2", ">u4", ">u8", ">f2",
                                                        ">f4", ">f8", ">c8", ">c16"};

static bool host_is_little_endian(void) {
  const uint16_t probe = 1;
  return *(const unsigned char *)&probe == 1;
}

bool sma__dtype_valid(sma_dtype_t dtype) { return (unsigned)dtype < SMA_DTYPE_COUNT; }

size_t sma_dtype_size(sma_dtype_t dtype) {
  return sma__dtype_valid(dtype) ? dtypes[dtype].size : 0;
}

const char *sma_dtype_name(sma_dtype_t dtype) {
  return sma__dtype_valid(dtype) ? dtypes[dtype].name : NULL;
}

const char *sma_dtype_str(sma_dtype_t dtype) {
  if (!sma__dtype_valid(dtype)) return NULL;
  return host_is_little_endian() ? typestr_le[dtype] : typestr_be[dtype];
}

static int find_by_name(const char *text, sma_dtype_t *out) {
  for (int i = 0; i < SMA_DTYPE_COUNT; i++) {
    if (strcmp(text, dtypes[i].name) == 0) {
      *out = (sma_dtype_t)i;
      return 0;
    }
  }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
    if (strcmp(text, aliases[i].alias) == 0) {
      *out = aliases[i].dtype;
      return 0;
    }
  }
  return SMA_EDTYPE;
}

/* A one-letter code ("f", "?") or kind + size ("f4", "b1", "c16"). */
static int find_by_code(const char *text, sma_dtype_t *out) {
  size_t len = strlen(text);
  if (len == 1) {
    for (int i = 0; i < SMA_DTYPE_COUNT; i++) {
      if (text[0] == dtypes[i].code) {
        *out = (sma_dtype_t)i;
        return 0;
      }
    }
    return SMA_EDTYPE;
  }
  if (len < 2 || len > 3) return SMA_EDTYPE; /* "" or "<" alone */
  unsigned size = 0;
  for (size_t k = 1; k < len; k++) {
    if (text[k] < '0' || text[k] > '9') return SMA_EDTYPE;
    size = size * 10 + (unsigned)(text[k] - '0');
  }
  if (text[1] == '0') return SMA_EDTYPE; /* "f04" is not NumPy */
  for (int i = 0; i < SMA_DTYPE_COUNT; i++) {
    if (text[0] == dtypes[i].kind && size == dtypes[i].size) {
      *out = (sma_dtype_t)i;
      return 0;
    }
  }
  return SMA_EDTYPE;
}

int sma_dtype_parse(sma_dtype_t *out, const char *text) {
  if (text == NULL || out == NULL) return SMA_EINVAL;
  char order = text[0];
  bool has_order = order == '<' || order == '>' || order == '=' || order == '|' || order == '!';
  /* No name or alias starts with a byte-order character, so a type
   * string (what every record holds) skips the ~30 name comparisons: they
   * were a quarter of a load's instructions. */
  if (!has_order && find_by_name(text, out) == 0) return 0;
  sma_dtype_t dtype;
  int rc = find_by_code(has_order ? text + 1 : text, &dtype);
  if (rc != 0) return rc;
  /* Byte order only matters for multi-byte types, as in NumPy. */
  if (has_order && dtypes[dtype].size > 1) {
    bool little = host_is_little_endian();
    bool foreign = (order == '<' && !little) || ((order == '>' || order == '!') && little);
    if (foreign) return SMA_EBYTEORDER;
  }
  *out = dtype;
  return 0;
}
