/* Behaviour that differs by backend, each checked where it applies:
 * who may unlink, how System V finds names behind colliding keys, what
 * its size limit gives, and Windows' owner-only security descriptor. */
#include "sma.h"
#include "../src/sma_int.h" /* sma__crc32 */
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#if defined(SMA_BACKEND_sysv)
#  include <stdlib.h>
#  include <sys/ipc.h>
#  include <sys/shm.h>
#elif defined(SMA_BACKEND_win32)
#  include <windows.h>
#  include <aclapi.h>
#  include <sddl.h>
#endif

static sma_t *create_one(const char *tag, char *name) {
  size_t shape[1] = {64};
  sma_t *a;
  t_name(name, SMA_NAME_BUF, tag);
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  return a;
}

Test(backend, unlink_from_another_process) {
  char name[SMA_NAME_BUF];
  sma_t *a = create_one("otherunlink", name);
  const char *args[] = {"unlink", name, NULL};
  if (t_caps().unlink_by_creator_only) {
    cr_assert_eq(t_run_helper(args), 10 - SMA_ENOTSUP);
    cr_assert_eq(t_segment_exists(name), 1);
    cr_assert_eq(sma_unlink(name), 0, "the creator can");
  } else {
    cr_assert_eq(t_run_helper(args), 0);
    cr_assert_eq(sma_unlink(name), SMA_ENOENT, "already gone");
  }
  sma_free(a);
  cr_assert(t_segment_absent(name));
  cr_assert_eq(t_run_helper(args), 10 - SMA_ENOENT);
}

Test(backend, capabilities_are_consistent) {
  sma_caps_t c = t_caps();
  cr_assert_str_eq(c.backend, sma_backend());
  cr_assert_eq(c.max_name, sma_name_max());
  cr_assert_gt(c.granularity, 0);
  cr_assert_eq(c.granularity & (c.granularity - 1), 0, "a power of two");
  sma_caps_get(NULL);
}

/* The capabilities describe what the backend does: a backend that cannot
 * enumerate keeps an index; a name of max_name bytes is valid and one
 * more byte is not; where sizes are not exact, the size seen is whole
 * pages; the attached count is known exactly where unused can be proven.
 * (The macOS personality on Linux changes each of these.) */
Test(backend, capabilities_match_behaviour) {
  sma_caps_t c = t_caps();
  char path[4096];
  int idx = sma_index_path(path, &(size_t){sizeof path});
  cr_assert_eq(idx == SMA_ENOTSUP, c.can_list != 0, "%s", sma_err_name(idx));
  char name[SMA_NAME_BUF + 2]; /* room for max_name + 1 */
  t_name(name, sizeof name, "caps");
  size_t len = strlen(name);
  while (len < c.max_name) name[len++] = 'm';
  name[len] = '\0';
  cr_assert_eq(sma_name_validate(name), 0);
  size_t shape[1] = {100};
  sma_t *a, *b;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, name), 0);
  cr_assert_eq(in.attached, c.proves_unused ? 1 : -1);
  cr_assert_eq(in.segment_size % c.granularity, 0);
  name[len] = 'm';
  name[len + 1] = '\0';
  cr_assert_eq(
      sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      SMA_ENAMETOOLONG);
  name[len] = '\0';
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
}

/* What a machine of the other byte order writes into a segment's record:
 * the type string's byte-order character flipped, the checksum (bytes
 * 636..639, little-endian, of bytes 0..635) recomputed. */
typedef struct seek_two {
  const char *names[2];
  int found[2];
} seek_two_t;

static int seek_two(const sma_info_t *in, void *user) {
  seek_two_t *s = user;
  for (int i = 0; i < 2; i++) s->found[i] |= strcmp(in->name, s->names[i]) == 0;
  return 0;
}

