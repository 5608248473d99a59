/* Attacks on the promises of issue 24 for the `sma` command (POSIX):
 * the demo worker touches only its views, a failed `sma save` removes only
 * a regular file it created or truncated. Each test failed when written. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#if !defined(_WIN32) /* POSIX only: fork, symlinks, rlimits */
#  include <errno.h>
#  include <fcntl.h>
#  include <pthread.h>
#  include <limits.h>
#  include <signal.h>
#  include <stdio.h>
#  include <stdlib.h>
#  include <string.h>
#  include <sys/resource.h>
#  include <sys/stat.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>

#  ifndef SMA_CLI
#    error "SMA_CLI must name the sma executable"
#  endif

/* t_sma_run()'s in_child: the files the command writes are limited to
 * 4 KiB (RLIMIT_FSIZE, SIGXFSZ ignored: writes fail with EFBIG). */
static int limit_files_to_4k(void *unused) {
  (void)unused;
  struct rlimit rl = {4096, 4096};
  signal(SIGXFSZ, SIG_IGN);
  return setrlimit(RLIMIT_FSIZE, &rl);
}
static const t_sma_opts_t files_limited = {.in_child = limit_files_to_4k};

static sma_t *make(const char *name, size_t ndim, const size_t *shape, sma_dtype_t dt) {
  sma_t *a = NULL;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = ndim, .shape = shape, .dtype = dt}), 0);
  cr_assert_eq(sma_create(a, 0), 0);
  return a;
}

/* Output row numbers beyond LONG_MAX (any size_t is a valid argument):
 * blur_rows() casts the row to long, which turns it negative and clamps
 * the source row to 0, and (0 - in_row0) * pitch then wraps (signed
 * overflow) to 3 rows BEFORE the input view. rows_fit() accepted these
 * arguments, so the worker read rows 0..2 of the array, outside its view
 * (slice 3:8), and wrote what it read into its output; with a view at the
 * start of a wide array it reads before the mapping and dies of SIGSEGV. */
Test(cli_attacked, demo_worker_never_reads_outside_its_input_view) {
  char in_name[SMA_NAME_BUF], out_name[SMA_NAME_BUF], prog_name[SMA_NAME_BUF];
  t_name(in_name, sizeof in_name, "atk-in");
  t_name(out_name, sizeof out_name, "atk-out");
  t_name(prog_name, sizeof prog_name, "atk-prog");
  size_t in_shape[2] = {8, 4}, out_shape[2] = {1, 4}, prog_shape[1] = {1};
  sma_t *in = make(in_name, 2, in_shape, SMA_FLOAT32);
  sma_t *out = make(out_name, 2, out_shape, SMA_FLOAT32);
  sma_t *prog = make(prog_name, 1, prog_shape, SMA_UINT64);
  float *img = sma_data(in);
  for (size_t i = 0; i < 32; i++) img[i] = i < 12 ? 1000.0f : 0.0f; /* rows 0..2 */
  memset(sma_data(out), 0, 16);

  char d_in[512], d_out[512], d_prog[512], a_in0[32], a_row0[32], a_h[32];
  snprintf(d_in, sizeof d_in, "sma/1 backend=%s dtype=float32 shape=8,4 slice=3:8 name=%s",
           sma_backend(), in_name);
  snprintf(d_out, sizeof d_out, "sma/1 backend=%s dtype=float32 shape=1,4 slice= name=%s",
           sma_backend(), out_name);
  snprintf(d_prog, sizeof d_prog, "sma/1 backend=%s dtype=uint64 shape=1 slice= name=%s",
           sma_backend(), prog_name);
  /* The view holds image rows base+3 .. base+7; output row base+5 needs
   * rows base+3 .. base+7 (gauss5): every read should be in the view. */
  size_t base = (size_t)LONG_MAX + 1;
  snprintf(a_in0, sizeof a_in0, "%zu", base + 3);
  snprintf(a_row0, sizeof a_row0, "%zu", base + 5);
  snprintf(a_h, sizeof a_h, "%zu", base + 10);
  const char *argv[] = {"__demo-worker", "gauss5", d_in, d_out, d_prog,
                        a_in0,           a_row0,   a_h,  "0",   NULL};
  int rc = t_sma_run(NULL, NULL, argv);
  const float *o = sma_data(out);
  float got[4];
  memcpy(got, o, sizeof got);
  sma_unlink(in_name), sma_unlink(out_name), sma_unlink(prog_name);
  sma_free(in), sma_free(out), sma_free(prog);
  cr_assert(rc == 0 || rc == 2, "the worker died or failed: status %d", rc);
  for (int x = 0; x < 4; x++)
    cr_assert_eq(got[x], 0.0f,
                 "output[%d] = %g: the worker read rows outside its input view (slice 3:8)", x,
                 (double)got[x]);
}

