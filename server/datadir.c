/*
 * datadir.c -- the data directory's lock file and durable-commit mark
 * (datadir.h says what and why).
 */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define OWNER_OFF 0
#define OWNER_LEN 64
#define MARK_OFF OWNER_LEN
#define MARK_LEN 128

struct datadir {
    int fd;
    uint32_t id;
    char path[4096];
    char error[4096 + 256];
};

/* FNV-1a, 32 bits: enough to tell a torn or edited mark from a good one. */
static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* A line of exactly len bytes: text, spaces, a newline. */
static void fixed_line(char *buf, size_t len, const char *text)
{
    size_t n = strlen(text);
    if (n > len - 1)
        n = len - 1;
    memcpy(buf, text, n);
    memset(buf + n, ' ', len - 1 - n);
    buf[len - 1] = '\n';
}

static int write_at(int fd, const char *buf, size_t len, off_t off)
{
    ssize_t n;
    do
        n = pwrite(fd, buf, len, off);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len)
        return 0;
    if (n >= 0)
        errno = ENOSPC; /* a short write of one small block: the disk is full */
    return -1;
}

/* The pid in the owner line of the file open at fd, or 0 if none. */
static long holder_pid(int fd)
{
    char buf[OWNER_LEN + 1] = {0};
    long pid = 0;
    unsigned id;
    if (pread(fd, buf, OWNER_LEN, OWNER_OFF) > 0 &&
        sscanf(buf, "ratingd replica %u pid %ld", &id, &pid) != 2)
        pid = 0;
    return pid;
}

/* The directory entry of a file just created survives a power loss only
 * once its directory is synced. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int datadir_open(const char *dir, uint32_t id, datadir_t **out, char *err, size_t errlen)
{
    datadir_t *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->id = id;
    snprintf(d->path, sizeof d->path, "%s/replica-%" PRIu32 ".lock", dir, id);
    int created = access(d->path, F_OK) != 0;
    d->fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (d->fd < 0) {
        snprintf(err, errlen, "cannot open lock file %s: %s", d->path, strerror(errno));
        free(d);
        return -1;
    }
    if (flock(d->fd, LOCK_EX | LOCK_NB) < 0) {
        int busy = errno == EWOULDBLOCK;
        if (busy) {
            long pid = holder_pid(d->fd);
            char who[32] = "";
            if (pid > 0)
                snprintf(who, sizeof who, " (pid %ld)", pid);
            snprintf(err, errlen,
                     "data directory %s is in use: another ratingd --id %" PRIu32
                     "%s holds %s; one process per replica",
                     dir, id, who, d->path);
        } else {
            snprintf(err, errlen, "cannot lock %s: %s", d->path, strerror(errno));
        }
        close(d->fd);
        free(d);
        return busy ? -2 : -1;
    }
    char line[OWNER_LEN + 1], text[OWNER_LEN];
    snprintf(text, sizeof text, "ratingd replica %" PRIu32 " pid %ld", id, (long)getpid());
    fixed_line(line, OWNER_LEN, text);
    if (write_at(d->fd, line, OWNER_LEN, OWNER_OFF) < 0) {
        snprintf(err, errlen, "cannot write lock file %s: %s", d->path, strerror(errno));
        close(d->fd);
        free(d);
        return -1;
    }
    if (created)
        sync_dir(dir);
    *out = d;
    return 0;
}

int datadir_mark_get(datadir_t *d, uint64_t *commit, uint64_t *epoch)
{
    char buf[MARK_LEN + 1] = {0};
    ssize_t n = pread(d->fd, buf, MARK_LEN, MARK_OFF);
    if (n < 0) {
        snprintf(d->error, sizeof d->error, "cannot read %s: %s", d->path, strerror(errno));
        return -1;
    }
    if (n == 0)
        return 0; /* never written: a new directory, or an older ratingd's */
    uint64_t c, e;
    unsigned crc;
    int end = 0;
    if (sscanf(buf, "mark commit=%" SCNu64 " epoch=%" SCNx64 "%n crc=%x", &c, &e, &end, &crc) != 3 ||
        end <= 0 || fnv1a(buf, (size_t)end) != crc) {
        snprintf(d->error, sizeof d->error,
                 "the durable-commit mark in %s is corrupt (offset %d: '%.60s')", d->path,
                 MARK_OFF, buf);
        return -1;
    }
    *commit = c;
    *epoch = e;
    return 1;
}

int datadir_mark_put(datadir_t *d, uint64_t commit, uint64_t epoch)
{
    char text[MARK_LEN], line[MARK_LEN + 1];
    int n = snprintf(text, sizeof text, "mark commit=%020" PRIu64 " epoch=%016" PRIx64, commit,
                     epoch);
    snprintf(text + n, sizeof text - (size_t)n, " crc=%08x", fnv1a(text, (size_t)n));
    fixed_line(line, MARK_LEN, text);
    if (write_at(d->fd, line, MARK_LEN, MARK_OFF) < 0) {
        snprintf(d->error, sizeof d->error, "cannot write the mark to %s: %s", d->path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int datadir_mark_sync(datadir_t *d)
{
    if (fdatasync(d->fd) < 0) {
        snprintf(d->error, sizeof d->error, "cannot sync %s: %s", d->path, strerror(errno));
        return -1;
    }
    return 0;
}

const char *datadir_error(const datadir_t *d)
{
    return d->error;
}

void datadir_close(datadir_t *d)
{
    if (!d)
        return;
    close(d->fd); /* releases the lock */
    free(d);
}