/* The index's entry file for a name made of plain characters. */
static int index_entry_exists(const char *name) {
  char path[4096 + SMA_NAME_BUF];
  size_t len = sizeof path;
  cr_assert_eq(sma_index_path(path, &len), 0);
  snprintf(path + len, sizeof path - len, "/%s", name);
  FILE *f = fopen(path, "r");
  if (f != NULL) fclose(f);
  return f != NULL;
}

/* Where the OS cannot enumerate, common code lists the per-user index and
 * forgets an entry only when the OS says its segment is gone; on every
 * backend that lists so (macOS POSIX and System V, Windows). */
Test(backend, the_index_forgets_only_names_whose_segment_is_gone) {
  sma_caps_t caps;
  sma_caps_get(&caps);
  if (caps.can_list) cr_skip_test("this backend enumerates segments itself");
  char gone[SMA_NAME_BUF], kept[SMA_NAME_BUF];
  sma_t *a = create_one("gone", gone), *b = create_one("kept", kept);
  cr_assert(index_entry_exists(gone) && index_entry_exists(kept), "create indexes the names");
  /* Removed behind libsma's back: the OS call alone, as a crash would. */
  cr_assert_eq(sma_close(a), 0);
  int os_err;
  cr_assert_eq(sma__os_unlink(gone, &os_err), 0);
  cr_assert(index_entry_exists(gone), "the entry outlives its segment until a listing");
  /* A create under way anywhere (another test beside this one) holds the
   * index: a listing then keeps the entry (unknown keeps) and a later one
   * drops it. Each listing must show kept and not gone. */
  int listings = 0;
  do {
    seek_two_t s = {{gone, kept}, {0, 0}};
    cr_assert_eq(sma_list(seek_two, &s), 0);
    cr_assert_eq(s.found[0], 0);
    cr_assert_eq(s.found[1], 1);
  } while (index_entry_exists(gone) && ++listings < 20000);
  cr_assert_not(index_entry_exists(gone), "listing dropped the entry of a segment gone");
  cr_assert(index_entry_exists(kept));
  cr_assert_eq(sma_unlink(kept), 0);
  cr_assert_not(index_entry_exists(kept), "unlink forgets the name");
  sma_free(a);
  sma_free(b);
}

static void flip_record_byte_order(unsigned char *record) {
  record[32] = record[32] == '<' ? '>' : '<';
  uint32_t crc = sma__crc32(record, 636);
  for (int i = 0; i < 4; i++) record[636 + i] = (unsigned char)(crc >> (8 * i));
}

/* A segment of the other byte order (one a big-endian machine made, seen
 * from a little-endian one, or the reverse, as under qemu-user) is found
 * by its name and refused with SMA_EBYTEORDER, on every backend.
 * Regression: System V found a segment by its record's name and skipped
 * one whose record it could not use, so the name was SMA_ENOENT. */
Test(backend, a_segment_of_the_other_byte_order_is_found_and_refused) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "byteorder");
  size_t shape[1] = {16};
  sma_t *a, *b = NULL;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, name), 0);
  flip_record_byte_order((unsigned char *)sma_data(a) + in.segment_size - 640);
  int open_rc = sma_open(&b, name, NULL, 0);
  int info_rc = sma_info_get(&in, name);
  const char *args[] = {"load", name, "16", t_native("<f4"), NULL};
  int helper_rc = t_run_helper(args);
  int unlink_rc = sma_unlink(name);
  sma_free(a);
  cr_assert_eq(open_rc, SMA_EBYTEORDER, "%s", sma_err_name(open_rc));
  cr_assert_null(b);
  cr_assert_eq(info_rc, SMA_EBYTEORDER, "%s", sma_err_name(info_rc));
  cr_assert_eq(helper_rc, 10 - SMA_EBYTEORDER, "another process: %d", helper_rc);
  cr_assert_eq(unlink_rc, 0, "%s", sma_err_name(unlink_rc));
}

#if defined(SMA_BACKEND_sysv)
/* The documented key formula (support.c), so that a change to the
 * backend's hash that breaks the documentation fails these tests. */
