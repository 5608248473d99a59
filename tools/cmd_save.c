/* `sma save`: a segment (or a slice of it) to a NumPy .npy file, through
 * the library's stream call (the file is the command's: the library opens
 * none). Most of it is choosing what FILE may be: never the segment
 * itself nor another shared-memory segment, and removed after a failure
 * only if this save created it. */
#if defined(__linux__)
#  define _GNU_SOURCE /* O_PATH */
#endif
#if !defined(_WIN32)
#  define _POSIX_C_SOURCE 200809L /* fdopen, ftruncate, O_CLOEXEC, openat, unlinkat */
#endif
#include "cli.h"
#include "sma.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#  include <fcntl.h>
#  include <sys/stat.h>
#  include <unistd.h>
#endif

static const char help[] = "usage: sma save NAME FILE.npy [--slice TEXT]\n"
                           "Writes the array (or its slice) as a NumPy .npy file that np.load()\n"
                           "reads exactly (C order, this machine's byte order). FILE is replaced\n"
                           "(a symlink is followed), never when it is the segment itself or any\n"
                           "other shared-memory segment (a file in /dev/shm on Linux). A failed\n"
                           "save removes FILE only if it created it; a file that existed before\n"
                           "is left incomplete, and the error says so.\n";

static size_t put(const void *buf, size_t n, void *file) { return fwrite(buf, 1, n, file); }

/* The file a save writes: the stream, and what a failed save may undo. */
typedef struct output {
  FILE *f;
  int created; /* this save created the file (O_EXCL): only then may it remove it */
#if !defined(_WIN32)
  int dirfd;        /* FILE's directory, opened once: the path is not looked up again */
  const char *base; /* FILE's name in that directory */
  dev_t dev;        /* identity of the file this save created */
  ino_t ino;
#endif
} output_t;

#if !defined(_WIN32)
/* Whether the open file (its fstat) is the very object segment `a` maps, however
 * the path reached it. POSIX: the same device and inode as the segment's
 * descriptor (/dev/shm/NAME, a hard link, a symlink, /proc/self/fd/N).
 * System V segments have no path, but the kernel's file behind one is
 * reachable through /proc/PID/map_files/START-END (with CAP_SYS_ADMIN):
 * Linux gives that file the shmid as inode number, and no link (it is
 * unlinked from birth). A FILE with no link and the shmid as inode is
 * refused: at worst another unlinked file that happens to bear that
 * number, which a save has no use for anyway. */
static int is_the_segment(const struct stat *file, const sma_t *a) {
  intptr_t handle = sma_os_handle(a);
  struct stat seg;
  if (handle < 0) return 0;
  if (strcmp(sma_backend(), "sysv") == 0)
    return file->st_nlink == 0 && file->st_ino == (ino_t)handle;
  return strcmp(sma_backend(), "posix") == 0 && fstat((int)handle, &seg) == 0 &&
         file->st_dev == seg.st_dev && file->st_ino == seg.st_ino;
}

/* Whether a file that existed before lives in the shared-memory store
 * (Linux: the file system of /dev/shm, however the path reached it: a
 * bind mount, a symlink). Every file there is some program's segment --
 * libsma's, Python's SharedMemory, Boost's -- whose bytes a save would
 * cut to an .npy header: never replaced. */
static int in_shm_store(const struct stat *file) {
#  if defined(__linux__)
  struct stat store;
  return stat("/dev/shm", &store) == 0 && file->st_dev == store.st_dev;
#  else
  (void)file;
  return 0; /* POSIX shm objects and System V segments have no path here */
#  endif
}

/* Opens FILE's directory once (O_PATH where there is one: a directory
 * this user may search but not list still works); o->base names FILE in
 * it. `copy` holds the directory part. */
static int open_directory(output_t *o, const char *path, char *copy) {
  const char *slash = strrchr(path, '/');
  o->base = slash == NULL ? path : slash + 1;
  if (o->base[0] == '\0') return EISDIR; /* "dir/" names no file */
  if (slash == NULL)
    strcpy(copy, ".");
  else if (slash == path)
    strcpy(copy, "/");
  else
    memcpy(copy, path, (size_t)(slash - path)), copy[slash - path] = '\0';
#  if defined(O_PATH)
  int flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
#  elif defined(O_SEARCH)
  int flags = O_SEARCH | O_DIRECTORY | O_CLOEXEC;
#  else
  int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
#  endif
  o->dirfd = open(copy, flags);
  return o->dirfd < 0 ? errno : 0;
}

/* Creates FILE (it did not exist: ours to remove if the save fails), or
 * opens the existing one, following a symlink, without truncating it. */
