/*
 * POSIX backend, what /dev/shm and /proc show of the segments and what gc
 * may do on that evidence (Linux; the darwin personality has neither and
 * answers "cannot tell"): listing the directory, counting who maps a
 * segment, removing an unused segment under a write lease, and finding
 * and removing the strays that intents name. Separate from the segments'
 * own mechanism (src/posix/shm.c) because it is a different concern: it
 * judges objects it did not open for the caller, never blocks anyone but
 * a removal candidate's openers, and exists only where caps.proves_unused
 * and caps.can_list say so.
 */
#define _GNU_SOURCE /* F_SETLEASE, F_SETSIG on glibc */
#include "../platform.h"
#include "backend.h"

#include "../unix/fault.h"
#include "mappers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
/* A signal whose arrival changes nothing in this process (its default
 * action is to ignore it and no handler is installed), for the kernel's
 * lease-break notice; 0 if there is none. The default notice, SIGIO,
 * would terminate the caller. */
static int quiet_signal(void) {
  static const int candidates[] = {SIGURG, SIGWINCH};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    struct sigaction sa;
    if (sigaction(candidates[i], NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
        (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
      return candidates[i];
  }
  return 0;
}

/* Takes a write lease on the file of `fd` (opened read-only) and keeps
 * it: 0 taken, 1 another process holds the file open or mapped, -1
 * cannot tell. The kernel grants a write lease only when no other open
 * file description of the inode exists, and every mapping holds one,
 * whatever its process's user or pid namespace; while the lease is held,
 * every other process's open() of the file waits in the kernel (up to
 * /proc/sys/fs/lease-break-time) until it is released. Counting
 * read-only openers needs a kernel that counts them (IMA); without it the
 * lease is never granted to a read-only descriptor, so the answer errs
 * towards "held". Taking a lease needs the file's owner or CAP_LEASE
 * (else -1). */
static int lease_take(int fd) {
  int sig = quiet_signal();
  if (sig == 0 || fcntl(fd, F_SETSIG, sig) != 0) return -1;
  if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0) return 0;
  return errno == EAGAIN ? 1 : -1;
}

static void lease_release(int fd) { fcntl(fd, F_SETLEASE, F_UNLCK); }

/* Does any process but the caller hold the file of `fd` (opened
 * read-only) open or mapped? 0 no (proven), 1 yes, -1 cannot tell. The
 * lease is released at once. */
static int held_elsewhere(int fd) {
  int held = lease_take(fd);
  if (held == 0) lease_release(fd);
  return held;
}

/* Is the file of `fd` (`sb`) provably unused by every other process? */
static int proven_unused(int fd, const struct stat *sb) {
  int held = held_elsewhere(fd);
  if (held >= 0) return !held;
  return sma__mappers_attached_now(sb) == 0;
}

static int open_path(const char *path, struct stat *sb) {
  int fd;
  do {
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return -1;
  if (fstat(fd, sb) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* What `sma ls` and `sma info` see: only what /proc shows. Never a
 * lease: while one is held, every other process's open() of the segment
 * blocks (up to the kernel's lease-break-time if the holder is stopped),
 * and looking must never block anyone. So where /proc cannot show every
 * process (another user's maps, a pid namespace), the count is unknown
 * (-1); only gc, on a candidate it is about to remove, takes a lease. */
static int dir_stat(const char *name, const sma__os_mappers_t *mappers, sma__os_stat_t *st,
                    int *os_err) {
  st->attached = -1;
  struct stat sb;
  shm_file_t file = shm_file(name);
  int fd = open_path(file.path, &sb);
  if (fd < 0) return sma__posix_fail(errno, os_err);
  int attached = mappers != NULL ? sma__mappers_attached(mappers, &sb) : SMA__MAPPERS_CANNOT_SAY;
  if (attached == SMA__MAPPERS_CANNOT_SAY) attached = sma__mappers_attached_now(&sb);
  SMA__PAUSE_AT("examine"); /* tests: a lister in the middle of looking */
  st->attached = attached;
  close(fd);
  return 0;
}

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* remove_unused(): still the object `ident`, with one name. */
static int identity_verdict(const struct stat *sb, const uint64_t ident[2]) {
  if ((uint64_t)sb->st_dev != ident[0] || (uint64_t)sb->st_ino != ident[1]) return SMA_EREPLACED;
  if (!S_ISREG(sb->st_mode) || sb->st_nlink != 1) return SMA_EINUSE; /* other names */
  return 0;
}

/* Unlinks `path` if it still names the object `ident` and nobody else
 * holds that object, judged and removed while nobody can start to hold it.
 * The name is never taken away while the object is examined (issue 23
 * item 2): a creator of the name gets EEXIST throughout, and a gc killed
 * at any instant leaves nothing behind, because the only state is a
 * lease, which the kernel drops with its holder.
 *  - The write lease is granted only if no other process has the file
 *    open or mapped, and while it is held every other open() of the file
 *    waits in the kernel. So from the lease to the unlink nobody can come
 *    to hold the file. An open() that is already waiting when gc is about
 *    to unlink shows as a lease being broken (F_GETLEASE no longer
 *    F_WRLCK): the segment is wanted, and kept. This also covers a gc
 *    stopped past lease-break-time, after which the kernel lets the open()
 *    through. One that starts after that check completes after the unlink
 *    on a file without a name, which sma__os_open() refuses as gone.
 *  - Where no lease can be taken (another user's file without CAP_LEASE,
 *    leases disabled, no quiet signal), nothing holds the file still
 *    between looking and unlinking, so it is kept: unknown means keep.
 *  - Between the check that `path` still names the object and the unlink,
 *    no system call removes a name only if it names a given file: a user's
 *    own `sma rm NAME` and re-create in that instant (microseconds, while
 *    gc holds the lease) would lose the new segment. Only such a removal of
 *    the candidate by hand can do it; a creator alone cannot (EEXIST). */
static int unlink_unused(const char *path, const uint64_t ident[2], int *os_err) {
  struct stat sb, now;
  int fd = open_path(path, &sb);
  if (fd < 0) return sma__posix_fail(errno, os_err);
  int rc = identity_verdict(&sb, ident);
  if (rc == 0 && lease_take(fd) != 0) rc = SMA_EINUSE;
  if (rc == 0) {
    SMA__PAUSE_POINT(); /* tests: leased, about to unlink */
    if (fstatat(AT_FDCWD, path, &now, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(&sb, &now))
      rc = SMA_EREPLACED;
    else if (fcntl(fd, F_GETLEASE) != F_WRLCK)
      rc = SMA_EINUSE; /* an open() is waiting for it: wanted after all */
    else if (unlink(path) != 0)
      rc = sma__posix_fail(errno, os_err);
    lease_release(fd);
  }
  close(fd);
  return rc;
}

/* Removes `name` if it is still the object `ident` and nobody holds it.
 * A first look, which holds nothing, spares a segment in use the lease
 * (its users' open() would wait for an instant); the decision is then
 * taken again, and acted on, under the lease (unlink_unused). */
static int dir_remove_unused(const char *name, const uint64_t ident[2], int dry_run, int *os_err) {
  shm_file_t file = shm_file(name);
  struct stat sb;
  int fd = open_path(file.path, &sb);
  if (fd < 0) return sma__posix_fail(errno, os_err);
  int rc = identity_verdict(&sb, ident);
  if (rc == 0 && !proven_unused(fd, &sb)) rc = SMA_EINUSE;
  close(fd);
  if (rc != 0 || dry_run) return rc;
  SMA__PAUSE_POINT(); /* tests: the window between judging and removing */
  return unlink_unused(file.path, ident, os_err);
}

/* Whether `staged` is a private name a create builds under (shm.c's
 * stage_name): the prefix, and no path. */
static int is_staged_name(const char *staged) {
  return strncmp(staged, STAGED_PREFIX, strlen(STAGED_PREFIX)) == 0 && strchr(staged, '/') == NULL;
}

/* The intent's object (shm.c's stage_intent): "posix DEV STAGED NAME". */
static int parse_object(const char *object, unsigned long long *dev, char *staged, size_t cap,
                        const char **name) {
  int at = 0;
  char fmt[32];
  snprintf(fmt, sizeof fmt, "posix %%llu %%%zus %%n", cap - 1);
  if (sscanf(object, fmt, dev, staged, &at) != 2 || at == 0) return -1;
  *name = object + at;
  return is_staged_name(staged) ? 0 : -1;
}

/* A staged file of this user's: a regular file with one name (the
 * staged one: a rename or link elsewhere makes it something else). */
static int staged_ours(const struct stat *sb) {
  return S_ISREG(sb->st_mode) && sb->st_uid == geteuid() && sb->st_nlink == 1;
}

static int dir_intent_objects(const char *object, int (*fn)(const sma__os_stray_t *, void *),
                              void *user, size_t *found, int *os_err) {
  unsigned long long dev;
  char staged[48];
  const char *name;
  struct stat here, sb;
  if (parse_object(object, &dev, staged, sizeof staged, &name) != 0) return SMA_ENOTSUP;
  if (stat(SHM_DIR, &here) != 0) return sma__posix_fail(errno, os_err);
  if ((unsigned long long)here.st_dev != dev) return SMA_ENOTSUP; /* another /dev/shm */
  shm_file_t file = shm_file(staged);
  if (fstatat(AT_FDCWD, file.path, &sb, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? 0 : sma__posix_fail(errno, os_err);
  if (!staged_ours(&sb)) return 0;
  sma__os_stray_t s;
  memset(&s, 0, sizeof s);
  snprintf(s.label, sizeof s.label, "%s (unpublished: " SHM_DIR "/%s)", name, staged);
  s.ident[0] = (uint64_t)sb.st_dev;
  s.ident[1] = (uint64_t)sb.st_ino;
  *found = 1;
  return fn(&s, user);
}

/* A staged file is never opened by its name by anyone but its creator,
 * which is gone (common code's verdict), and no create can take that
 * name again (it is random, made exclusively): judging the file through a
 * descriptor and unlinking the name, which still names it (checked
 * after), removes that file and no other. */
static int dir_remove_stray(const sma__os_stray_t *stray, int dry_run, int *os_err) {
  const char *open_paren = strstr(stray->label, "(unpublished: " SHM_DIR "/");
  if (open_paren == NULL) return SMA_ENOENT;
  char staged[48];
  const char *at = open_paren + strlen("(unpublished: " SHM_DIR "/");
  size_t len = strcspn(at, ")");
  if (len == 0 || len >= sizeof staged) return SMA_ENOENT;
  memcpy(staged, at, len);
  staged[len] = '\0';
  if (!is_staged_name(staged)) return SMA_ENOENT;
  shm_file_t file = shm_file(staged);
  struct stat sb, again;
  int fd = open_path(file.path, &sb);
  if (fd < 0) return sma__posix_fail(errno, os_err);
  int rc = 0;
  if ((uint64_t)sb.st_dev != stray->ident[0] || (uint64_t)sb.st_ino != stray->ident[1])
    rc = SMA_EREPLACED;
  else if (!staged_ours(&sb) || !proven_unused(fd, &sb))
    rc = SMA_EINUSE;
  SMA__PAUSE_AT("stray");
  if (rc == 0 && !dry_run) {
    if (fstatat(AT_FDCWD, file.path, &again, AT_SYMLINK_NOFOLLOW) != 0 ||
        again.st_ino != sb.st_ino || again.st_dev != sb.st_dev)
      rc = SMA_EREPLACED;
    else if (unlink(file.path) != 0)
      rc = sma__posix_fail(errno, os_err);
  }
  close(fd);
  return rc;
}
#endif /* __linux__ */

/* Without /dev/shm and /proc (Darwin), nothing shows who maps a segment,
 * so none is ever proven unused, and strays cannot be enumerated. */

/* A table only where /dev/shm and /proc show who maps what. */
int sma__os_mappers_take(sma__os_mappers_t **out, int *os_err) {
  (void)os_err;
  *out = OS->posix_shm_dir ? sma__mappers_build() : NULL;
  return 0;
}

int sma__os_stat(const char *name, const sma__os_mappers_t *mappers, sma__os_stat_t *st,
                 int *os_err) {
#if defined(__linux__)
  if (OS->posix_shm_dir) return dir_stat(name, mappers, st, os_err);
#endif
  (void)name;
  (void)mappers;
  (void)os_err;
  st->attached = -1;
  return 0;
}

/* gc, where /dev/shm shows who holds what (common code asks only where
 * caps.proves_unused, so the darwin personality never gets here).
 * Elsewhere (macOS) src/no_gc.c stands in. */
#if defined(__linux__)
int sma__os_remove_unused(const char *name, const uint64_t ident[2], int dry_run, int *os_err) {
  return OS->posix_shm_dir ? dir_remove_unused(name, ident, dry_run, os_err) : SMA_EINUSE;
}

int sma__os_intent_objects(const char *object, uint64_t creator,
                           int (*fn)(const sma__os_stray_t *stray, void *user), void *user,
                           size_t *found, int *os_err) {
  (void)creator; /* tmpfs keeps no creator: the intent names the file */
  *found = 0;
  return OS->posix_shm_dir ? dir_intent_objects(object, fn, user, found, os_err) : SMA_ENOTSUP;
}

int sma__os_remove_stray(const sma__os_stray_t *stray, int dry_run, int *os_err) {
  return OS->posix_shm_dir ? dir_remove_stray(stray, dry_run, os_err) : SMA_EINUSE;
}

int sma__os_restore_revoked(const char *object, int *os_err) {
  (void)object;
  (void)os_err;
  return SMA_ENOTSUP; /* the lease holds a candidate still: nothing is revoked */
}
#endif

int sma__os_list(int (*fn)(const char *name, void *user), void *user, int *os_err) {
  if (USE_INDEX) return SMA_ENOTSUP; /* common code walks the index */
  DIR *d = opendir(SHM_DIR);
  if (d == NULL) return sma__posix_fail(errno, os_err);
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') rc = fn(e->d_name, user);
  closedir(d);
  return rc;
}