static key_t documented_key(const char *name, unsigned probe) {
  return (key_t)t_sysv_key(name, probe);
}

Test(backend, sysv_key_collision_probes_the_next_key) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "collide");
  /* Another program's segment squats the name's first key. */
  int squatter = shmget(documented_key(name, 0), 4096, IPC_CREAT | IPC_EXCL | 0600);
  cr_assert_geq(squatter, 0);
  size_t shape[1] = {100};
  sma_t *a, *b;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_INT32}),
      0);
  int rc = sma_create(a, 0);
  int probe1 = shmget(documented_key(name, 1), 0, 0);
  int handle = (int)sma_os_handle(a);
  if (rc == 0) ((int32_t *)sma_data(a))[99] = 99;
  int opened = sma_open(&b, name, NULL, 0);
  int value = opened == 0 ? ((int32_t *)sma_data(b))[99] : -1;
  sma_free(b);
  int unlinked = sma_unlink(name);
  int squatter_alive = shmctl(squatter, IPC_RMID, NULL) == 0;
  sma_free(a);
  cr_assert_eq(rc, 0);
  cr_assert_geq(probe1, 0, "a segment at the second key");
  cr_assert_eq(probe1, handle, "and it is the one created");
  cr_assert_eq(opened, 0);
  cr_assert_eq(value, 99, "load found it behind the squatter");
  cr_assert_eq(unlinked, 0);
  cr_assert(squatter_alive, "the other program's segment was not touched");
}

/* shmmax is lowered in an IPC namespace of this test's own: lowered in the
 * namespace the whole suite shares, it made a concurrent test's 1 MiB
 * create fail with SMA_ETOOBIG (array::prefault_and_hugepage_requests_
 * never_fail, 3 of 30 runs beside this one). */
Test(backend, sysv_beyond_shmmax_is_a_clear_error) {
  if (t_private_ipc() != 0)
    cr_skip_test("needs a private IPC namespace (unshare -i) to lower shmmax");
  FILE *f = fopen("/proc/sys/kernel/shmmax", "r+");
  if (f == NULL) cr_skip_test("cannot open kernel.shmmax");
  unsigned long long old;
  cr_assert_eq(fscanf(f, "%llu", &old), 1);
  rewind(f);
  fprintf(f, "%d\n", 1 << 20);
  fclose(f);
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "shmmax");
  size_t shape[1] = {4u << 20};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  int rc = sma_create(a, 0);
  f = fopen("/proc/sys/kernel/shmmax", "w");
  fprintf(f, "%llu\n", old);
  fclose(f);
  cr_assert_eq(rc, SMA_ETOOBIG, "got %s", sma_err_name(rc));
  cr_assert(t_segment_absent(name), "nothing left behind");
  sma_free(a);
}
#endif

#if defined(SMA_BACKEND_win32)
/* The mapping's DACL grants access to this user's SID only. */
Test(backend, win32_security_descriptor_is_owner_only) {
  char name[SMA_NAME_BUF];
  sma_t *a = create_one("dacl", name);
  PACL dacl = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD e = GetSecurityInfo((HANDLE)sma_os_handle(a), SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION,
                            NULL, NULL, &dacl, NULL, &sd);
  cr_assert_eq(e, 0);
  cr_assert_not_null(dacl);
  cr_assert_eq(dacl->AceCount, 1);
  ACCESS_ALLOWED_ACE *ace;
  cr_assert(GetAce(dacl, 0, (void **)&ace));
  cr_assert_eq(ace->Header.AceType, ACCESS_ALLOWED_ACE_TYPE);
  HANDLE token;
  cr_assert(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
  unsigned char buf[512];
  DWORD len;
  cr_assert(GetTokenInformation(token, TokenUser, buf, sizeof buf, &len));
  CloseHandle(token);
  cr_assert(EqualSid((PSID)&ace->SidStart, ((TOKEN_USER *)buf)->User.Sid));
  LocalFree(sd);
  sma_unlink(name);
  sma_free(a);
}
#endif