static int open_file(output_t *o) {
  int fd = openat(o->dirfd, o->base,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0666);
  o->created = fd >= 0;
  if (fd < 0 && errno == EEXIST) /* O_CREAT again: a dangling symlink's target is made */
    fd = openat(o->dirfd, o->base, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
  return fd;
}

static int discard_output(const output_t *o, const char *path);

/* Opens FILE to be replaced, for the array `a` maps. An existing file is
 * opened without truncating it, and truncated only once it is known not
 * to be the segment itself (truncating the segment would cut the very
 * bytes being written: SIGBUS), and only if it is a regular file (a
 * device or a FIFO takes the bytes as they come). 0, or errno, or -1 for
 * the segment itself, -2 for another segment (in_shm_store()). */
static int open_output(output_t *o, const char *path, const sma_t *a) {
  *o = (output_t){.f = NULL, .created = 0, .dirfd = -1};
  char *copy = malloc(strlen(path) + 2);
  if (copy == NULL) return ENOMEM;
  int err = open_directory(o, path, copy);
  free(copy);
  if (err != 0) return err;
  int fd = open_file(o);
  if (fd < 0) return errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    err = errno;
    close(fd);
    return err; /* no identity: even a file made here is kept (empty) */
  }
  o->dev = st.st_dev, o->ino = st.st_ino;
  if (is_the_segment(&st, a))
    err = -1;
  else if (!o->created && in_shm_store(&st))
    err = -2;
  else if (!o->created && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0)
    err = errno;
  else if ((o->f = fdopen(fd, "wb")) != NULL)
    return 0;
  else
    err = errno;
  close(fd);
  discard_output(o, NULL); /* only a file made here, and nothing written yet */
  return err;
}

/* After a failed save: removes FILE only if this save created it and the
 * directory's entry still is that very file (same device and inode, the
 * entry itself, not a symlink's target). A file that existed before is
 * never removed. 1 if removed. */
static int discard_output(const output_t *o, const char *path) {
  (void)path; /* never looked up again: the directory is held open */
  struct stat st;
  return o->created && fstatat(o->dirfd, o->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         st.st_dev == o->dev && st.st_ino == o->ino && unlinkat(o->dirfd, o->base, 0) == 0;
}

static void close_output_dir(output_t *o) {
  if (o->dirfd >= 0) close(o->dirfd);
  o->dirfd = -1;
}
#else
/* Windows: a segment is a named section, never a file. The file is
 * created if absent (then a failed save removes it) or replaced. */
static int open_output(output_t *o, const char *path, const sma_t *a) {
  (void)a;
  *o = (output_t){.f = NULL, .created = 0};
  FILE *probe = fopen(path, "rb");
  o->created = probe == NULL;
  if (probe != NULL) fclose(probe);
  o->f = fopen(path, "wb");
  return o->f == NULL ? errno : 0;
}

static int discard_output(const output_t *o, const char *path) {
  return o->created && remove(path) == 0;
}

static void close_output_dir(output_t *o) { (void)o; }
#endif

static int run(int argc, char **argv) {
  const char *path = NULL;
  sma_t *a;
  int status = cli_open_arg(&cli_save, argc, argv, &path, &a);
  if (status != CLI_OK) return status;
  output_t out;
  int err = open_output(&out, path, a);
  if (err == -1) {
    fprintf(stderr,
            "sma: save %s: %s is the segment itself (same device and inode); "
            "it is left as it was\n",
            sma_name(a), path);
  } else if (err == -2) {
    fprintf(stderr,
            "sma: save %s: %s is a shared-memory segment (it lives in /dev/shm); "
            "a save never replaces one: it is left as it was\n",
            sma_name(a), path);
  } else if (err != 0) {
    cli_fail_file("save: cannot create", path, err);
  }
  if (err != 0) {
    close_output_dir(&out);
    sma_free(a);
    return CLI_ERR;
  }
  int rc = sma_npy_write(a, put, out.f);
  err = rc == SMA_EIO ? errno : 0;
  if (fclose(out.f) != 0 && rc == 0) rc = SMA_EIO, err = errno;
  if (rc != 0) {
    if (err != 0)
      cli_fail_file("save: writing", path, err);
    else
      cli_fail("save", sma_name(a), rc);
    if (!discard_output(&out, path))
      fprintf(stderr, "sma: save: %s is left incomplete (%s)\n", path,
              out.created ? "it is no longer the file this save created"
                          : "it existed before: a failed save removes only a file it created");
  }
  close_output_dir(&out);
  sma_free(a);
  return rc == 0 ? CLI_OK : CLI_ERR;
}

const cli_command_t cli_save = {"save", help, run};
