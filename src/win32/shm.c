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
#include "os.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#ifndef SMA_WIN32_NAMESPACE
#  define SMA_WIN32_NAMESPACE "Local"
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

/* `prefix` + the name in UTF-16. */
static int prefixed_name(const wchar_t *prefix, const char *name, wchar_t *out, int cap) {
  int plen = (int)wcslen(prefix);
  memcpy(out, prefix, (size_t)plen * sizeof(wchar_t));
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, out + plen, cap - plen);
  return n > 0 ? 0 : SMA_ENAME; /* invalid UTF-8 */
}

/* "Local\" + the name: the section's name. */
static int wide_name(const char *name, wchar_t *out, int cap) {
  return prefixed_name(NAMESPACE_W(SMA_WIN32_NAMESPACE), name, out, cap);
}

/* ---- the being-created mark --------------------------------------------------
 * A named manual-reset event beside the section ("Local\smac-" + name, at
 * most 251 characters, within an object name's MAX_PATH), created
 * unsignalled before the section and signalled by publish(). open() reads
 * it after opening the section: an unsignalled event means that section's
 * creator has not published it. A signalled one, or none, means
 * published: the event lives only while a handle to it does, and a loader
 * that holds it a moment longer sees it signalled. A creator killed
 * during create() takes its mark along (and its section, unless a loader
 * holds that). */

static int mark_name(const char *name, wchar_t *out, int cap) {
  return prefixed_name(NAMESPACE_W(SMA_WIN32_NAMESPACE) L"smac-", name, out, cap);
}

static DWORD mark_create(const char *name, SECURITY_ATTRIBUTES *sa, HANDLE *out) {
  wchar_t wname[SMA_NAME_BUF + 24];
  if (mark_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0) return ERROR_INVALID_NAME;
  HANDLE ev = CreateEventW(sa, TRUE, FALSE, wname);
  if (ev == NULL) return GetLastError();
  /* Left signalled by an earlier creator of this name and still held by
   * a loader: mark it again. (A creator racing for the same name loses
   * at the section, exclusively.) */
  if (GetLastError() == ERROR_ALREADY_EXISTS) ResetEvent(ev);
  *out = ev;
  return 0;
}

/* 1 if `name`'s creator has not published it yet. */
static int mark_present(const char *name) {
  wchar_t wname[SMA_NAME_BUF + 24];
  if (mark_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0) return 0;
  HANDLE ev = OpenEventW(SYNCHRONIZE, FALSE, wname);
  if (ev == NULL) return 0;
  int unsignalled = WaitForSingleObject(ev, 0) == WAIT_TIMEOUT;
  CloseHandle(ev);
  return unsignalled;
}

