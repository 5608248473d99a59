#ifndef SMA_TOOLS_DEMO_H
#define SMA_TOOLS_DEMO_H
/* `sma demo` and its hidden worker subcommand; argv starts after "demo". */
int demo_main(int argc, char **argv, const char *self);
int demo_worker_main(int argc, char **argv);
#endif
