/*
 * Windows backend: CreateFileMappingW on the paging file, OpenFileMappingW,
 * MapViewOfFile, VirtualQuery.
 *
 * Names: UTF-8 names are converted to UTF-16 and placed in the Local\
 * namespace (per session), or Global\ when built with
 * -DSMA_WIN32_NAMESPACE=Global (creating there needs
 * SeCreateGlobalPrivilege outside session 0).
 *
 * Lifetime: Windows deletes a mapping when its last handle closes; there is
 * no unlink. So that gridr's lifecycle works (the parent creates, workers
 * load and close later, the parent clears its registry), create() keeps a
 * duplicate of the creator's handle in a process-wide table until this
 * process unlinks the name. unlink() in the creating process releases that
 * handle; the mapping then disappears once every other process has closed
 * it. unlink() in any other process cannot remove the name: it returns
 * SMA_ENOTSUP if the name exists (SMA_ENOENT if not). A creator that exits
 * takes its names with it once their last user closes them.
 */
#include "../platform.h"
#include "sma.h"
#include "../sma_int.h" /* SMA__RECORD_SIZE */

#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#ifndef SMA_WIN32_NAMESPACE
#define SMA_WIN32_NAMESPACE "Local"
#endif
#define NAMESPACE_W_(x) L##x L"\\"
#define NAMESPACE_W(x) NAMESPACE_W_(x)

/* Longest name: MAX_PATH less "Global\" and the NUL, with room to spare. */
enum { WIN32_MAX_NAME = 240 };

/* The commit limit decides, not a fixed size. */
uint64_t sma__os_max_segment(void) { return 0; }

void sma__os_caps(sma_caps_t *caps) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  caps->backend = "win32";
  caps->max_name = WIN32_MAX_NAME;
  caps->granularity = si.dwPageSize ? si.dwPageSize : 4096;
  caps->size_is_exact = 0; /* VirtualQuery reports whole pages */
  caps->can_list = 0;
  caps->unlink_keeps_maps = 1;
  caps->outlives_creator = 0;
  caps->unlink_by_creator_only = 1;
  caps->proves_unused = 0;   /* nothing shows who maps a section */
  caps->reserves_memory = 1; /* SEC_COMMIT charges the commit limit */
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

static int fail(DWORD e, int *os_err) {
  *os_err = (int)e;
  SetLastError(e);
  return from_win32(e);
}

/* "Local\" + the name in UTF-16. */
static int wide_name(const char *name, wchar_t *out, int cap) {
  static const wchar_t prefix[] = NAMESPACE_W(SMA_WIN32_NAMESPACE);
  int plen = (int)(sizeof prefix / sizeof prefix[0]) - 1;
  memcpy(out, prefix, (size_t)plen * sizeof(wchar_t));
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1,
                              out + plen, cap - plen);
  return n > 0 ? 0 : SMA_ENAME; /* invalid UTF-8 */
}

/* ---- the creator's keep-alive handles --------------------------------------- */

typedef struct keep {
  struct keep *next;
  HANDLE handle;
  char name[SMA_NAME_BUF];
} keep_t;

/* Process-wide: names this process created and has not unlinked. */
static SRWLOCK keep_lock = SRWLOCK_INIT;
static keep_t *keep_list;

static int keep_add(const char *name, HANDLE h) {
  keep_t *k = calloc(1, sizeof *k);
  if (k == NULL) return SMA_ENOMEM;
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(),
                       &k->handle, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    free(k);
    return SMA_EOS;
  }
  memcpy(k->name, name, strlen(name) + 1);
  AcquireSRWLockExclusive(&keep_lock);
  k->next = keep_list;
  keep_list = k;
  ReleaseSRWLockExclusive(&keep_lock);
  return 0;
}

