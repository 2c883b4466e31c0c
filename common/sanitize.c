/*
 * sanitize.c -- settings for AddressSanitizer builds (make asan), linked
 * into every program and test.  Only sanitizer runtimes call these.
 *
 * libtirpc 1.3.3 leaks memory of its own that we cannot free: a byte in
 * its rpcbind lookup when a program is not registered, and the
 * per-thread rpc_createerr buffer it callocs for every thread that makes
 * an rpcbind call.  libtirpc is stripped, so the suppression has to name
 * the library itself: memory that libtirpc allocated for us and we forgot
 * to release (a CLIENT without clnt_destroy) would be hidden too; every
 * other leak is reported.  Needs full stacks (fast_unwind_on_malloc=0).
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }

const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "print_suppressions=0"; }

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:clnt_create_timed\n"
           "leak:__rpc_createerr\n"
           "leak:libtirpc.so\n";
}
