/* The per-user index's directory and files on Windows (the policy is
 * common: src/index.c): %LOCALAPPDATA%\libsma\index.
 *
 * The directory is opened as the Unix one is: not through a reparse point
 * (a junction or symlink planted in its place), a directory, owned by this
 * user. Its handle is opened without FILE_SHARE_DELETE, so while it is
 * held nobody can rename or replace the directory, and the path
 * operations inside it stay inside it. */
#include "../platform.h"
#include "os.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

enum { PATH_CAP = 1024 };

/* %LOCALAPPDATA%\libsma\index, made or not. */
static int dir_path(wchar_t *buf, size_t cap) {
  DWORD n = GetEnvironmentVariableW(L"LOCALAPPDATA", buf, (DWORD)cap);
  if (n == 0 || n + 16 >= cap) return -1;
  wcscat(buf, L"\\libsma\\index");
  return 0;
}

int sma__os_index_path(char *buf, size_t cap) {
  wchar_t dir[PATH_CAP];
  if (dir_path(dir, PATH_CAP) != 0) return SMA_EOS;
  int n = WideCharToMultiByte(CP_UTF8, 0, dir, -1, buf, (int)(cap > 0x7fffffff ? 0x7fffffff : cap),
                              NULL, NULL);
  return n > 0 ? 0 : SMA_ENOBUFS;
}

/* Whether `owner` is this user, or the default owner of what this user
 * creates (an elevated administrator's files belong to Administrators). */
static int owner_is_this_user(PSID owner) {
  wchar_t *theirs = NULL, *mine = NULL, *dflt = NULL;
  int ok = ConvertSidToStringSidW(owner, &theirs) && sma__win32_token_sid(TokenUser, &mine) == 0 &&
           sma__win32_token_sid(TokenOwner, &dflt) == 0 &&
           (wcscmp(theirs, mine) == 0 || wcscmp(theirs, dflt) == 0);
  LocalFree(theirs);
  LocalFree(mine);
  LocalFree(dflt);
  return ok;
}