/* Removes name's entry and closes its handle; 0 if there was none. */
static int keep_release(const char *name) {
  keep_t *found = NULL;
  AcquireSRWLockExclusive(&keep_lock);
  for (keep_t **p = &keep_list; *p; p = &(*p)->next) {
    if (strcmp((*p)->name, name) == 0) {
      found = *p;
      *p = found->next;
      break;
    }
  }
  ReleaseSRWLockExclusive(&keep_lock);
  if (found == NULL) return 0;
  CloseHandle(found->handle);
  free(found);
  return 1;
}

/* ---- the per-user index ------------------------------------------------------
 * Windows cannot enumerate named mappings, so the names this user created
 * are kept as empty files in %LOCALAPPDATA%\libsma\index, percent-encoded
 * (characters other than A-Z a-z 0-9 . _ - become %XX). Best-effort: a
 * failure never fails a create or unlink; listing drops stale entries. */

static DWORD token_sid_string(TOKEN_INFORMATION_CLASS cls, wchar_t **out);

/* Writes the index directory's path: %LOCALAPPDATA%, then libsma, then index. */
static int index_path(wchar_t *buf, size_t cap) {
  DWORD n = GetEnvironmentVariableW(L"LOCALAPPDATA", buf, (DWORD)cap);
  if (n == 0 || n + 16 >= cap) return -1;
  wcscat(buf, L"\\libsma\\index");
  return 0;
}

/* The index directory's path, creating the directory (and its parent) if
 * needed. */
