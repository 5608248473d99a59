/* The per-process mapping cache (src/map_cache.c): loads of one segment
 * in one process share one mapping. */
#ifndef SMA_MAP_CACHE_H
#define SMA_MAP_CACHE_H

#include "sma_int.h"

/* One shared mapping of one OS object, counted by the loads using it. */
typedef struct sma__map sma__map_t;

/* Opens `name` as sma__segment_open() does (same results, same checks of
 * the record on every call), reusing the mapping this process already
 * holds of the object the name names now with the same access (`readonly`
 * or not: the two never share). On success *map is the shared
 * mapping the caller now holds one reference of, and *seg a copy of it
 * (the caller must not close it: sma__map_close() does); *map is NULL
 * when the cache was not used, and the caller owns *seg as after
 * sma__segment_open(). SMA_ENORECORD comes with the segment open, as
 * there. */
int sma__map_open(const char *name, int readonly, sma__os_segment_t *seg, sma__record_t *rec,
                  sma__map_t **map, int *os_err);

/* Drops one reference; the last one unmaps and closes the object. */
int sma__map_close(sma__map_t *map, int *os_err);

#endif
