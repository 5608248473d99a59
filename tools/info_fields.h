/* A segment's sma_info_t as `sma ls` and `sma info` both show it. */
#ifndef SMA_TOOLS_INFO_FIELDS_H
#define SMA_TOOLS_INFO_FIELDS_H

#include "sma.h"

#include <stddef.h>

/* The shape as sma_shape_format() writes it ("3,4") in buf (cap
 * bytes), or "?". */
void info_shape_text(const sma_info_t *in, char *buf, size_t cap);

/* Seconds since the segment was created, by its record's clock. */
double info_age_seconds(const sma_info_t *in);

/* Writes the segment as one JSON object to stdout (no newline). */
void info_print_json(const sma_info_t *in);

#endif
