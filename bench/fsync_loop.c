/*
 * fsync_loop.c -- the floor under a durable update: append a small record
 * to a file and fdatasync it, N times, on the disk the replicas use.
 *   fsync_loop DIR N   prints {"mode":"fsync","tput":...,"p50":us,"p99":us}
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: fsync_loop DIR N\n"), 2;
    int n = atoi(argv[2]);
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync_loop.dat", argv[1]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    double *lat = calloc((size_t)(n > 0 ? n : 1), sizeof *lat);
    if (fd < 0 || !lat || n < 1)
        return perror("fsync_loop"), 1;
    char rec[64];
    memset(rec, 'r', sizeof rec);
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        double t = now_us();
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec || fdatasync(fd) != 0)
            return perror("fsync_loop"), 1;
        lat[i] = now_us() - t;
    }
    double total = now_us() - t0;
    close(fd);
    unlink(path);
    qsort(lat, (size_t)n, sizeof *lat, cmp);
    printf("{\"mode\":\"fsync\",\"calls\":%d,\"tput\":%.1f,\"p50\":%.1f,\"p99\":%.1f}\n", n,
           n / (total / 1e6), lat[n / 2], lat[(int)(n * 0.99)]);
    free(lat);
    return 0;
}
