/*
 * sanitize.c -- settings for AddressSanitizer builds (make asan), linked
 * into every program and test.  Only sanitizer runtimes call these.
 *
 * Full stacks (the slow unwinder): libtirpc is built without frame
 * pointers, so the fast unwinder loses every frame below a libtirpc call
 * and a report would not say which of our calls it came from.
 *
 * No leak is suppressed.  The libtirpc 1.3.3 leaks once listed here (a
 * netbuf and an empty address string in clnt_create_timed's rpcbind
 * lookup of a program that is not registered) came from
 * clnt_create_timed, which nothing calls since rpcutil.c asks rpcbind
 * itself; a suppression by library name (leak:libtirpc.so) would also
 * hide a CLIENT we forget to destroy.  A new libtirpc leak gets an entry
 * naming its exact function, with the reason, or better a fix on our side.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }
