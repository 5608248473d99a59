/* The mapper table of the POSIX backend (mappers.h). Identity, not path
 * text: a path can be faked by any file named "... /dev/shm/NAME", and a
 * segment created unnamed shows as "/dev/shm/#<inode> (deleted)" in its
 * creator's maps, so a mapping is the file's device and inode. */
#define _GNU_SOURCE
#include "mappers.h"

#include <stdlib.h>

#if defined(__linux__)
#  include <dirent.h>
#  include <errno.h>
#  include <fcntl.h>
#  include <stdio.h>
#  include <string.h>
#  include <sys/sysmacros.h> /* major, minor */
#  include <time.h>
#  include <unistd.h>

#  define SHM_DIR "/dev/shm"

/* The initial pid namespace's inode number (PROC_PID_INIT_INO): only
 * there does /proc show every process of the machine. */
#  define INIT_PIDNS_INO 0xEFFFFFFCu

typedef struct mapped {
  unsigned long long ino;
  unsigned count; /* processes mapping it */
} mapped_t;

struct sma__os_mappers {
  unsigned maj, min; /* /dev/shm's device, as maps shows it */
  dev_t dev;
  struct timespec begun; /* the file-time clock before the first read */
  int complete;          /* every process of the machine examined */
  size_t n, cap;
  mapped_t *v; /* sorted by inode once built */
};

static int push(sma__os_mappers_t *m, unsigned long long ino) {
  if (m->n == m->cap) {
    size_t cap = m->cap != 0 ? m->cap * 2 : 256;
    if (cap > SIZE_MAX / sizeof *m->v) return -1;
    mapped_t *v = realloc(m->v, cap * sizeof *v);
    if (v == NULL) return -1;
    m->v = v;
    m->cap = cap;
  }
  m->v[m->n++] = (mapped_t){ino, 1};
  return 0;
}

static int by_ino(const void *a, const void *b) {
  unsigned long long x = ((const mapped_t *)a)->ino, y = ((const mapped_t *)b)->ino;
  return (x > y) - (x < y);
}

/* Sorts v[from..n) and merges equal inodes: adding their counts (the
 * whole table: one per process), or keeping one (one process's entries:
 * a process that maps a file twice is one process mapping it). */
static void merge_from(sma__os_mappers_t *m, size_t from, int add) {
  if (m->n - from < 2) return;
  qsort(m->v + from, m->n - from, sizeof *m->v, by_ino);
  size_t out = from;
  for (size_t i = from + 1; i < m->n; i++) {
    if (m->v[i].ino != m->v[out].ino)
      m->v[++out] = m->v[i];
    else if (add)
      m->v[out].count += m->v[i].count;
  }
  m->n = out + 1;
}

/* "start-end perms offset major:minor inode [path]": the device and inode
 * of one maps line; 0 if the line has none. */
static int parse_line(const char *line, unsigned *maj, unsigned *min, unsigned long long *ino) {
  const char *p = line;
  for (int field = 0; field < 3; field++) {
    p = strchr(p, ' ');
    if (p == NULL) return 0;
    p++;
  }
  char *end;
  unsigned long x = strtoul(p, &end, 16);
  if (*end != ':') return 0;
  unsigned long y = strtoul(end + 1, &end, 16);
  if (*end != ' ') return 0;
  *ino = strtoull(end + 1, &end, 10);
  *maj = (unsigned)x;
  *min = (unsigned)y;
  return 1;
}

/* Adds the /dev/shm files that the maps file `path` shows, each once
 * however many times it is mapped; *lines gets how many lines it had.
 * 0 (also for a process gone before it could be opened), -1 unreadable
 * (no permission, or read error: a process exiting while read counts
 * here, as it did for one segment's scan), -2 no memory. */
static int read_maps(sma__os_mappers_t *m, const char *path, size_t *lines) {
  *lines = 0;
  FILE *f = fopen(path, "re");
  if (f == NULL) return errno == ENOENT || errno == ESRCH ? 0 : -1;
  size_t from = m->n;
  char *line = NULL;
  size_t cap = 0;
  int rc = 0;
  while (rc == 0 && getline(&line, &cap, f) > 0) {
    unsigned maj, min;
    unsigned long long ino;
    ++*lines;
    if (parse_line(line, &maj, &min, &ino) && ino != 0 && maj == m->maj && min == m->min &&
        (m->n == from || m->v[m->n - 1].ino != ino)) /* a file's mappings are often adjacent */
      rc = push(m, ino) != 0 ? -2 : 0;
  }
  if (rc == 0 && ferror(f)) rc = -1;
  free(line);
  fclose(f);
  if (rc == 0) merge_from(m, from, 0); /* one count per process */
  return rc;
}

/* A process whose main thread has exited while others run shows an
 * empty /proc/PID/maps although its memory lives on; any other thread's
 * /proc/PID/task/TID/maps shows it. A process with no other thread and
 * no maps (a kernel thread, a zombie) maps nothing. Same results as
 * read_maps(). */
static int read_other_thread(sma__os_mappers_t *m, const char *pid) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%.20s/task", pid);
  DIR *tasks = opendir(path);
  if (tasks == NULL) return errno == ENOENT || errno == ESRCH ? 0 : -1;
  int rc = 0;
  struct dirent *t;
  while ((t = readdir(tasks)) != NULL) {
    if (t->d_name[0] < '1' || t->d_name[0] > '9' || strcmp(t->d_name, pid) == 0) continue;
    snprintf(path, sizeof path, "/proc/%.20s/task/%.20s/maps", pid, t->d_name);
    size_t lines;
    rc = read_maps(m, path, &lines);
    if (rc != 0 || lines > 0) break; /* one thread's maps are all of them */
  }
  closedir(tasks);
  return rc;
}

/* Adds the /dev/shm files that one process maps (read_maps()). */
static int read_process(sma__os_mappers_t *m, const char *pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%.20s/maps", pid);
  size_t lines;
  int rc = read_maps(m, path, &lines);
  return rc == 0 && lines == 0 ? read_other_thread(m, pid) : rc;
}

/* Does /proc hide other users' processes from this one? A /proc mounted
 * with hidepid=2 ("invisible") or 4 ("ptraceable") lists only the
 * processes the reader may trace, so reading every listed one proves
 * nothing about the others (hidepid=1 leaves them listed, their maps
 * unreadable: already unknown). Root sees through it; anyone else under
 * such a mount, or where the mount cannot be read, is not shown all. */
static int proc_hides_processes(void) {
  if (geteuid() == 0) return 0;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL) return 1;
  int hides = 1; /* until the mount at /proc is found */
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE SUPER" */
    char point[256], *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(line, "%*s %*s %*s %*s %255s", point) != 1) continue;
    if (strcmp(point, "/proc") != 0 || strncmp(dash, " - proc ", 8) != 0) continue;
    const char *hidepid = strstr(dash, "hidepid=");
    /* The last mount at /proc is the one seen. */
    hides = hidepid != NULL && strncmp(hidepid + 8, "0", 1) != 0 &&
            strncmp(hidepid + 8, "off", 3) != 0 && strncmp(hidepid + 8, "1", 1) != 0 &&
            strncmp(hidepid + 8, "noaccess", 8) != 0;
  }
  free(line);
  fclose(f);
  return hides;
}

sma__os_mappers_t *sma__mappers_build(void) {
  sma__os_mappers_t *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  struct stat shm;
  clock_gettime(CLOCK_REALTIME_COARSE, &m->begun); /* the clock file times come from */
  DIR *proc = stat(SHM_DIR, &shm) == 0 ? opendir("/proc") : NULL;
  if (proc == NULL) return m; /* empty and incomplete: every count unknown */
  m->dev = shm.st_dev;
  m->maj = major(shm.st_dev);
  m->min = minor(shm.st_dev);
  int unreadable = 0, rc = 0;
  struct dirent *d;
  while (rc != -2 && (d = readdir(proc)) != NULL) {
    if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
    rc = read_process(m, d->d_name);
    unreadable |= rc != 0;
  }
  closedir(proc);
  if (rc == -2) {
    sma__os_mappers_free(m);
    return NULL;
  }
  merge_from(m, 0, 1);
  m->complete = !unreadable && sma__os_pidns() == INIT_PIDNS_INO && !proc_hides_processes();
  return m;
}

void sma__os_mappers_free(sma__os_mappers_t *mappers) {
  if (mappers == NULL) return;
  free(mappers->v);
  free(mappers);
}

static int before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The table's count for the file `sb`, whenever it was made. */
static int lookup(const sma__os_mappers_t *m, const struct stat *sb) {
  if (m->dev != sb->st_dev) return -1; /* not in /dev/shm: nothing read speaks of it */
  mapped_t key = {(unsigned long long)sb->st_ino, 0};
  const mapped_t *hit = m->n != 0 ? bsearch(&key, m->v, m->n, sizeof *m->v, by_ino) : NULL;
  if (hit != NULL) return hit->count > (unsigned)INT32_MAX ? INT32_MAX : (int)hit->count;
  return m->complete ? 0 : -1;
}

int sma__mappers_attached(const sma__os_mappers_t *m, const struct stat *sb) {
  if (m->dev != sb->st_dev || !before(&sb->st_ctim, &m->begun)) return SMA__MAPPERS_CANNOT_SAY;
  return lookup(m, sb);
}

/* The table is begun after the caller's fstat: it speaks for the file as
 * it was then, whatever its ctime. */
int sma__mappers_attached_now(const struct stat *sb) {
  sma__os_mappers_t *m = sma__mappers_build();
  if (m == NULL) return -1; /* no memory to look: unknown */
  int attached = lookup(m, sb);
  sma__os_mappers_free(m);
  return attached;
}

#else /* no /proc: nothing to count */

sma__os_mappers_t *sma__mappers_build(void) { return NULL; }

void sma__os_mappers_free(sma__os_mappers_t *mappers) { (void)mappers; }

#endif