/* `sma save NAME LINK`, LINK a symlink (not made by sma) to a regular
 * file: the file is truncated and half written, the write fails, and
 * remove(path) deletes the symlink, which sma neither created nor
 * truncated, and leaves the half-written file behind. */
Test(cli_attacked, failed_save_never_removes_a_symlink_it_did_not_create) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-save");
  size_t shape[1] = {4096};
  sma_t *a = make(name, 1, shape, SMA_FLOAT64);
  char dir[] = "/tmp/smatest-atk-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char target[256], link_path[256];
  snprintf(target, sizeof target, "%s/data.npy", dir);
  snprintf(link_path, sizeof link_path, "%s/link", dir);
  FILE *f = fopen(target, "w");
  cr_assert_not_null(f);
  fputs("precious\n", f);
  fclose(f);
  cr_assert_eq(symlink(target, link_path), 0);

  const char *argv[] = {"save", name, link_path, NULL};
  int rc = t_sma_run(NULL, &files_limited, argv); /* 32 KiB of data: the write fails */
  struct stat st;
  int link_left = lstat(link_path, &st) == 0 && S_ISLNK(st.st_mode);
  unlink(link_path), unlink(target), rmdir(dir);
  sma_unlink(name);
  sma_free(a);
  cr_assert_eq(rc, 1, "the save should fail (status %d)", rc);
  cr_assert(link_left, "a failed save removed the symlink FILE, which it did not create "
                       "(and left the truncated, half-written file it points to)");
}
/* The race behind that remove(path): the save identifies its file through
 * the descriptor it opened, but a failed write removes by path, which by
 * then may name another file. DIR/x is a symlink flipped between a
 * directory where FILE is a regular file (the write fails there) and one
 * where DIR/x/out is a FIFO (a device stands for the same: `sma save s
 * /tmp/x/full` as root removes /dev/full once /tmp/x points at /dev).
 * A save that opens the regular file and removes through the flipped link
 * deletes the FIFO, which it never opened. */
typedef struct flipper {
  char dir[64];
  volatile int stop;
} flipper_t;

static void *flip(void *arg) {
  flipper_t *f = arg;
  char tmp[128], x[128], a[128], b[128];
  snprintf(tmp, sizeof tmp, "%s/x.tmp", f->dir);
  snprintf(x, sizeof x, "%s/x", f->dir);
  snprintf(a, sizeof a, "%s/a", f->dir);
  snprintf(b, sizeof b, "%s/b", f->dir);
  for (unsigned long i = 0; !f->stop; i++) {
    unlink(tmp);
    if (symlink(i % 2 ? b : a, tmp) == 0) rename(tmp, x);
  }
  return NULL;
}

