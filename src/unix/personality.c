/* The per-OS tables of personality.h. */
#include "personality.h"

/* Whether shm_open() takes O_NONBLOCK is a fact of the C library, not of
 * the personality a test build selects: every Linux C library's shm_open
 * is open() of a /dev/shm file, where anyone may put a FIFO, so Darwin's
 * table on Linux needs the flag as much as Linux's. macOS's shm names are
 * no files (no FIFO can take one) and its shm_open documents only
 * O_RDONLY, O_RDWR, O_CREAT, O_EXCL and O_TRUNC; FreeBSD's refuses any
 * other flag with EINVAL. */
#if defined(__linux__)
#  define SHM_OPEN_NONBLOCK 1
#else
#  define SHM_OPEN_NONBLOCK 0
#endif

#if defined(__APPLE__) || defined(SMA_PERSONALITY_DARWIN)
static const sma__unix_personality_t personality = {
    .os = "darwin",
    .posix_max_name = 30,
    .posix_exact_size = 0,
    .posix_fd_io = 0,
    .posix_reserve = 0,
    .posix_shm_dir = 0,
    .sysv_proc = 0,
    .posix_open_nonblock = SHM_OPEN_NONBLOCK,
};
#elif defined(__linux__)
static const sma__unix_personality_t personality = {
    .os = "linux",
    .posix_max_name = 255, /* NAME_MAX of the /dev/shm file */
    .posix_exact_size = 1,
    .posix_fd_io = 1,
    .posix_reserve = 1,
    .posix_shm_dir = 1,
    .sysv_proc = 1,
    .posix_open_nonblock = SHM_OPEN_NONBLOCK,
};
#else /* the BSDs and others: POSIX calls only, nothing enumerable */
static const sma__unix_personality_t personality = {
    .os = "unix",
    .posix_max_name = 255,
    .posix_exact_size = 1,
    .posix_fd_io = 1,
    .posix_reserve = 1,
    .posix_shm_dir = 0,
    .sysv_proc = 0,
    .posix_open_nonblock = SHM_OPEN_NONBLOCK,
};
#endif

const sma__unix_personality_t *sma__unix_personality(void) { return &personality; }
