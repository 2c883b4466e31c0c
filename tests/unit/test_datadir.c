/*
 * test_datadir.c -- the data directory's lock and mark (server/datadir.c):
 * a second holder is refused with the first one's pid (in this process and
 * from another one), the lock goes with its holder, the mark survives a
 * close and a crash (a process that exits without closing), and a torn or
 * edited mark is an error rather than a number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "datadir.h"

static char dir[64];
static char lockpath[128];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/test_datadir.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(lockpath, sizeof lockpath, "%s/replica-3.lock", dir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    unlink(lockpath);
    rmdir(dir);
    return 0;
}

static void test_new_directory_has_no_mark(void **st)
{
    (void)st;
    datadir_t *d = NULL;
    char err[512] = "";
    assert_int_equal(datadir_open(dir, 3, &d, err, sizeof err), 0);
    uint64_t c = 7, e = 7;
    assert_int_equal(datadir_mark_get(d, &c, &e), 0);
    assert_int_equal(c, 7); /* untouched */
    datadir_close(d);
}

static void test_second_holder_refused(void **st)
{
    (void)st;
    datadir_t *a = NULL, *b = NULL;
    char err[512] = "";
    assert_int_equal(datadir_open(dir, 3, &a, err, sizeof err), 0);
    /* flock belongs to the open file: a second open in this process is
     * refused like another process would be. */
    assert_int_equal(datadir_open(dir, 3, &b, err, sizeof err), -2);
    assert_null(b);
    char pid[32];
    snprintf(pid, sizeof pid, "(pid %ld)", (long)getpid());
    assert_non_null(strstr(err, pid));
    assert_non_null(strstr(err, "--id 3"));
    /* another replica's lock in the same directory is another file */
    datadir_t *other = NULL;
    assert_int_equal(datadir_open(dir, 4, &other, err, sizeof err), 0);
    datadir_close(other);
    char p4[128];
    snprintf(p4, sizeof p4, "%s/replica-4.lock", dir);
    unlink(p4);
    /* released with its holder */
    datadir_close(a);
    assert_int_equal(datadir_open(dir, 3, &b, err, sizeof err), 0);
    datadir_close(b);
}

static void test_child_holder_refused_then_released(void **st)
{
    (void)st;
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        datadir_t *d = NULL;
        char e[512];
        char c = datadir_open(dir, 3, &d, e, sizeof e) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        _exit(0); /* dies holding it: no datadir_close */
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    datadir_t *d = NULL;
    char err[512] = "", pid[32];
    assert_int_equal(datadir_open(dir, 3, &d, err, sizeof err), -2);
    snprintf(pid, sizeof pid, "(pid %ld)", (long)child);
    assert_non_null(strstr(err, pid));
    assert_int_equal(write(go[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(datadir_open(dir, 3, &d, err, sizeof err), 0);
    datadir_close(d);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

static void test_mark_survives_close_and_crash(void **st)
{
    (void)st;
    datadir_t *d = NULL;
    char err[512];
    assert_int_equal(datadir_open(dir, 3, &d, err, sizeof err), 0);
    assert_int_equal(datadir_mark_put(d, 41, 0xfeedfacecafebeefULL), 0);
    assert_int_equal(datadir_mark_put(d, 42, 0xfeedfacecafebeefULL), 0);
    uint64_t c = 0, e = 0;
    assert_int_equal(datadir_mark_get(d, &c, &e), 1);
    assert_int_equal(c, 42);
    assert_true(e == 0xfeedfacecafebeefULL);
    assert_int_equal(datadir_mark_sync(d), 0);
    datadir_close(d);
    /* a process that puts a mark and dies without sync or close */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        datadir_t *x = NULL;
        char e2[512];
        if (datadir_open(dir, 3, &x, e2, sizeof e2) != 0 || datadir_mark_put(x, 1ULL << 40, 9) != 0)
            _exit(1);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(datadir_open(dir, 3, &d, err, sizeof err), 0);
    assert_int_equal(datadir_mark_get(d, &c, &e), 1);
    assert_true(c == 1ULL << 40);
    assert_int_equal(e, 9);
    datadir_close(d);
}

static void test_corrupt_mark_is_an_error(void **st)
{
    (void)st;
    datadir_t *d = NULL;
    char err[512];
    assert_int_equal(datadir_open(dir, 3, &d, err, sizeof err), 0);
    assert_int_equal(datadir_mark_put(d, 1234, 5), 0);
    datadir_close(d);
    /* someone edits the number (the checksum no longer matches) */
    FILE *f = fopen(lockpath, "r+");
    assert_non_null(f);
    char buf[193] = {0};
    assert_int_equal(fread(buf, 1, 192, f), 192);
    char *p = strstr(buf, "1234");
    assert_non_null(p);
    p[0] = '9';
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fwrite(buf, 1, 192, f), 192);
    fclose(f);
    assert_int_equal(datadir_open(dir, 3, &d, err, sizeof err), 0);
    uint64_t c, e;
    assert_int_equal(datadir_mark_get(d, &c, &e), -1);
    assert_non_null(strstr(datadir_error(d), "corrupt"));
    /* a new mark replaces it */
    assert_int_equal(datadir_mark_put(d, 1235, 5), 0);
    assert_int_equal(datadir_mark_get(d, &c, &e), 1);
    assert_int_equal(c, 1235);
    datadir_close(d);
    /* the file is readable text */
    f = fopen(lockpath, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "ratingd replica 3 pid "));
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "mark commit=00000000000000001235 epoch=0000000000000005 crc="));
    fclose(f);
}

static void test_missing_directory(void **st)
{
    (void)st;
    datadir_t *d = NULL;
    char err[512] = "";
    assert_int_equal(datadir_open("/nonexistent/ratingd", 0, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/ratingd/replica-0.lock"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_directory_has_no_mark),
        cmocka_unit_test(test_second_holder_refused),
        cmocka_unit_test(test_child_holder_refused_then_released),
        cmocka_unit_test(test_mark_survives_close_and_crash),
        cmocka_unit_test(test_corrupt_mark_is_an_error),
        cmocka_unit_test(test_missing_directory),
    };
    return cmocka_run_group_tests_name("datadir", tests, setup, teardown);
}