Test(cli_attacked, failed_save_never_removes_a_fifo_through_a_swapped_path, .timeout = 90) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-race");
  size_t shape[1] = {4096};
  sma_t *arr = make(name, 1, shape, SMA_FLOAT64);
  flipper_t f = {.stop = 0};
  snprintf(f.dir, sizeof f.dir, "/tmp/smatest-atk-XXXXXX");
  cr_assert_not_null(mkdtemp(f.dir));
  char a[128], b[128], fifo[128], file[128], regular[128];
  snprintf(a, sizeof a, "%s/a", f.dir);
  snprintf(b, sizeof b, "%s/b", f.dir);
  snprintf(fifo, sizeof fifo, "%s/b/out", f.dir);
  snprintf(regular, sizeof regular, "%s/a/out", f.dir);
  snprintf(file, sizeof file, "%s/x/out", f.dir);
  cr_assert_eq(mkdir(a, 0700), 0);
  cr_assert_eq(mkdir(b, 0700), 0);
  cr_assert_eq(mkfifo(fifo, 0600), 0);
  /* A reader, so a save that opens the FIFO does not block (and succeeds:
   * the file size limit is for regular files). */
  int reader = open(fifo, O_RDWR | O_NONBLOCK);
  cr_assert_geq(reader, 0);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, flip, &f), 0);
  const char *argv[] = {"save", name, file, NULL};
  int removed = 0, tries = 0;
  /* Up to 400 saves or 30 s, whichever comes first (each save is a
   * fork and exec, slow under sanitizers): one in a few hits the window. */
  time_t t0 = time(NULL);
  for (; tries < 400 && !removed && time(NULL) - t0 < 30; tries++) {
    t_sma_run(NULL, &files_limited, argv);
    char drain[65536];
    while (read(reader, drain, sizeof drain) > 0) {}
    struct stat st;
    removed = lstat(fifo, &st) != 0 || !S_ISFIFO(st.st_mode);
    unlink(regular);
  }
  f.stop = 1;
  pthread_join(t, NULL);
  close(reader);
  char x[128], tmp[128];
  snprintf(x, sizeof x, "%s/x", f.dir);
  snprintf(tmp, sizeof tmp, "%s/x.tmp", f.dir);
  unlink(fifo), unlink(regular), unlink(x), unlink(tmp), rmdir(a), rmdir(b), rmdir(f.dir);
  sma_unlink(name);
  sma_free(arr);
  cr_assert(!removed,
            "a failed save removed the FIFO %s, which it never opened (after %d "
            "tries): it removes by path, not the file it wrote",
            fifo, tries);
}
/* The segment's own file reached through /proc/PID/map_files (Linux; the
 * kernel lets CAP_SYS_ADMIN open it): the same device and inode as the
 * segment, so `sma save` must refuse it and leave the segment as it was.
 * On the System V backend is_the_segment() answers "no" without looking
 * ("System V segments have no path"): save truncated the segment's memory
 * to 0 bytes, died of SIGBUS, and the segment's data and record were gone
 * (sma no longer finds the name). */
Test(cli_attacked, save_refuses_the_segment_through_proc_map_files) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-mapf");
  size_t shape[1] = {4096};
  sma_t *a = make(name, 1, shape, SMA_FLOAT64);
  double *d = sma_data(a);
  for (size_t i = 0; i < 4096; i++) d[i] = 3.0;
  /* This process maps the segment: its line in /proc/self/maps. */
  char range[64] = "";
  FILE *maps = fopen("/proc/self/maps", "r");
  if (maps != NULL) {
    char line[512];
    uintptr_t p = (uintptr_t)sma_data(a);
    while (fgets(line, sizeof line, maps) != NULL) {
      unsigned long lo, hi;
      if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && p >= lo && p < hi) {
        snprintf(range, sizeof range, "%lx-%lx", lo, hi);
        break;
      }
    }
    fclose(maps);
  }
  char file[128];
  snprintf(file, sizeof file, "/proc/%lu/map_files/%s", t_pid(), range);
  int probe = range[0] ? open(file, O_RDONLY) : -1;
  if (probe < 0) {
    sma_unlink(name);
    sma_free(a);
    cr_skip_test("cannot open %s (needs Linux and CAP_SYS_ADMIN)", file);
  }
  close(probe);
  const char *argv[] = {"save", name, file, NULL};
  int rc = t_sma_run(NULL, NULL, argv);
  sma_info_t info;
  int info_rc = sma_info_get(&info, name);
  int intact = rc == 1 && info_rc == 0; /* reading a truncated segment is SIGBUS */
  for (size_t i = 0; intact && i < 4096; i++) intact = d[i] == 3.0;
  sma_unlink(name);
  sma_free(a);
  cr_assert_eq(rc, 1, "save onto the segment's own file (%s): status %d, not refused", file, rc);
  cr_assert_eq(info_rc, 0, "the segment is no longer found after the save (%s)",
               sma_err_name(info_rc));
  cr_assert(intact);
}
/* sma.1's DIAGNOSTICS: "A bad --slice prints "sma: slice TEXT: message
 * (SMA_ESLICE)"". A zero step prints SMA_ESTEP, and more slices than
 * dimensions "sma: cat NAME: more slices than array dimensions
 * (SMA_ETOOMANYSLICES)": codes the page never names. */
/* What `sma ARGS` printed on stderr (a static buffer: use it at once). */
static char *cli_stderr(const char *const *args) {
  static char text[4096];
  t_sma_run_t run;
  t_sma_run(&run, NULL, args);
  snprintf(text, sizeof text, "%s", run.err);
  t_sma_run_free(&run);
  return text;
}

static char *man_diagnostics(void) {
  FILE *f = fopen(SMA_MAN_PAGE, "r");
  cr_assert_not_null(f, "%s", SMA_MAN_PAGE);
  static char page[1 << 16];
  size_t n = fread(page, 1, sizeof page - 1, f);
  page[n] = '\0';
  fclose(f);
  char *d = strstr(page, ".SH DIAGNOSTICS");
  cr_assert_not_null(d);
  char *next = strstr(d + 1, "\n.SH ");
  if (next != NULL) *next = '\0';
  return d;
}

