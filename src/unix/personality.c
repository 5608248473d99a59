/* The per-OS tables of personality.h. */
#include "personality.h"

#if defined(__APPLE__) || defined(SMA_PERSONALITY_DARWIN)
static const sma__unix_personality_t personality = {
    .os = "darwin",
    .posix_max_name = 30,
    .posix_exact_size = 0,
    .posix_fd_io = 0,
    .posix_reserve = 0,
    .posix_shm_dir = 0,
    .sysv_proc = 0,
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
};
#endif

const sma__unix_personality_t *sma__unix_personality(void) { return &personality; }
