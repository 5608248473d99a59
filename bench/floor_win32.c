/* The floor on the Windows backend: CreateFileMappingW (committed),
 * OpenFileMappingW, MapViewOfFile, in the Local\ namespace (see floor.h). */
#include "floor.h"

#include <wchar.h>
#include <windows.h>

static void object_name(wchar_t *buf, size_t cap, const char *name) {
  swprintf(buf, cap, L"Local\\%hs", name);
}

int floor_sizes_unreserved(void) { return 0; }

/* SEC_COMMIT reserves the memory: l->reserve changes nothing here. */
double floor_lifecycle(const floor_life_t *l, int n) {
  wchar_t wname[300];
  object_name(wname, 300, l->name);
  size_t size = l->bytes + 4096;
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_COMMIT, 0,
                                  (DWORD)size, wname);
    if (h == NULL) return -1;
    void *p = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
    if (p == NULL) return -1;
    use_array(p, l->bytes, l->fill);
    UnmapViewOfFile(p);
    CloseHandle(h);
  }
  return (proc_now() - t0) / n;
}

int floor_find(floor_object_t *o, const sma_t *a, const char *name) {
  (void)a;
  *o = (floor_object_t){name, 0};
  return 0;
}

double floor_attach(const floor_object_t *o, int n) {
  wchar_t wname[300];
  object_name(wname, 300, o->name);
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    HANDLE h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wname);
    void *p = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    if (p == NULL) return -1;
    MEMORY_BASIC_INFORMATION mbi;
    VirtualQuery(p, &mbi, sizeof mbi);
    UnmapViewOfFile(p);
    CloseHandle(h);
  }
  return (proc_now() - t0) / n;
}