static int index_dir(wchar_t *buf, size_t cap) {
  if (index_path(buf, cap) != 0) return -1;
  wchar_t *last = wcsrchr(buf, L'\\');
  *last = L'\0';
  CreateDirectoryW(buf, NULL);
  *last = L'\\';
  if (!CreateDirectoryW(buf, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
    return -1;
  return 0;
}

/* Whether `owner` is this user, or the default owner of what this user
 * creates (an elevated administrator's files belong to Administrators). */
static int owner_is_this_user(PSID owner) {
  wchar_t *theirs = NULL, *mine = NULL, *dflt = NULL;
  int ok = ConvertSidToStringSidW(owner, &theirs) &&
           token_sid_string(TokenUser, &mine) == 0 &&
           token_sid_string(TokenOwner, &dflt) == 0 &&
           (wcscmp(theirs, mine) == 0 || wcscmp(theirs, dflt) == 0);
  LocalFree(theirs);
  LocalFree(mine);
  LocalFree(dflt);
  return ok;
}

/* Opens the index directory as the Unix index does: not through a reparse
 * point (a junction or symlink planted in its place), a directory, owned
 * by this user. The handle is opened without FILE_SHARE_DELETE, so while
 * it is held nobody can rename or replace the directory, and the path
 * operations inside it stay inside it. INVALID_HANDLE_VALUE otherwise. */
static HANDLE index_guard(wchar_t *buf, size_t cap) {
  if (index_dir(buf, cap) != 0) return INVALID_HANDLE_VALUE;
  HANDLE h = CreateFileW(buf, FILE_LIST_DIRECTORY | READ_CONTROL,
                         FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                         FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  if (h == INVALID_HANDLE_VALUE) return h;
  BY_HANDLE_FILE_INFORMATION info;
  PSID owner = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  int ok = GetFileInformationByHandle(h, &info) &&
           (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
           !(info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
           GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL,
                           NULL, NULL, &sd) == ERROR_SUCCESS &&
           owner != NULL && owner_is_this_user(owner);
  LocalFree(sd);
  if (!ok) {
    CloseHandle(h);
    return INVALID_HANDLE_VALUE;
  }
  return h;
}

/* The entry's path, with the guard that must be held while it is used
 * (CloseHandle it); INVALID_HANDLE_VALUE if the index is unusable. */
static HANDLE index_entry(const char *name, wchar_t *buf, size_t cap) {
  HANDLE guard = index_guard(buf, cap);
  if (guard == INVALID_HANDLE_VALUE) return guard;
  size_t len = wcslen(buf);
  if (len + 1 + 3 * strlen(name) + 1 > cap) {
    CloseHandle(guard);
    return INVALID_HANDLE_VALUE;
  }
  buf[len++] = L'\\';
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';
    if (plain) {
      buf[len++] = (wchar_t)*p;
    } else {
      static const char hex[] = "0123456789ABCDEF";
      buf[len++] = L'%';
      buf[len++] = (wchar_t)hex[*p >> 4];
      buf[len++] = (wchar_t)hex[*p & 15];
    }
  }
  buf[len] = L'\0';
  return guard;
}

static void index_add(const char *name) {
  wchar_t path[1024];
  HANDLE guard = index_entry(name, path, 1024);
  if (guard == INVALID_HANDLE_VALUE) return;
  HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  if (f != INVALID_HANDLE_VALUE) CloseHandle(f);
  CloseHandle(guard);
}

static void index_remove(const char *name) {
  wchar_t path[1024];
  HANDLE guard = index_entry(name, path, 1024);
  if (guard == INVALID_HANDLE_VALUE) return;
  DeleteFileW(path);
  CloseHandle(guard);
}

/* Decodes an index file name back to the segment name; false if bad. */
static int index_decode(const wchar_t *file, char *name, size_t cap) {
  size_t n = 0;
  for (const wchar_t *p = file; *p; p++) {
    if (n + 1 >= cap) return 0;
    if (*p == L'%') {
      int v = 0;
      for (int k = 1; k <= 2; k++) {
        wchar_t c = p[k];
        int d = c >= L'0' && c <= L'9' ? c - L'0' : c >= L'A' && c <= L'F' ? c - L'A' + 10 : -1;
        if (d < 0) return 0;
        v = v * 16 + d;
      }
      name[n++] = (char)v;
      p += 2;
    } else if (*p < 128) {
      name[n++] = (char)*p;
    } else {
      return 0;
    }
  }
  name[n] = '\0';
  return n > 0;
}

/* ---- segments ------------------------------------------------------------------ */

/* The string form of a SID from the process token (TokenUser, TokenOwner
 * or TokenPrimaryGroup); LocalFree() it. */
static DWORD token_sid_string(TOKEN_INFORMATION_CLASS cls, wchar_t **out) {
  HANDLE token;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
    return GetLastError();
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

/* A DACL granting all access to this user (and its primary group with
 * SMA_CREATE_GROUP) and nobody else, protected from inheritance. The user's
 * SID is named explicitly rather than through OWNER RIGHTS, which not
 * every implementation (Wine) honours. */
static DWORD make_security(unsigned flags, SECURITY_ATTRIBUTES *sa) {
  wchar_t *user = NULL, *group = NULL;
  DWORD e = token_sid_string(TokenUser, &user);
  if (e == 0 && (flags & SMA_CREATE_GROUP))
    e = token_sid_string(TokenPrimaryGroup, &group);
  wchar_t sddl[512];
  if (e == 0)
    swprintf(sddl, sizeof sddl / sizeof sddl[0], L"D:P(A;;GA;;;%ls)%ls%ls%ls",
               user, group ? L"(A;;GA;;;" : L"", group ? group : L"",
               group ? L")" : L"");
  LocalFree(user);
  LocalFree(group);
  sa->nLength = sizeof *sa;
  sa->bInheritHandle = FALSE;
  sa->lpSecurityDescriptor = NULL;
  if (e == 0 && !ConvertStringSecurityDescriptorToSecurityDescriptorW(
                    sddl, SDDL_REVISION_1, &sa->lpSecurityDescriptor, NULL))
    e = GetLastError();
  return e;
}

static int map_view(HANDLE h, size_t size, sma__os_segment_t *seg) {
  void *addr = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
  if (addr == NULL) return (int)GetLastError();
  if (size == 0) { /* opened: the size is the view's */
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(addr, &mbi, sizeof mbi) == 0) {
      DWORD e = GetLastError();
      UnmapViewOfFile(addr);
      return (int)e;
    }
    size = mbi.RegionSize;
  }
  seg->addr = addr;
  seg->size = size;
  seg->handle = (intptr_t)h;
  return 0;
}

int sma__os_create(const char *name, size_t size, unsigned flags,
                   const unsigned char *record, sma__os_segment_t *seg,
                   int *os_err) {
  wchar_t wname[SMA_NAME_BUF + 16];
  if (wide_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0)
    return SMA_ENAME;
  SECURITY_ATTRIBUTES sa;
  DWORD sec = make_security(flags, &sa);
  if (sec != 0) return fail(sec, os_err);
  /* SEC_COMMIT charges the whole size now: no commit, no mapping. Large
   * pages need SeLockMemoryPrivilege and a size in whole large pages;
   * without them, normal pages. */
  HANDLE h = NULL;
  DWORD last = 0;
  unsigned effective = flags & SMA_CREATE_GROUP;
  SIZE_T large = GetLargePageMinimum();
  if ((flags & SMA_CREATE_HUGEPAGES) && large != 0 && size % large == 0) {
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa,
                           PAGE_READWRITE | SEC_COMMIT | SEC_LARGE_PAGES,
                           (DWORD)((uint64_t)size >> 32),
                           (DWORD)(size & 0xffffffffu), wname);
    last = GetLastError();
    if (h != NULL && last != ERROR_ALREADY_EXISTS)
      effective |= SMA_CREATE_HUGEPAGES;
  }
  if (h == NULL) {
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa,
                           PAGE_READWRITE | SEC_COMMIT,
                           (DWORD)((uint64_t)size >> 32),
                           (DWORD)(size & 0xffffffffu), wname);
    last = GetLastError();
  }
  LocalFree(sa.lpSecurityDescriptor);
  if (h == NULL) return fail(last, os_err);
  if (last == ERROR_ALREADY_EXISTS) { /* a valid handle to someone else's */
    CloseHandle(h);
    return fail(ERROR_ALREADY_EXISTS, os_err);
  }
  memset(seg, 0, sizeof *seg);
  seg->effective = effective;
  int e = map_view(h, size, seg);
  /* SEC_COMMIT memory is committed: the copy cannot fault. A creator
   * killed at any moment takes the section with it (no other handle). */
  if (e == 0)
    memcpy((unsigned char *)seg->addr + size - SMA__RECORD_SIZE, record,
           SMA__RECORD_SIZE);
  if (e == 0 && keep_add(name, h) != 0) {
    e = (int)ERROR_NOT_ENOUGH_MEMORY;
    UnmapViewOfFile(seg->addr);
  }
  if (e != 0) {
    CloseHandle(h); /* the last handle: the mapping is gone */
    return fail((DWORD)e, os_err);
  }
  return 0;
}

int sma__os_publish(const char *name, sma__os_segment_t *seg, int *os_err) {
  (void)seg;
  (void)os_err;
  index_add(name);
  return 0;
}

/* Views of SEC_COMMIT sections are committed memory: a copy cannot fault. */
int sma__os_read(const sma__os_segment_t *seg, uint64_t offset, void *buf,
                 size_t n, int *os_err) {
  (void)os_err;
  return sma__read_mapped(seg, offset, buf, n);
}

int sma__os_open(const char *name, sma__os_segment_t *seg, int *os_err) {
  wchar_t wname[SMA_NAME_BUF + 16];
  if (wide_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0)
    return SMA_ENAME;
  HANDLE h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wname);
  if (h == NULL) return fail(GetLastError(), os_err);
  memset(seg, 0, sizeof *seg);
  int e = map_view(h, 0, seg);
  if (e != 0) {
    CloseHandle(h);
    return fail((DWORD)e, os_err);
  }
  return 0;
}

