/* The platform contract (src/platform.h), checked against whichever
 * backend is built, through the backend's own functions: the pre- and
 * post-conditions each function states, so a new backend knows when it
 * is done. Behaviour a backend reports as a capability is checked against
 * that capability, never against an OS. */
#include "sma.h"
#include "../src/platform.h"
#include "../src/sma_int.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

typedef struct made {
  char name[SMA_NAME_BUF];
  size_t size;
  unsigned char record[SMA__RECORD_SIZE];
  sma__os_segment_t seg;
} made_t;

/* create() of a 100-byte array's segment, as common code calls it. */
static int make(made_t *m, const char *tag, unsigned flags) {
  t_name(m->name, sizeof m->name, tag);
  sma_caps_t caps = t_caps();
  cr_assert_eq(sma__record_layout(100, caps.granularity, &m->size), 0);
  sma__record_t rec;
  memset(&rec, 0, sizeof rec);
  rec.data_bytes = 100;
  rec.ndim = 1;
  rec.shape[0] = 100;
  rec.dtype = SMA_UINT8;
  rec.creator_pid = sma__os_pid();
  snprintf(rec.name, sizeof rec.name, "%s", m->name);
  sma__record_encode(&rec, m->record);
  int os_err = 0;
  return sma__os_create(m->name, m->size, flags, m->record, &m->seg, &os_err);
}

static void assert_closed(const sma__os_segment_t *seg) {
  cr_assert_null(seg->addr, "close() leaves no mapping");
  cr_assert_eq(seg->handle, -1, "close() leaves no handle");
}

Test(platform, caps_describe_a_usable_backend) {
  sma_caps_t caps;
  memset(&caps, 0, sizeof caps);
  sma__os_caps(&caps);
  cr_assert_not_null(caps.backend);
  cr_assert_str_eq(caps.backend, sma_backend());
  cr_assert_gt(caps.max_name, 0);
  cr_assert_lt(caps.max_name, SMA_NAME_BUF, "a name and its NUL fit SMA_NAME_BUF");
  cr_assert_gt(caps.granularity, 0);
  cr_assert_eq(caps.granularity & (caps.granularity - 1), 0, "a power of two");
  cr_assert_eq(caps.max_segment, 0, "max_segment is sma__os_max_segment()'s");
}

/* Another process loading between create() and publish() is told the
 * segment is still being created (or does not see it at all), never given
 * a half-made array; after publish() it loads. */
Test(platform, another_process_loading_before_publish_is_told_busy) {
  made_t m;
  cr_assert_eq(make(&m, "plat-busy", 0), 0);
  const char *load[] = {"load", m.name, "100", "u1", NULL};
  int early = t_run_helper(load);
  cr_assert(early == 10 - SMA_EBUSY || early == 10 - SMA_ENOENT,
            "before publish: exit %d (%d: SMA_EBUSY)", early, 10 - SMA_EBUSY);
  int os_err = 0;
  cr_assert_eq(sma__os_publish(m.name, &m.seg, &os_err), 0);
  cr_assert_eq(t_run_helper(load), 0, "published: loads");
  cr_assert_eq(sma__os_close(&m.seg, &os_err), 0);
  sma__os_unlink(m.name, &os_err);
}

/* create -> publish -> open -> read -> close -> unlink, with each
 * function's post-conditions. */