static int is_own_directory(HANDLE h) {
  BY_HANDLE_FILE_INFORMATION info;
  PSID owner = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  int ok = GetFileInformationByHandle(h, &info) &&
           (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
           !(info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
           GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL,
                           &sd) == ERROR_SUCCESS &&
           owner != NULL && owner_is_this_user(owner);
  LocalFree(sd);
  return ok;
}

int sma__os_index_open(int create, intptr_t *dir, int *os_err) {
  wchar_t path[PATH_CAP];
  if (dir_path(path, PATH_CAP) != 0) return SMA_EOS;
  if (create) {
    wchar_t *last = wcsrchr(path, L'\\');
    *last = L'\0';
    CreateDirectoryW(path, NULL); /* %LOCALAPPDATA%\libsma */
    *last = L'\\';
    if (!CreateDirectoryW(path, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
      return sma__win32_fail(GetLastError(), os_err);
  }
  HANDLE h = CreateFileW(path, FILE_LIST_DIRECTORY | READ_CONTROL,
                         FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                         FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    *os_err = (int)e;
    return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? SMA_ENOENT : SMA_EINDEX;
  }
  if (!is_own_directory(h)) {
    CloseHandle(h);
    return SMA_EINDEX;
  }
  *dir = (intptr_t)h;
  return 0;
}

/* The entry's full path; entries are ASCII (common code encodes them). */
static int entry_path(const char *entry, wchar_t *buf, size_t cap) {
  if (dir_path(buf, cap) != 0) return -1;
  size_t len = wcslen(buf), n = strlen(entry);
  if (len + 1 + n + 1 > cap) return -1;
  buf[len++] = L'\\';
  for (size_t i = 0; i <= n; i++) buf[len + i] = (wchar_t)(unsigned char)entry[i];
  return 0;
}

int sma__os_index_add(intptr_t dir, const char *entry, int *os_err) {
  (void)dir; /* held: the directory cannot be replaced meanwhile */
  wchar_t path[PATH_CAP];
  if (entry_path(entry, path, PATH_CAP) != 0) return SMA_ENAMETOOLONG;
  HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, OPEN_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  if (f == INVALID_HANDLE_VALUE) return sma__win32_fail(GetLastError(), os_err);
  CloseHandle(f);
  return 0;
}

int sma__os_index_remove(intptr_t dir, const char *entry, int *os_err) {
  (void)dir;
  wchar_t path[PATH_CAP];
  if (entry_path(entry, path, PATH_CAP) != 0) return SMA_ENAMETOOLONG;
  return DeleteFileW(path) ? 0 : sma__win32_fail(GetLastError(), os_err);
}

int sma__os_index_walk(intptr_t dir, int (*fn)(const char *entry, void *user), void *user,
                       int *os_err) {
  (void)dir;
  wchar_t pattern[PATH_CAP];
  if (entry_path("*", pattern, PATH_CAP) != 0) return SMA_EOS;
  WIN32_FIND_DATAW fd;
  HANDLE find = FindFirstFileW(pattern, &fd);
  if (find == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    return e == ERROR_FILE_NOT_FOUND ? 0 : sma__win32_fail(e, os_err);
  }
  int rc = 0;
  do {
    char entry[PATH_CAP];
    if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0) continue;
    if (WideCharToMultiByte(CP_UTF8, 0, fd.cFileName, -1, entry, (int)sizeof entry, NULL, NULL) <=
        0)
      continue; /* not an entry common code could have made */
    rc = fn(entry, user);
  } while (rc == 0 && FindNextFileW(find, &fd));
  FindClose(find);
  return rc;
}

/* Windows sections die with their last handle: no create leaves a stray,
 * so no intent is ever written here. */
int sma__os_index_put(intptr_t dir, const char *entry, const void *data, size_t n, int *os_err) {
  (void)dir; /* held: the directory cannot be replaced meanwhile */
  wchar_t path[PATH_CAP];
  if (entry_path(entry, path, PATH_CAP) != 0) return SMA_ENAMETOOLONG;
  if (n > MAXDWORD) return SMA_EINVAL;
  HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_NEW,
                         FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  if (f == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    return e == ERROR_FILE_EXISTS ? SMA_EEXIST : sma__win32_fail(e, os_err);
  }
  DWORD written = 0;
  BOOL ok = WriteFile(f, data, (DWORD)n, &written, NULL) && written == (DWORD)n;
  DWORD e = ok ? 0 : GetLastError();
  CloseHandle(f);
  if (ok) return 0;
  DeleteFileW(path);
  return sma__win32_fail(e != 0 ? e : ERROR_WRITE_FAULT, os_err);
}

int sma__os_index_get(intptr_t dir, const char *entry, void *buf, size_t cap, size_t *n,
                      int *os_err) {
  (void)dir;
  *n = 0;
  wchar_t path[PATH_CAP];
  if (entry_path(entry, path, PATH_CAP) != 0) return SMA_ENAMETOOLONG;
  HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  if (f == INVALID_HANDLE_VALUE) return sma__win32_fail(GetLastError(), os_err);
  DWORD got = 0;
  BOOL ok = ReadFile(f, buf, cap > MAXDWORD ? MAXDWORD : (DWORD)cap, &got, NULL);
  DWORD e = ok ? 0 : GetLastError();
  CloseHandle(f);
  if (!ok) return sma__win32_fail(e, os_err);
  *n = got;
  return 0;
}

void sma__os_index_close(intptr_t dir) { CloseHandle((HANDLE)dir); }

/* A directory takes no byte-range lock: common code falls back to
 * looking again after a removal (src/index.c). */
int sma__os_index_lock(intptr_t dir, int exclusive, int *os_err) {
  (void)dir;
  (void)exclusive;
  (void)os_err;
  return SMA_ENOTSUP;
}

void sma__os_index_unlock(intptr_t dir) { (void)dir; }
