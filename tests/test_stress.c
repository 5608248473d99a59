/* Load: 8 processes x 1,000 cycles of create/write/open/check/close/
 * unlink with built names, and 8 threads x 100,000 sma_build_name()
 * calls: no duplicate name, no lost write, no segment left. Bounded: a
 * few seconds here. SMA_STRESS_SCALE=N multiplies every count (the longer
 * form; e.g. 10 for 8 x 10,000 cycles and 8 x 1,000,000 names). */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PROCS = 8, THREADS = 8, SLOT = 96 };

static long scale(void) {
  const char *s = getenv("SMA_STRESS_SCALE");
  long v = s ? atol(s) : 1;
  return v > 0 ? v : 1;
}

static int cmp_slot(const void *a, const void *b) { return strcmp(a, b); }

/* Sorts n names of SLOT bytes and counts adjacent duplicates. */
static size_t duplicates(char *names, size_t n) {
  qsort(names, n, SLOT, cmp_slot);
  size_t dups = 0;
  for (size_t i = 1; i < n; i++) dups += strcmp(names + (i - 1) * SLOT, names + i * SLOT) == 0;
  return dups;
}

typedef struct {
  long cycles;
  char files[PROCS][128];
} proc_job_t;

static int run_one_process(void *arg, int index) {
  proc_job_t *job = arg;
  char cycles[24];
  snprintf(cycles, sizeof cycles, "%ld", job->cycles);
  const char *args[] = {"stress", cycles, job->files[index], NULL};
  return t_run_helper(args);
}

/* Segments whose names carry the stress prefix, by listing the backend. */
static int count_stress(const sma_info_t *in, void *user) {
  *(int *)user += strstr(in->name, T_PREFIX "-st") != NULL;
  return 0;
}

Test(stress, processes_create_write_check_unlink, .timeout = 600) {
  proc_job_t job;
  job.cycles = T_ROUNDS(1000) * scale();
  for (int p = 0; p < PROCS; p++)
    snprintf(job.files[p], sizeof job.files[p], "stress-%d-%d.txt", (int)t_pid(), p);
  cr_assert_eq(t_run_threads(PROCS, run_one_process, &job), 0,
               "every process ran its cycles with no lost write");
  size_t total = (size_t)PROCS * (size_t)job.cycles, n = 0;
  char *names = calloc(total, SLOT);
  cr_assert_not_null(names);
  for (int p = 0; p < PROCS; p++) {
    FILE *f = fopen(job.files[p], "r");
    cr_assert_not_null(f);
    char line[SLOT];
    while (n < total && fgets(line, sizeof line, f)) {
      line[strcspn(line, "\n")] = '\0';
      memcpy(names + n++ * SLOT, line, SLOT);
    }
    fclose(f);
    remove(job.files[p]);
  }
  cr_assert_eq(n, total, "every cycle reported its name");
  cr_assert_eq(duplicates(names, n), 0, "no name was built twice");
  free(names);
  int left = 0;
  if (t_caps().can_list) {
    cr_assert_eq(sma_list(count_stress, &left), 0);
    cr_assert_eq(left, 0, "no stress segment left");
  }
  fprintf(stderr, "stress: %d processes x %ld cycles, %zu unique names, %d segments left\n", PROCS,
          job.cycles, total, left);
}

typedef struct {
  long per_thread;
  char *names;
} name_job_t;

static int build_many(void *arg, int index) {
  name_job_t *job = arg;
  char *base = job->names + (size_t)index * (size_t)job->per_thread * SLOT;
  for (long i = 0; i < job->per_thread; i++)
    if (sma_build_name("t", base + (size_t)i * SLOT, &(size_t){SLOT}) != 0) return 1;
  return 0;
}

Test(stress, threads_build_unique_names, .timeout = 600) {
  name_job_t job = {T_ROUNDS(100000) * scale(), NULL};
  size_t total = (size_t)THREADS * (size_t)job.per_thread;
  job.names = calloc(total, SLOT);
  cr_assert_not_null(job.names);
  uint64_t before = sma_name_counter();
  cr_assert_eq(t_run_threads(THREADS, build_many, &job), 0);
  cr_assert_eq(sma_name_counter() - before, total, "the counter counted every call");
  cr_assert_eq(duplicates(job.names, total), 0, "no duplicate among %zu names", total);
  fprintf(stderr, "stress: %d threads x %ld names, all unique\n", THREADS, job.per_thread);
  free(job.names);
}
