/* An interrupted or raced load (issue 23, item 5; found by an attack): what
 * sma_create_filled() / sma_npy_read() leave behind, and what readers see,
 * where the segment is named while it is filled (no O_TMPFILE: the darwin
 * personality, macOS, the BSDs). On Linux POSIX, where the segment has no
 * name until it is published, these tests find nothing to attack and pass.
 *
 * Each test feeds sma_npy_read() a .npy stream whose first data read runs
 * a hook: the attack happens while the loader is pouring the data in. */
#include <criterion/criterion.h>

#include "sma.h"
#include "support.h"

#if defined(_WIN32)
/* Windows sections have no name while they are filled in the sense
 * attacked here (an unsignalled event marks them), and these tests use
 * fork(): nothing to run. */
Test(load_interrupted, not_on_windows) { cr_skip_test("Unix only"); }
#else
#  include <signal.h>
#  include <stdio.h>
#  include <stdlib.h>
#  include <string.h>
#  include <sys/wait.h>
#  include <unistd.h>

#  define N_ELEMS 4096 /* float64 */

/* Linux POSIX with the fault-injection build: the first injectable call of
 * a create is open(O_TMPFILE); failing it (EOPNOTSUPP) takes the named
 * path, as on a kernel or /dev/shm without O_TMPFILE (test_cli does the
 * same). Elsewhere the backend's own path is used. */
#  if defined(SMA_FAULT_INJECTION) && defined(SMA_BACKEND_posix) && defined(__linux__)
void sma__fault_arm(int n);
#    define T_CAN_FORCE_NAMED 1
static void force_named(int on) {
  /* Only where O_TMPFILE is tried at all (/dev/shm listed: not the darwin
   * personality, which is named anyway). */
  if (on && t_caps().can_list) sma__fault_arm(1);
}
#  else
#    define T_CAN_FORCE_NAMED 0
static void force_named(int on) { (void)on; }
#  endif

typedef struct stream stream_t;
struct stream {
  unsigned char hdr[128];
  size_t hlen, pos, total;
  int (*hook)(stream_t *s); /* at the first data read; nonzero: cut the stream */
  int fired, cut;
  const char *name;
  int named_while_filling; /* the hook found the name taken during the fill */
  int flag;                /* the hook's own result */
};

static void npy_header(stream_t *s) {
  char dict[120];
  int len = snprintf(dict, sizeof dict,
                     "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", N_ELEMS);
  size_t hl = sizeof s->hdr - 10;
  memcpy(s->hdr, "\x93NUMPY\x01\x00", 8);
  s->hdr[8] = (unsigned char)(hl & 0xff);
  s->hdr[9] = (unsigned char)(hl >> 8);
  memset(s->hdr + 10, ' ', hl);
  memcpy(s->hdr + 10, dict, (size_t)len);
  s->hdr[sizeof s->hdr - 1] = '\n';
  s->hlen = sizeof s->hdr;
  s->total = s->hlen + (size_t)N_ELEMS * 8;
}

static size_t rd(void *buf, size_t n, void *user) {
  stream_t *s = user;
  if (s->pos + n > s->hlen && !s->fired) {
    s->fired = 1;
    if (s->hook != NULL && s->hook(s) != 0) s->cut = 1;
  }
  if (s->cut && s->pos >= s->hlen) return 0;
  unsigned char *out = buf;
  size_t k = 0;
  for (; k < n && s->pos < s->total; k++, s->pos++)
    out[k] = s->pos < s->hlen ? s->hdr[s->pos] : 0x11;
  return k;
}

/* ---- 1. abandon must not unlink a name that is no longer ours ------------ */

/* While the loader fills its (named, marked) segment, the name is removed
 * (`sma rm`) and another process creates a new segment under it; then the
 * load's stream is cut short. */