int sma__os_close(sma__os_segment_t *seg, int *os_err) {
  DWORD e = 0;
  if (seg->addr != NULL && !UnmapViewOfFile(seg->addr)) e = GetLastError();
  if (seg->handle != -1 && !CloseHandle((HANDLE)seg->handle) && e == 0)
    e = GetLastError();
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
  return e != 0 ? fail(e, os_err) : 0;
}

int sma__os_unlink(const char *name, int *os_err) {
  if (keep_release(name)) {
    index_remove(name);
    return 0;
  }
  /* Not ours: it cannot be removed from here. Say whether it exists. */
  wchar_t wname[SMA_NAME_BUF + 16];
  if (wide_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0)
    return SMA_ENAME;
  HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, wname);
  if (h == NULL) {
    DWORD e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND) index_remove(name);
    return fail(e, os_err);
  }
  CloseHandle(h);
  *os_err = 0;
  return SMA_ENOTSUP;
}

int sma__os_stat(const char *name, sma__os_stat_t *st, int *os_err) {
  (void)name;
  (void)os_err;
  st->attached = -1; /* Windows does not say who maps a section */
  return 0;
}

/* A section exists only while some process holds a handle to it: one
 * that can be opened is in use by definition, never an orphan. */
int sma__os_remove_unused(const char *name, const uint64_t ident[2],
                          int dry_run, int *os_err) {
  (void)name;
  (void)ident;
  (void)dry_run;
  (void)os_err;
  return SMA_EINUSE;
}