Test(platform, a_segment_through_its_whole_life) {
  made_t m;
  cr_assert_eq(make(&m, "plat-life", 0), 0);
  cr_assert_eq(m.seg.size, m.size, "create(): seg->size == size");
  cr_assert_not_null(m.seg.addr);
  cr_assert_neq(m.seg.handle, -1);
  cr_assert_eq(m.seg.effective & ~(unsigned)SMA_CREATE_GROUP, 0,
               "nothing took effect that was not asked for");

  int os_err = 0, ignored;
  sma__os_segment_t early;
  int early_rc = sma__os_open(m.name, 0, &early, &os_err);
  if (early_rc == 0) {
    cr_assert_eq(early.creating, 1, "before publish(), a visible segment is marked");
    sma__os_close(&early, &ignored);
  } else {
    cr_assert_eq(early_rc, SMA_ENOENT, "or not visible at all: %s", sma_err_name(early_rc));
  }

  cr_assert_eq(sma__os_publish(m.name, &m.seg, &os_err), 0);
  made_t again;
  memcpy(&again, &m, sizeof again);
  cr_assert_eq(sma__os_create(m.name, m.size, 0, m.record, &again.seg, &os_err), SMA_EEXIST,
               "create() is exclusive");

  sma__os_segment_t seg;
  cr_assert_eq(sma__os_open(m.name, 0, &seg, &os_err), 0);
  cr_assert_eq(seg.creating, 0, "published");
  if (t_caps().size_is_exact)
    cr_assert_eq(seg.size, m.size);
  else
    cr_assert_geq(seg.size, m.size);
  cr_assert_eq(seg.size % t_caps().granularity, 0);
  ((unsigned char *)m.seg.addr)[7] = 42;
  cr_assert_eq(((unsigned char *)seg.addr)[7], 42, "one memory behind both mappings");

  unsigned char back[SMA__RECORD_SIZE];
  cr_assert_eq(sma__os_read(&seg, m.size - SMA__RECORD_SIZE, back, sizeof back, &os_err), 0);
  cr_assert_eq(memcmp(back, m.record, sizeof back), 0, "read() returns the record create() stored");
  cr_assert_eq(sma__os_read(&seg, seg.size - 1, back, 2, &os_err), SMA_ETOOSMALL,
               "read() past the end is an error, never a fault");

  sma__os_stat_t st;
  if (sma__os_stat(m.name, NULL, &st, &os_err) == 0)
    cr_assert(st.attached != 0, "mapped: never proven unused (%d)", st.attached);
  sma__os_mappers_t *mappers = NULL;
  cr_assert_eq(sma__os_mappers_take(&mappers, &os_err), 0);
  if (sma__os_stat(m.name, mappers, &st, &os_err) == 0)
    cr_assert(st.attached != 0, "mapped, by a walk's snapshot: never proven unused (%d)",
              st.attached);
  sma__os_mappers_free(mappers);

  cr_assert_eq(sma__os_close(&seg, &os_err), 0);
  assert_closed(&seg);
  cr_assert_eq(sma__os_close(&m.seg, &os_err), 0);
  assert_closed(&m.seg);
  int unlinked = sma__os_unlink(m.name, &os_err);
  cr_assert(unlinked == 0 || (!t_caps().outlives_creator && unlinked == SMA_ENOENT), "%s",
            sma_err_name(unlinked));
  cr_assert_eq(sma__os_unlink(m.name, &os_err), SMA_ENOENT);
  cr_assert_eq(sma__os_open(m.name, 0, &seg, &os_err), SMA_ENOENT);
}

/* remove_unused() removes only the object it was given, and only when
 * nothing holds it; where nothing can be proven, never. */
Test(platform, remove_unused_keeps_what_is_held_or_replaced) {
  if (!t_caps().outlives_creator) cr_skip_test("a segment here goes with its last handle");
  made_t m;
  int os_err = 0;
  cr_assert_eq(make(&m, "plat-gc", 0), 0);
  cr_assert_eq(sma__os_publish(m.name, &m.seg, &os_err), 0);
  sma__os_segment_t seg;
  cr_assert_eq(sma__os_open(m.name, 0, &seg, &os_err), 0);
  uint64_t ident[2] = {seg.ident[0], seg.ident[1]};
  cr_assert_eq(sma__os_remove_unused(m.name, ident, 0, &os_err), SMA_EINUSE, "mapped twice");
  sma__os_close(&seg, &os_err);
  sma__os_close(&m.seg, &os_err);
  uint64_t other[2] = {ident[0] + 1, ident[1] + 1}; /* another object */
  int replaced = sma__os_remove_unused(m.name, other, 0, &os_err);
  cr_assert(replaced == SMA_EREPLACED || (!t_caps().proves_unused && replaced == SMA_EINUSE), "%s",
            sma_err_name(replaced));
  cr_assert_eq(sma__os_remove_unused(m.name, ident, 1, &os_err),
               t_caps().proves_unused ? 0 : SMA_EINUSE, "dry run");
  cr_assert_eq(sma__os_open(m.name, 0, &seg, &os_err), 0, "a dry run removes nothing");
  sma__os_close(&seg, &os_err);
  int removed = sma__os_remove_unused(m.name, ident, 0, &os_err);
  if (t_caps().proves_unused) {
    cr_assert_eq(removed, 0, "%s", sma_err_name(removed));
    cr_assert_eq(sma__os_open(m.name, 0, &seg, &os_err), SMA_ENOENT);
  } else {
    cr_assert_eq(removed, SMA_EINUSE);
    cr_assert_eq(sma__os_unlink(m.name, &os_err), 0);
  }
}