static int rm_and_recreate(stream_t *s) {
  s->named_while_filling = t_segment_exists(s->name) == 1;
  if (!s->named_while_filling) return 1; /* unnamed while filling: nothing to attack */
  cr_assert_eq(sma_unlink(s->name), 0);
  sma_t *other = NULL;
  size_t shape[1] = {16};
  cr_assert_eq(sma_new(&other,
                       &(sma_array_desc_t){
                           .name = s->name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT64}),
               0);
  s->flag = sma_create(other, SMA_CREATE_PERSIST);
  sma_free(other); /* unmaps; the segment stays */
  return 1;        /* the stream ends before the data */
}

static void abandon_case(int named) {
  char name[64];
  t_name(name, sizeof name, "abandon");
  stream_t s;
  memset(&s, 0, sizeof s);
  npy_header(&s);
  s.hook = rm_and_recreate;
  s.name = name;
  sma_t *a = NULL;
  force_named(named);
  int rc = sma_npy_read(&a, name, 0, rd, &s);
  cr_assert_neq(rc, 0, "a cut stream must fail");
  if (!s.named_while_filling) {
    sma_unlink(name);
    return; /* Linux POSIX: no name until publication */
  }
  cr_assert_eq(s.flag, 0, "the other process's create of %s failed: %s", name,
               sma_strerror(s.flag));
  int exists = t_segment_exists(name);
  sma_unlink(name);
  cr_assert_eq(exists, 1,
               "the failed load's sma__os_abandon() unlinked %s, which by then named "
               "another process's (persistent) segment",
               name);
}

Test(load_interrupted, abandon_never_unlinks_anothers_segment) { abandon_case(0); }
#  if T_CAN_FORCE_NAMED
Test(load_interrupted, abandon_never_unlinks_anothers_segment_no_tmpfile) { abandon_case(1); }
#  endif

#  if T_CAN_FORCE_NAMED
/* The same, but the stream is complete and publication itself fails (its
 * fchmod, injected): sma__os_publish()'s failure path also unlinks by
 * name. */
static int rm_recreate_then_fail_publish(stream_t *s) {
  rm_and_recreate(s);
  if (s->named_while_filling) sma__fault_arm(1); /* the next injectable call: publish's fchmod */
  return 0;
}

Test(load_interrupted, failed_publish_never_unlinks_anothers_segment) {
  char name[64];
  t_name(name, sizeof name, "pub");
  stream_t s;
  memset(&s, 0, sizeof s);
  npy_header(&s);
  s.hook = rm_recreate_then_fail_publish;
  s.name = name;
  sma_t *a = NULL;
  force_named(1);
  int rc = sma_npy_read(&a, name, 0, rd, &s);
  sma__fault_arm(0);
  if (rc == 0) sma_free(a);
  if (!s.named_while_filling) {
    sma_unlink(name);
    return;
  }
  cr_assert_eq(s.flag, 0, "the other create failed: %s", sma_strerror(s.flag));
  int exists = t_segment_exists(name);
  sma_unlink(name);
  cr_assert_neq(rc, 0, "publication was to fail");
  cr_assert_eq(exists, 1,
               "the failed publication unlinked %s, which by then named another "
               "process's segment",
               name);
}
#  endif

/* ---- 2. a killed load's leftover must be visible to ls and taken by gc -- */

static int wait_forever(stream_t *s) {
  s->named_while_filling = t_segment_exists(s->name) == 1;
  char c = s->named_while_filling ? 'n' : 'u';
  if (write(s->flag, &c, 1) != 1) _exit(9);
  for (;;) pause();
  return 0;
}

/* Starts a child loading `name`, kills it in the middle of the data;
 * returns whether the name existed while it was filling. */
