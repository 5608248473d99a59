/* The registry: names a parent created, to unlink at the end. */
#include "sma_int.h"

#include <stdlib.h>
#include <string.h>

struct sma_registry {
  char **names;
  size_t count;
  size_t cap;
};

int sma_registry_new(sma_registry_t **out) {
  if (out == NULL) return SMA_EINVAL;
  *out = calloc(1, sizeof **out);
  return *out == NULL ? SMA_ENOMEM : 0;
}

void sma_registry_free(sma_registry_t *reg) {
  if (reg == NULL) return;
  for (size_t i = 0; i < reg->count; i++) free(reg->names[i]);
  free(reg->names);
  free(reg);
}

/* Makes room for one more name, so that appending cannot fail later. */
static int reserve_one(sma_registry_t *reg) {
  if (reg->count < reg->cap) return 0;
  size_t cap = reg->cap == 0 ? 8 : reg->cap * 2;
  if (cap > SIZE_MAX / sizeof *reg->names) return SMA_ENOMEM;
  char **grown = realloc(reg->names, cap * sizeof *grown);
  if (grown == NULL) return SMA_ENOMEM;
  reg->names = grown;
  reg->cap = cap;
  return 0;
}

static char *copy_name(const char *name) {
  size_t len = strlen(name) + 1;
  char *copy = malloc(len);
  if (copy != NULL) memcpy(copy, name, len);
  return copy;
}

int sma_registry_add(sma_registry_t *reg, const char *name) {
  if (reg == NULL) return SMA_EINVAL;
  int rc = sma_name_validate(name);
  if (rc != 0) return rc;
  if ((rc = reserve_one(reg)) != 0) return rc;
  char *copy = copy_name(name);
  if (copy == NULL) return SMA_ENOMEM;
  reg->names[reg->count++] = copy;
  return 0;
}

size_t sma_registry_count(const sma_registry_t *reg) { return reg == NULL ? 0 : reg->count; }

const char *sma_registry_name(const sma_registry_t *reg, size_t i) {
  return (reg == NULL || i >= reg->count) ? NULL : reg->names[i];
}

int sma_registry_clear(sma_registry_t *reg) {
  if (reg == NULL) return SMA_EINVAL;
  int first = 0;
  size_t kept = 0;
  for (size_t i = 0; i < reg->count; i++) {
    int rc = sma_unlink(reg->names[i]);
    if (rc != 0 && first == 0) first = rc;
    if (rc == 0 || rc == SMA_ENOENT)
      free(reg->names[i]);
    else
      reg->names[kept++] = reg->names[i];
  }
  reg->count = kept;
  return first;
}

int sma_create_and_register(sma_t **out, sma_registry_t *reg, const sma_array_desc_t *desc,
                            unsigned flags) {
  if (out == NULL) return sma__named_result(SMA_EINVAL, 0);
  *out = NULL;
  if (reg == NULL || desc == NULL) return sma__named_result(SMA_EINVAL, 0);
  char name[SMA_NAME_BUF];
  size_t name_len = sizeof name;
  int rc = sma_build_name(desc->name, name, &name_len);
  /* SMA_EOS there is the CSPRNG's failure, whose errno is still in place. */
  if (rc != 0) return sma__named_result(rc, rc == SMA_EOS ? sma__os_last_error() : 0);
  sma_array_desc_t named = *desc;
  named.name = name;
  sma_t *a = NULL;
  if ((rc = sma_new(&a, &named)) != 0) return sma__named_result(rc, 0);
  /* Room for the name first: once the segment exists, registering it must
   * not be able to fail. */
  char *copy = copy_name(name);
  if (copy == NULL || (rc = reserve_one(reg)) != 0 || (rc = sma_create(a, flags)) != 0) {
    int os_err = sma_os_error(a); /* create's, kept in the object */
    free(copy);
    sma_free(a);
    return sma__named_result(rc != 0 ? rc : SMA_ENOMEM, os_err);
  }
  reg->names[reg->count++] = copy;
  *out = a;
  return 0;
}