/* A section exists only while a handle to it does: its creator's
 * death takes it along, so there are never strays. */
int sma__os_strays(int (*fn)(const sma__os_stray_t *stray, void *user),
                   void *user, int *os_err) {
  (void)fn;
  (void)user;
  (void)os_err;
  return 0;
}

int sma__os_remove_stray(const sma__os_stray_t *stray, int dry_run,
                         int *os_err) {
  (void)stray;
  (void)dry_run;
  (void)os_err;
  return SMA_ENOENT;
}

static int segment_exists(const char *name) {
  wchar_t wname[SMA_NAME_BUF + 16];
  if (wide_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0)
    return 0;
  HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, wname);
  if (h != NULL) CloseHandle(h);
  return h != NULL || GetLastError() != ERROR_FILE_NOT_FOUND;
}

int sma__os_index_path(char *buf, size_t cap) {
  wchar_t dir[1024];
  if (index_path(dir, 1024) != 0) return SMA_EOS; /* a path, made or not */
  int n = WideCharToMultiByte(CP_UTF8, 0, dir, -1, buf, (int)(cap > 0x7fffffff ? 0x7fffffff : cap),
                              NULL, NULL);
  return n > 0 ? 0 : SMA_ENOBUFS;
}

int sma__os_list(int (*fn)(const char *name, void *user), void *user,
                 int *os_err) {
  (void)os_err;
  wchar_t pattern[1024];
  if (index_dir(pattern, 1024 - 4) != 0) return 0; /* no index: none made */
  HANDLE guard = index_guard(pattern, 1024 - 4);
  if (guard == INVALID_HANDLE_VALUE) return SMA_EINDEX;
  wcscat(pattern, L"\\*");
  WIN32_FIND_DATAW fd;
  HANDLE find = FindFirstFileW(pattern, &fd);
  if (find == INVALID_HANDLE_VALUE) {
    CloseHandle(guard);
    return 0;
  }
  int rc = 0;
  do {
    char name[SMA_NAME_BUF];
    if (fd.cFileName[0] == L'.' || !index_decode(fd.cFileName, name, sizeof name))
      continue;
    if (segment_exists(name))
      rc = fn(name, user);
    else
      index_remove(name); /* its creator and users are gone */
  } while (rc == 0 && FindNextFileW(find, &fd));
  FindClose(find);
  CloseHandle(guard);
  return rc;
}