static int killed_load(const char *name, int named) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    stream_t s;
    memset(&s, 0, sizeof s);
    npy_header(&s);
    s.hook = wait_forever;
    s.name = name;
    s.flag = fds[1];
    sma_t *a = NULL;
    force_named(named);
    sma_npy_read(&a, name, SMA_CREATE_PERSIST, rd, &s);
    _exit(8);
  }
  close(fds[1]);
  char c = 0;
  ssize_t got = read(fds[0], &c, 1);
  close(fds[0]);
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  cr_assert_eq(got, 1, "the loader did not reach its data");
  return c == 'n';
}

/* The strays a killed load left under `name` (its staged object, where
 * the segment was built under a private name): gc must take them, as it
 * promises; the test leaves nothing behind either way. */
typedef struct strays_of {
  const char *name;
  sma_stray_t stray[8];
  int n;
} strays_of_t;

static int note_stray(const sma_stray_t *stray, void *user) {
  strays_of_t *s = user;
  size_t len = strlen(s->name);
  if (strncmp(stray->label, s->name, len) == 0 && stray->label[len] == ' ' && s->n < 8)
    s->stray[s->n++] = *stray;
  return 0;
}

static void reclaim_strays(const char *name) {
  strays_of_t before;
  memset(&before, 0, sizeof before);
  before.name = name;
  cr_assert_eq(sma_list_strays(note_stray, &before), 0);
  for (int i = 0; i < before.n; i++) {
    int rc = sma_collect_stray(&before.stray[i], 0);
    if (t_caps().proves_unused)
      cr_assert_eq(rc, 0, "gc keeps the stray %s of a killed load: %s", before.stray[i].label,
                   sma_strerror(rc));
  }
  strays_of_t after;
  memset(&after, 0, sizeof after);
  after.name = name;
  cr_assert_eq(sma_list_strays(note_stray, &after), 0);
  if (t_caps().proves_unused) cr_assert_eq(after.n, 0, "a killed load's stray survived gc");
}

typedef struct seen {
  const char *name;
  int found;
} seen_t;

static int look(const sma_info_t *in, void *user) {
  seen_t *s = user;
  if (in != NULL && strcmp(in->name, s->name) == 0) s->found = 1;
  return 0;
}

static void listed_case(int named) {
  char name[64];
  t_name(name, sizeof name, "klist");
  killed_load(name, named);
  reclaim_strays(name);
  if (t_segment_exists(name) != 1) return; /* nothing left: as promised */
  seen_t seen = {name, 0};
  int rc = sma_list(look, &seen);
  sma_unlink(name);
  cr_assert_eq(rc, 0);
  cr_assert(seen.found,
            "a killed load left %s (marked being created), but sma_list() (`sma ls`, "
            "`sma gc`) does not see it: the index entry is only written at publication",
            name);
}

Test(load_interrupted, killed_load_leftover_is_listed) { listed_case(0); }
#  if T_CAN_FORCE_NAMED
Test(load_interrupted, killed_load_leftover_is_listed_no_tmpfile) { listed_case(1); }
#  endif

static void collected_case(int named) {
  char name[64];
  t_name(name, sizeof name, "kgc");
  killed_load(name, named);
  reclaim_strays(name);
  if (t_segment_exists(name) != 1) return; /* nothing left: as promised */
  sma_info_t in;
  memset(&in, 0, sizeof in);
  int rc = sma_collect(&in, name, 0);
  int exists = t_segment_exists(name);
  sma_unlink(name);
  cr_assert(in.creating, "the leftover of a killed load is not marked being created");
  if (!t_caps().proves_unused) {
    /* macOS: nothing shows who maps a segment, so gc removes nothing and
     * the leftover is `sma rm`'s (as `sma info` says); it must be kept. */
    cr_assert_eq(rc, SMA_EINUSE, "%s", sma_strerror(rc));
    cr_assert_eq(exists, 1);
    return;
  }
  cr_assert_eq(rc, 0,
               "a killed load left %s (creating=%d, creator_alive=%d) and sma_collect() "
               "keeps it: %s; the promise is that gc reclaims it",
               name, in.creating, in.creator_alive, sma_strerror(rc));
  cr_assert_eq(exists, 0);
}

