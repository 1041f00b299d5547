/* gnuplot.c: see gnuplot.h. */
#include "plots/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *gnuplot_find(struct error *err) {
    const char *path = getenv("PATH");
    if (path) {
        const char *p = path;
        while (*p) {
            size_t n = strcspn(p, ":");
            if (n > 0) {  /* an empty entry would mean the current directory: not searched */
                char *dir = xstrndup(p, n);
                char *exe = path_join(dir, "gnuplot");
                free(dir);
                struct stat st;
                if (stat(exe, &st) == 0 && S_ISREG(st.st_mode) && access(exe, X_OK) == 0) return exe;
                free(exe);
            }
            p += n;
            if (*p == ':') p++;
        }
    }
    error_set(err, "gnuplot not found in PATH (\"%s\"); install it (Debian/Ubuntu: apt-get install "
              "gnuplot-nox, or `make deps`) and run again", path ? path : "");
    return NULL;
}

/* The last `max` bytes of a file, for error messages. Caller frees. */
static char *file_tail(const char *path, size_t max) {
    char *data;
    size_t n;
    struct error ignored;
    if (read_file(path, &data, &n, &ignored)) return xstrdup("(no output)");
    char *tail = xstrdup(n > max ? data + n - max : data);
    free(data);
    size_t len = strlen(tail);
    while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == ' ')) tail[--len] = 0;
    return tail;
}

int gnuplot_run(const char *gnuplot, const char *commands, const char *const *files, int n_files,
                const char *log_path, const char *expect, struct error *err) {
    int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log < 0) return error_set(err, "%s: cannot create: %s", log_path, strerror(errno));
    const char **argv = xcalloc((size_t)n_files + 4, sizeof *argv);
    argv[0] = "gnuplot";
    argv[1] = "-e";
    argv[2] = commands;
    for (int i = 0; i < n_files; i++) argv[3 + i] = files[i];
    if (expect) unlink(expect);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        close(log);
        int devnull = open("/dev/null", O_RDONLY);  /* gnuplot must never wait for input */
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        execv(gnuplot, (char *const *)argv);
        _exit(127);
    }
    close(log);
    free(argv);
    if (pid < 0) return error_set(err, "cannot start gnuplot: %s", strerror(errno));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return error_set(err, "waiting for gnuplot: %s", strerror(errno));
    struct stat st;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
             (!expect || (stat(expect, &st) == 0 && st.st_size > 0));
    if (ok) return 0;
    char *tail = file_tail(log_path, 600);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        error_set(err, "gnuplot wrote no %s: %s", expect, tail);
    else if (WIFEXITED(status))
        error_set(err, "gnuplot failed (exit %d) on %s: %s", WEXITSTATUS(status),
                  n_files ? files[n_files - 1] : "its commands", tail);
    else
        error_set(err, "gnuplot killed by signal %d: %s", WTERMSIG(status), tail);
    free(tail);
    return -1;
}

char *gnuplot_quote(const char *s) {
    size_t n = 3;
    for (const char *p = s; *p; p++) n += *p == '\'' ? 2 : 1;
    char *out = xmalloc(n), *o = out;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') *o++ = '\'';
        *o++ = *p;
    }
    *o++ = '\'';
    *o = 0;
    return out;
}

/* Numbers that gnuplot reads back exactly; NaN as gnuplot's own NaN. */
static void put_num(FILE *f, double v) {
    if (v != v) fputs("NaN", f);
    else fprintf(f, "%.10g", v);
}

void gnuplot_set_num(FILE *f, const char *name, double v) {
    fprintf(f, "%s = ", name);
    put_num(f, v);
    fputc('\n', f);
}

void gnuplot_set_str(FILE *f, const char *name, const char *s) {
    char *q = gnuplot_quote(s);
    fprintf(f, "%s = %s\n", name, q);
    free(q);
}

void gnuplot_array_num(FILE *f, const char *name, const double *v, int n) {
    fprintf(f, "array %s[%d] = [", name, n);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        put_num(f, v[i]);
    }
    fputs("]\n", f);
}

void gnuplot_array_str(FILE *f, const char *name, char *const *v, int n) {
    fprintf(f, "array %s[%d] = [", name, n);
    for (int i = 0; i < n; i++) {
        char *q = gnuplot_quote(v[i]);
        fprintf(f, "%s%s", i ? ", " : "", q);
        free(q);
    }
    fputs("]\n", f);
}
