#include "sma_listed.h"

#include "support.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

int t_sma_listed(const char *prefix) {
  char *out = NULL;
  int status = t_sma(&out, "ls --json --prefix %s", prefix);
  cJSON *list = status == 0 && out != NULL ? cJSON_Parse(out) : NULL;
  int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1;
  cJSON_Delete(list);
  free(out);
  return n;
}
