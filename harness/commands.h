/*
 * commands.h: every `sparsemm <command>` is one function in harness/cmd_<command>.c with this
 * signature: argv[0] is the command name; returns the process exit status.
 */
#ifndef SPARSEMM_COMMANDS_H
#define SPARSEMM_COMMANDS_H

typedef int (*command_fn)(int argc, char **argv);

struct command {
    const char *name;
    command_fn run;
    const char *summary;
};

int cmd_generate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_methods(int argc, char **argv);
int cmd_allocation(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_heads(int argc, char **argv);

#endif