Test(load_interrupted, killed_load_leftover_is_collected) { collected_case(0); }
#  if T_CAN_FORCE_NAMED
Test(load_interrupted, killed_load_leftover_is_collected_no_tmpfile) { collected_case(1); }
#  endif

/* ---- 3. every reader refuses a segment being loaded --------------------- */

#  if !defined(_WIN32) && defined(SMA_BACKEND_posix)
static int python_opens(stream_t *s) {
  s->named_while_filling = t_segment_exists(s->name) == 1;
  if (!s->named_while_filling) return 0;
  const char *code =
      "import sys, sma\n"
      "try:\n"
      "    a = sma.open(sys.argv[1])\n"
      "except Exception as e:\n"
      "    print('refused:', type(e).__name__, e); sys.exit(3)\n"
      "print('opened a segment being loaded as complete:', a.array[:4]); sys.exit(0)\n";
  const char *argv[] = {SMA_PYTHON, "-c", code, s->name, NULL};
  s->flag = t_run(argv);
  return 0;
}

static void python_case(int named) {
  if (SMA_PYTHON[0] == '\0') cr_skip_test("no python3 with NumPy");
  char name[64];
  t_name(name, sizeof name, "py");
  stream_t s;
  memset(&s, 0, sizeof s);
  npy_header(&s);
  s.hook = python_opens;
  s.name = name;
  s.flag = -2;
  sma_t *a = NULL;
  force_named(named);
  int rc = sma_npy_read(&a, name, 0, rd, &s);
  if (rc == 0) sma_free(a);
  sma_unlink(name);
  cr_assert_eq(rc, 0, "%s", sma_strerror(rc));
  if (!s.named_while_filling) return; /* Linux POSIX: no name to open */
  cr_assert_neq(s.flag, 0,
                "Python's sma.open() opened %s while `sma load` was still pouring its "
                "data in (marked being created): a reader took partial data as final",
                name);
}

Test(load_interrupted, python_open_refuses_a_segment_being_loaded) { python_case(0); }
#    if T_CAN_FORCE_NAMED
Test(load_interrupted, python_open_refuses_a_segment_being_loaded_no_tmpfile) { python_case(1); }
#    endif
#  endif

/* ---- 4. what `sma info` says of a killed load's leftover ----------------- */

#  if defined(SMA_CLI) && !defined(SMA_TEST_EMULATED) && !defined(_WIN32)
/* A persistent load killed midway leaves a segment marked being created,
 * which gc removes (as it should: "only a published segment is kept").
 * `sma info` must not tell the user at the same time that gc keeps it. */
static void info_case(int named) {
  char name[64];
  t_name(name, sizeof name, "kinfo");
  killed_load(name, named);
  reclaim_strays(name);
  if (t_segment_exists(name) != 1) return; /* nothing left: nothing to say */
  char *out;
  t_sma_said(&out, "info '%s'", name);
  sma_info_t in;
  memset(&in, 0, sizeof in);
  int rc = sma_collect(&in, name, SMA_COLLECT_DRY_RUN);
  sma_unlink(name);
  int says_kept = strstr(out, "`sma gc` keeps it") != NULL;
  cr_assert(!(says_kept && rc == 0),
            "`sma info` of a killed load's leftover claims \"`sma gc` keeps it\", "
            "yet gc would remove it (sma_collect dry run: %s):\n%s",
            rc == 0 ? "removable" : sma_strerror(rc), out);
  free(out);
}

Test(load_interrupted, info_of_killed_load_does_not_claim_gc_keeps_it) { info_case(0); }
#    if T_CAN_FORCE_NAMED
Test(load_interrupted, info_of_killed_load_does_not_claim_gc_keeps_it_no_tmpfile) { info_case(1); }
#    endif
#  endif
#endif /* !_WIN32 */
