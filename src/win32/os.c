/* The process-level part of the platform contract on Windows: CSPRNG, pid,
 * clock, name counter. */
#include "../platform.h"
#include "os.h"

#include <windows.h>
#include <bcrypt.h>
#include <sddl.h>
#include <string.h>

/* The only documented global state of the library (sma.h); the backend's
 * keep-alive table in shm.c is the Windows-only other one. */
static volatile LONG64 name_counter;

int sma__os_random(void *buf, size_t n, int *os_err) {
  NTSTATUS st = BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  if (st != 0) {
    *os_err = (int)st;
    return SMA_EOS;
  }
  return 0;
}

/* The mapping cache's lock (unused while sma__os_identify() says
 * SMA_ENOTSUP, kept for the contract). Windows has no fork. */
static SRWLOCK maps_lock = SRWLOCK_INIT;
/* Windows has no fork(): the lock is always this process's. */
int sma__os_maps_lock(void) {
  AcquireSRWLockExclusive(&maps_lock);
  return 0;
}
int sma__os_maps_lock_to_release(void) { return sma__os_maps_lock(); }

void sma__os_maps_unlock(void) { ReleaseSRWLockExclusive(&maps_lock); }

uint64_t sma__os_pid(void) { return (uint64_t)GetCurrentProcessId(); }

int64_t sma__os_now_ns(void) {
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
  /* 100 ns ticks since 1601-01-01 to ns since 1970-01-01. */
  return (int64_t)(t - 116444736000000000ull) * 100;
}

int sma__os_pid_alive(uint64_t pid) {
  if (pid == 0 || pid > 0xffffffffu) return -1;
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
  if (h == NULL) return GetLastError() == ERROR_INVALID_PARAMETER ? 0 : -1;
  DWORD r = WaitForSingleObject(h, 0);
  CloseHandle(h);
  return r == WAIT_TIMEOUT ? 1 : 0;
}

void sma__os_boot_id(unsigned char id[16]) {
  /* Windows segments do not outlive their processes, let alone a boot. */
  memset(id, 0, 16);
}

uint64_t sma__os_pidns(void) { return 0; /* no pid namespaces */ }

uint64_t sma__os_pid_start(uint64_t pid) {
  (void)pid;
  return 0; /* not needed: no intent is written here */
}

uint64_t sma__os_counter_next(void) { return (uint64_t)InterlockedIncrement64(&name_counter); }

uint64_t sma__os_counter_read(void) {
  return (uint64_t)InterlockedCompareExchange64(&name_counter, 0, 0);
}

/* The string form of a SID from the process token (TokenUser, TokenOwner
 * or TokenPrimaryGroup); LocalFree() it. */
DWORD sma__win32_token_sid(TOKEN_INFORMATION_CLASS cls, wchar_t **out) {
  HANDLE token;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return GetLastError();
  union {
    TOKEN_USER user;
    TOKEN_OWNER owner;
    TOKEN_PRIMARY_GROUP group;
    unsigned char bytes[512];
  } info;
  DWORD len, e = 0;
  if (!GetTokenInformation(token, cls, &info, sizeof info, &len)) {
    e = GetLastError();
  } else {
    PSID sid = cls == TokenUser    ? info.user.User.Sid
               : cls == TokenOwner ? info.owner.Owner
                                   : info.group.PrimaryGroup;
    if (!ConvertSidToStringSidW(sid, out)) e = GetLastError();
  }
  CloseHandle(token);
  return e;
}

/* The one GetLastError() translation of this backend. */
static int from_win32(DWORD e) {
  switch (e) {
  case ERROR_SUCCESS: return 0;
  case ERROR_ALREADY_EXISTS:
  case ERROR_FILE_EXISTS: return SMA_EEXIST;
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND: return SMA_ENOENT;
  case ERROR_ACCESS_DENIED:
  case ERROR_PRIVILEGE_NOT_HELD: return SMA_EACCES;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
  case ERROR_COMMITMENT_LIMIT:
  case ERROR_DISK_FULL: return SMA_ENOSPC;
  case ERROR_INVALID_NAME:
  case ERROR_BAD_PATHNAME: return SMA_ENAME;
  case ERROR_FILENAME_EXCED_RANGE: return SMA_ENAMETOOLONG;
  case ERROR_TOO_MANY_OPEN_FILES:
  case ERROR_NO_SYSTEM_RESOURCES: return SMA_ELIMIT;
  case ERROR_INVALID_PARAMETER: return SMA_EINVAL;
  default: return SMA_EOS;
  }
}

int sma__win32_fail(DWORD e, int *os_err) {
  *os_err = (int)e;
  SetLastError(e);
  return from_win32(e);
}