Test(cli_attacked, man_page_diagnostics_name_the_codes_a_bad_slice_prints) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-man");
  size_t shape[1] = {5};
  sma_t *a = make(name, 1, shape, SMA_FLOAT64);
  const char *zero[] = {"cat", name, "--slice", "::0", NULL};
  const char *many[] = {"cat", name, "--slice", "1:2,3:4", NULL};
  char e1[4096], e2[4096];
  snprintf(e1, sizeof e1, "%s", cli_stderr(zero));
  snprintf(e2, sizeof e2, "%s", cli_stderr(many));
  sma_unlink(name);
  sma_free(a);
  const char *diag = man_diagnostics();
  const char *codes[] = {"SMA_ESTEP", "SMA_ETOOMANYSLICES"};
  char *printed[] = {e1, e2};
  for (int i = 0; i < 2; i++) {
    cr_assert_not_null(strstr(printed[i], codes[i]), "%s", printed[i]);
    cr_assert_not_null(strstr(diag, codes[i]),
                       "a bad --slice printed \"%s\" but sma.1 DIAGNOSTICS promises "
                       "\"sma: slice TEXT: message (SMA_ESLICE)\" and never names %s",
                       strtok(printed[i], "\n"), codes[i]);
  }
}
#endif

/* `sma save a /dev/shm/b`, b another segment (libsma's, or another
 * program's object made with shm_open, as Python's SharedMemory makes):
 * save took b for an ordinary existing file and truncated it to the .npy
 * it wrote, so b's record and data were gone ("segment has no libsma
 * metadata record"). Expected: refused (status 1), both left whole. */
Test(cli_attacked, save_never_replaces_another_segment) {
#if !defined(__linux__)
  cr_skip_test("only Linux gives shared memory a path (/dev/shm)");
#else
  char src[SMA_NAME_BUF], victim[SMA_NAME_BUF], foreign[SMA_NAME_BUF];
  t_name(src, sizeof src, "atk-svsrc");
  t_name(victim, sizeof victim, "atk-svvic");
  t_name(foreign, sizeof foreign, "atk-svfor");
  size_t shape[1] = {512};
  sma_t *a = make(src, 1, shape, SMA_FLOAT64);
  sma_t *b = make(victim, 1, shape, SMA_FLOAT64);
  double *d = sma_data(b);
  for (size_t i = 0; i < 512; i++) d[i] = 7.0;
  char foreign_path[300], victim_path[300];
  snprintf(foreign_path, sizeof foreign_path, "/dev/shm/%s", foreign);
  snprintf(victim_path, sizeof victim_path, "/dev/shm/%s", victim);
  int fd = open(foreign_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  cr_assert_geq(fd, 0, "cannot make %s", foreign_path);
  cr_assert_eq(write(fd, "another program's bytes", 23), 23);
  /* b's own file on the POSIX backend; System V segments have no path,
   * so there only the foreign object is a file in /dev/shm. */
  int victim_has_path = access(victim_path, F_OK) == 0;
  const char *to_victim[] = {"save", src, victim_path, NULL};
  const char *to_foreign[] = {"save", src, foreign_path, NULL};
  int rc_victim = victim_has_path ? t_sma_run(NULL, NULL, to_victim) : 1;
  int rc_foreign = t_sma_run(NULL, NULL, to_foreign);
  struct stat st;
  int foreign_whole = fstat(fd, &st) == 0 && st.st_size == 23;
  close(fd);
  unlink(foreign_path);
  sma_info_t info;
  int info_rc = sma_info_get(&info, victim);
  int intact = info_rc == 0;
  for (size_t i = 0; intact && i < 512; i++) intact = d[i] == 7.0;
  sma_unlink(src);
  sma_unlink(victim);
  sma_free(a);
  sma_free(b);
  cr_assert_eq(rc_victim, 1, "save onto another libsma segment's file: status %d", rc_victim);
  cr_assert_eq(info_rc, 0, "the other segment lost its record (%s)", sma_err_name(info_rc));
  cr_assert(intact, "the other segment's data changed");
  cr_assert_eq(rc_foreign, 1, "save onto another program's /dev/shm object: status %d", rc_foreign);
  cr_assert(foreign_whole, "another program's /dev/shm object was truncated");
#endif
}