static void mark_remove(sma__os_segment_t *seg) {
  if (seg->mark == 0) return;
  SetEvent((HANDLE)seg->mark);
  CloseHandle((HANDLE)seg->mark);
  seg->mark = 0;
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
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &k->handle, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
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

/* ---- segments ------------------------------------------------------------------ */

/* A DACL granting all access to this user (and its primary group with
 * SMA_CREATE_GROUP) and nobody else, protected from inheritance. The user's
 * SID is named explicitly rather than through OWNER RIGHTS, which not
 * every implementation (Wine) honours. */
static DWORD make_security(unsigned flags, SECURITY_ATTRIBUTES *sa) {
  wchar_t *user = NULL, *group = NULL;
  DWORD e = sma__win32_token_sid(TokenUser, &user);
  if (e == 0 && (flags & SMA_CREATE_GROUP)) e = sma__win32_token_sid(TokenPrimaryGroup, &group);
  wchar_t sddl[512];
  if (e == 0)
    swprintf(sddl, sizeof sddl / sizeof sddl[0], L"D:P(A;;GA;;;%ls)%ls%ls%ls", user,
             group ? L"(A;;GA;;;" : L"", group ? group : L"", group ? L")" : L"");
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

static int map_view(HANDLE h, size_t size, int readonly, sma__os_segment_t *seg) {
  void *addr = MapViewOfFile(h, readonly ? FILE_MAP_READ : FILE_MAP_ALL_ACCESS, 0, 0, size);
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
  seg->readonly = readonly;
  return 0;
}

int sma__os_create(const char *name, size_t size, unsigned flags, const unsigned char *record,
                   sma__os_segment_t *seg, int *os_err) {
  wchar_t wname[SMA_NAME_BUF + 16];
  if (wide_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0) return SMA_ENAME;
  SECURITY_ATTRIBUTES sa;
  DWORD sec = make_security(flags, &sa);
  if (sec != 0) return sma__win32_fail(sec, os_err);
  HANDLE mark;
  sec = mark_create(name, &sa, &mark);
  if (sec != 0) {
    LocalFree(sa.lpSecurityDescriptor);
    return sma__win32_fail(sec, os_err);
  }
  /* SEC_COMMIT charges the whole size now: no commit, no mapping. Large
   * pages need SeLockMemoryPrivilege and a size in whole large pages;
   * without them, normal pages. */
  HANDLE h = NULL;
  DWORD last = 0;
  unsigned effective = flags & SMA_CREATE_GROUP;
  SIZE_T large = GetLargePageMinimum();
  if ((flags & SMA_CREATE_HUGEPAGES) && large != 0 && size % large == 0) {
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE | SEC_COMMIT | SEC_LARGE_PAGES,
                           (DWORD)((uint64_t)size >> 32), (DWORD)(size & 0xffffffffu), wname);
    last = GetLastError();
    if (h != NULL && last != ERROR_ALREADY_EXISTS) effective |= SMA_CREATE_HUGEPAGES;
  }
  if (h == NULL) {
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE | SEC_COMMIT,
                           (DWORD)((uint64_t)size >> 32), (DWORD)(size & 0xffffffffu), wname);
    last = GetLastError();
  }
  LocalFree(sa.lpSecurityDescriptor);
  if (h != NULL && last == ERROR_ALREADY_EXISTS) { /* a valid handle to someone else's */
    CloseHandle(h);
    h = NULL;
  }
  if (h == NULL) {
    CloseHandle(mark); /* unsignalled, but the only handle: gone */
    return sma__win32_fail(last, os_err);
  }
  memset(seg, 0, sizeof *seg);
  seg->effective = effective;
  seg->mark = (intptr_t)mark;
  int e = map_view(h, size, 0, seg);
  /* SEC_COMMIT memory is committed: the copy cannot fault. A creator
   * killed at any moment takes the section with it (no other handle). */
  if (e == 0)
    memcpy((unsigned char *)seg->addr + size - SMA__RECORD_SIZE, record, SMA__RECORD_SIZE);
  if (e == 0 && keep_add(name, h) != 0) {
    e = (int)ERROR_NOT_ENOUGH_MEMORY;
    UnmapViewOfFile(seg->addr);
  }
  if (e != 0) {
    CloseHandle(h); /* the last handle: the mapping is gone */
    CloseHandle(mark);
    return sma__win32_fail((DWORD)e, os_err);
  }
  return 0;
}

int sma__os_publish(const char *name, sma__os_segment_t *seg, int *os_err) {
  (void)name;
  (void)os_err;
  mark_remove(seg);
  return 0;
}

int sma__os_abandon(const char *name, sma__os_segment_t *seg, int *os_err) {
  /* The section lives while a handle does: drop the kept one, then ours
   * (close() also drops the unsignalled mark). */
  keep_release(name);
  return sma__os_close(seg, os_err);
}

/* Views of SEC_COMMIT sections are committed memory: a copy cannot fault. */
int sma__os_read(const sma__os_segment_t *seg, uint64_t offset, void *buf, size_t n, int *os_err) {
  (void)os_err;
  return sma__read_mapped(seg, offset, buf, n);
}