static int find_name(const char *name, void *user) {
  return strcmp(name, (const char *)user) == 0 ? 1 : 0;
}

/* list() shows a published segment and forgets it once unlinked; a
 * nonzero return stops the walk with it. Called only where can_list. */
Test(platform, list_shows_published_names) {
  if (!t_caps().can_list) cr_skip_test("common code lists the index here (next test)");
  made_t m;
  int os_err = 0;
  cr_assert_eq(make(&m, "plat-list", 0), 0);
  cr_assert_eq(sma__os_publish(m.name, &m.seg, &os_err), 0);
  int listed = sma__os_list(find_name, m.name, &os_err);
  cr_assert_eq(sma__os_close(&m.seg, &os_err), 0);
  cr_assert(sma__os_unlink(m.name, &os_err) == 0 || !t_caps().outlives_creator);
  cr_assert_eq(listed, 1, "found, and fn's value returned");
  cr_assert_eq(sma__os_list(find_name, m.name, &os_err), 0, "gone after unlink");
}

/* The index's directory and files: what common code's index relies on,
 * wherever the backend provides it (it must where can_list is 0). */
Test(platform, index_files_are_added_walked_and_removed) {
  intptr_t dir;
  int os_err = 0;
  int rc = sma__os_index_open(1, &dir, &os_err);
  if (rc == SMA_ENOTSUP) {
    cr_assert(t_caps().can_list, "no index, yet no listing either");
    cr_skip_test("this backend has no index");
  }
  cr_assert_eq(rc, 0, "%s", sma_err_name(rc));
  char path[4096];
  cr_assert_eq(sma__os_index_path(path, sizeof path), 0);
  char entry[SMA_NAME_BUF];
  t_name(entry, sizeof entry, "plat-idx");
  strcat(entry, "%2F"); /* an encoded byte: entries are not names */
  cr_assert_eq(sma__os_index_add(dir, entry, &os_err), 0);
  cr_assert_eq(sma__os_index_add(dir, entry, &os_err), 0, "adding twice is a no-op");
  cr_assert_eq(sma__os_index_walk(dir, find_name, entry, &os_err), 1, "walked, fn's value");
  cr_assert_eq(sma__os_index_remove(dir, entry, &os_err), 0);
  cr_assert_eq(sma__os_index_walk(dir, find_name, entry, &os_err), 0, "gone");
  cr_assert_eq(sma__os_index_remove(dir, entry, &os_err), SMA_ENOENT);
  sma__os_index_close(dir);
  cr_assert_eq(sma__os_index_open(0, &dir, &os_err), 0, "exists now: opened without create");
  sma__os_index_close(dir);
}

/* The process-level calls. */
Test(platform, process_calls) {
  cr_assert_gt(sma__os_pid(), 0);
  cr_assert_eq(sma__os_pid_alive(sma__os_pid()), 1, "this process runs");
  cr_assert_eq(sma__os_pid_alive(0), -1, "pid 0 names nobody");
  int64_t now = sma__os_now_ns();
  cr_assert_gt(now, (int64_t)1600000000 * 1000000000, "after 2020");
  unsigned char a[64], b[64];
  int os_err = 0;
  cr_assert_eq(sma__os_random(a, sizeof a, &os_err), 0);
  cr_assert_eq(sma__os_random(b, sizeof b, &os_err), 0);
  cr_assert_neq(memcmp(a, b, sizeof a), 0, "512 random bits do not repeat");
  uint64_t before = sma__os_counter_read();
  cr_assert_eq(sma__os_counter_next(), before + 1);
  cr_assert_eq(sma__os_counter_read(), before + 1);
  unsigned char id1[16], id2[16];
  sma__os_boot_id(id1);
  sma__os_boot_id(id2);
  cr_assert_eq(memcmp(id1, id2, 16), 0, "one boot, one id");
  cr_assert_eq(sma__os_pidns(), sma__os_pidns());
}
