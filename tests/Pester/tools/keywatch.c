/*
 * The adversary of tests/Pester/Permissions.Tests.ps1: run as another, unprivileged local user, it
 * watches folders with inotify and opens every file the moment it appears (and every file already
 * there when a folder is first seen), keeping each handle it gets. When the stop file appears it
 * reads every handle from the start and reports, one line each:
 *   NOWATCH <dir>   a folder it could not watch (permission denied)
 *   DENIED <path>   a file it could not open
 *   OPENED <path>   a file it opened (and so could read)
 *   KEY <path>      a file it opened whose content holds a private key
 * Usage: keywatch <report> <stopfile> <dir>...
 * Test-only: never built into the module.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WATCHES 4096
#define MAX_FILES 65536

static int inotify_fd;
static char *watch_path[MAX_WATCHES];
static int watch_wd[MAX_WATCHES];
static int watches;
static int file_fd[MAX_FILES];
static char *file_path[MAX_FILES];
static int files;
static FILE *report;

static void add_dir(const char *dir);

static void try_open(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) { add_dir(path); return; }
    if (!S_ISREG(st.st_mode)) return;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { fprintf(report, "DENIED %s\n", path); return; }
    if (files < MAX_FILES) { file_fd[files] = fd; file_path[files] = strdup(path); files++; }
    else close(fd);
}

static void add_dir(const char *dir)
{
    for (int i = 0; i < watches; i++) if (strcmp(watch_path[i], dir) == 0) return;
    if (watches >= MAX_WATCHES) return;
    int wd = inotify_add_watch(inotify_fd, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) { fprintf(report, "NOWATCH %s\n", dir); return; }
    watch_wd[watches] = wd; watch_path[watches] = strdup(dir); watches++;
    DIR *d = opendir(dir);
    if (!d) { fprintf(report, "NOWATCH %s\n", dir); return; }
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        try_open(path);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: keywatch <report> <stopfile> <dir>...\n"); return 2; }
    report = fopen(argv[1], "w");
    if (!report) { perror(argv[1]); return 2; }
    inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd < 0) { perror("inotify_init1"); return 2; }
    for (int i = 3; i < argc; i++) add_dir(argv[i]);
    fprintf(report, "READY\n");
    fflush(report);

    char buffer[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    char path[PATH_MAX];
    for (;;) {
        struct pollfd p = { .fd = inotify_fd, .events = POLLIN };
        poll(&p, 1, 50);
        ssize_t n;
        while ((n = read(inotify_fd, buffer, sizeof buffer)) > 0) {
            for (char *at = buffer; at < buffer + n;) {
                struct inotify_event *ev = (struct inotify_event *)at;
                at += sizeof(struct inotify_event) + ev->len;
                if (ev->len == 0) continue;
                for (int i = 0; i < watches; i++) {
                    if (watch_wd[i] != ev->wd) continue;
                    snprintf(path, sizeof path, "%s/%s", watch_path[i], ev->name);
                    try_open(path);
                    break;
                }
            }
        }
        if (access(argv[2], F_OK) == 0) break;
    }

    for (int i = 0; i < files; i++) {
        fprintf(report, "OPENED %s\n", file_path[i]);
        lseek(file_fd[i], 0, SEEK_SET);
        static char content[1 << 20];
        ssize_t total = 0, r;
        while (total < (ssize_t)sizeof content - 1 && (r = read(file_fd[i], content + total, sizeof content - 1 - total)) > 0) total += r;
        content[total > 0 ? total : 0] = 0;
        if (strstr(content, "PRIVATE KEY")) fprintf(report, "KEY %s\n", file_path[i]);
        close(file_fd[i]);
    }
    fprintf(report, "DONE\n");
    fclose(report);
    return 0;
}