/* A section has no identity to read without opening it: the mapping
 * cache is not used on Windows. */
int sma__os_identify(const char *name, int readonly, uint64_t ident[2], size_t *size, int *creating,
                     int *os_err) {
  (void)name;
  (void)readonly;
  (void)ident;
  (void)size;
  (void)creating;
  (void)os_err;
  return SMA_ENOTSUP;
}

/* A read-only open asks for FILE_MAP_READ only, both of the section (so
 * a DACL granting only read suffices) and of the view (a write faults). */
int sma__os_open(const char *name, int readonly, sma__os_segment_t *seg, int *os_err) {
  wchar_t wname[SMA_NAME_BUF + 16];
  if (wide_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0) return SMA_ENAME;
  HANDLE h = OpenFileMappingW(readonly ? FILE_MAP_READ : FILE_MAP_ALL_ACCESS, FALSE, wname);
  if (h == NULL) return sma__win32_fail(GetLastError(), os_err);
  memset(seg, 0, sizeof *seg);
  int e = map_view(h, 0, readonly, seg);
  if (e != 0) {
    CloseHandle(h);
    return sma__win32_fail((DWORD)e, os_err);
  }
  seg->creating = mark_present(name);
  return 0;
}

/* Large pages are a property of the section (SEC_LARGE_PAGES) that no
 * call reports to a process that opens it. */
int sma__os_huge_mapped(const sma__os_segment_t *seg) {
  (void)seg;
  return -1;
}

int sma__os_segment_intact(const sma__os_segment_t *seg) {
  (void)seg; /* no fork() */
  return 1;
}

int sma__os_close(sma__os_segment_t *seg, int *os_err) {
  DWORD e = 0;
  if (seg->addr != NULL && !UnmapViewOfFile(seg->addr)) e = GetLastError();
  if (seg->handle != -1 && !CloseHandle((HANDLE)seg->handle) && e == 0) e = GetLastError();
  if (seg->mark != 0) CloseHandle((HANDLE)seg->mark); /* never published */
  seg->mark = 0;
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
  return e != 0 ? sma__win32_fail(e, os_err) : 0;
}

int sma__os_unlink(const char *name, int *os_err) {
  if (keep_release(name)) return 0;
  /* Not ours: it cannot be removed from here. Say whether it exists. */
  wchar_t wname[SMA_NAME_BUF + 16];
  if (wide_name(name, wname, (int)(sizeof wname / sizeof wname[0])) != 0) return SMA_ENAME;
  HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, wname);
  if (h == NULL) return sma__win32_fail(GetLastError(), os_err);
  CloseHandle(h);
  *os_err = 0;
  return SMA_ENOTSUP;
}

/* No table: Windows does not say who maps a section. */
int sma__os_mappers_take(sma__os_mappers_t **out, int *os_err) {
  (void)os_err;
  *out = NULL;
  return 0;
}

void sma__os_mappers_free(sma__os_mappers_t *mappers) { (void)mappers; }

int sma__os_stat(const char *name, const sma__os_mappers_t *mappers, sma__os_stat_t *st,
                 int *os_err) {
  (void)mappers;
  (void)name;
  (void)os_err;
  st->attached = -1; /* Windows does not say who maps a section */
  return 0;
}

/* gc (remove_unused, strays, remove_stray): src/no_gc.c. A section exists
 * only while some process holds a handle to it, so one that can be opened
 * is in use by definition, and a creator's death takes its section along:
 * there is never an orphan or a stray to remove (proves_unused 0). */

/* Windows cannot enumerate sections: common code lists the per-user
 * index (src/index.c, src/win32/index.c) and never calls this. */
int sma__os_list(int (*fn)(const char *name, void *user), void *user, int *os_err) {
  (void)fn;
  (void)user;
  (void)os_err;
  return SMA_ENOTSUP;
}
