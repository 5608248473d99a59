/* A segment's sma_info_t as `sma ls` and `sma info` both show it: the
 * JSON object, the shape's text, the age. */
#include "info_fields.h"

#include "process_services.h"
#include "safe_text.h"

#include <stdio.h>

void info_shape_text(const sma_info_t *in, char *buf, size_t cap) {
  size_t size = cap;
  if (sma_shape_format(in->shape, in->ndim, buf, &size) != 0) snprintf(buf, cap, "?");
}

/* In double: a record's time is data, and any int64 minus any other can
 * overflow. */
double info_age_seconds(const sma_info_t *in) {
  return ((double)proc_wall_ns() - (double)in->created_ns) * 1e-9;
}

void info_print_json(const sma_info_t *in) {
  printf("{\"name\": ");
  safe_text_print_json(in->name);
  printf(", \"dtype\": \"%s\", \"typestr\": \"%s\", \"shape\": [", sma_dtype_name(in->dtype),
         sma_dtype_str(in->dtype));
  for (size_t d = 0; d < in->ndim; d++) printf("%s%zu", d ? ", " : "", in->shape[d]);
  printf("], \"bytes\": %zu, \"segment_size\": %zu, \"creator_pid\": %llu, "
         "\"creator_alive\": %s, \"age_seconds\": %.3f, \"attached\": ",
         in->nbytes, in->segment_size, (unsigned long long)in->creator_pid,
         in->creator_alive < 0 ? "null"
         : in->creator_alive   ? "true"
                               : "false",
         info_age_seconds(in));
  if (in->attached < 0)
    printf("null");
  else
    printf("%d", in->attached);
  printf(", \"creating\": %s, \"huge_pages\": %s, \"persistent\": %s}",
         in->creating ? "true" : "false",
         in->huge_pages < 0 ? "null"
         : in->huge_pages   ? "true"
                            : "false",
         in->persistent ? "true" : "false");
}
