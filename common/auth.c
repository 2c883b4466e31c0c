/* auth.c -- HMAC-SHA256 over XDR messages (see auth.h). */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static unsigned char key[256];
static size_t key_len;

int auth_load_key(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
        fprintf(stderr, "warning: key file %s is readable by others (chmod 600)\n", path);
    size_t n = fread(key, 1, sizeof key, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
        n--;
    if (more || n < AUTH_KEY_MIN) {
        snprintf(err, errlen, "key file %s must hold %d to %zu bytes", path, AUTH_KEY_MIN,
                 sizeof key);
        key_len = 0;
        return -1;
    }
    key_len = n;
    return 0;
}

bool auth_enabled(void) { return key_len > 0; }

void auth_forget_key(void)
{
    OPENSSL_cleanse(key, sizeof key);
    key_len = 0;
}

/* MAC of LABEL 0x00 DIR || bind || XDR(msg) as msg is now (its mac field
 * must be empty). */
static int compute(const char *label, char dir, const char *bind, size_t bind_len,
                   xdrproc_t proc, void *msg, unsigned char out[AUTH_MAC_LEN])
{
    size_t llen = strlen(label), head = llen + 2 + bind_len;
    u_long size = xdr_sizeof(proc, msg);
    char *buf = malloc(head + size);
    if (!buf)
        return -1;
    memcpy(buf, label, llen);
    buf[llen] = '\0';
    buf[llen + 1] = dir;
    if (bind_len)
        memcpy(buf + llen + 2, bind, bind_len);
    XDR x;
    xdrmem_create(&x, buf + head, (u_int)size, XDR_ENCODE);
    int rc = -1;
    unsigned int outlen = 0;
    if (proc(&x, msg, 0) && HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)buf,
                                 head + xdr_getpos(&x), out, &outlen))
        rc = outlen == AUTH_MAC_LEN ? 0 : -1;
    xdr_destroy(&x);
    free(buf);
    return rc;
}

static int sign(const char *label, char dir, const char *bind, size_t bind_len, xdrproc_t proc,
                void *msg, u_int *mac_len, char **mac_val)
{
    free(*mac_val);
    *mac_val = NULL;
    *mac_len = 0;
    unsigned char mac[AUTH_MAC_LEN];
    if (compute(label, dir, bind, bind_len, proc, msg, mac) < 0)
        return -1;
    *mac_val = malloc(AUTH_MAC_LEN);
    if (!*mac_val)
        return -1;
    memcpy(*mac_val, mac, AUTH_MAC_LEN);
    *mac_len = AUTH_MAC_LEN;
    return 0;
}

/* The MAC is taken out of msg while the rest is encoded, then put back. */
static bool verify(const char *label, char dir, const char *bind, size_t bind_len,
                   xdrproc_t proc, void *msg, u_int *mac_len, char **mac_val)
{
    if (*mac_len != AUTH_MAC_LEN || !*mac_val)
        return false;
    char *given = *mac_val;
    unsigned char want[AUTH_MAC_LEN];
    *mac_val = NULL;
    *mac_len = 0;
    int rc = compute(label, dir, bind, bind_len, proc, msg, want);
    *mac_val = given;
    *mac_len = AUTH_MAC_LEN;
    return rc == 0 && CRYPTO_memcmp(want, given, AUTH_MAC_LEN) == 0;
}

int auth_sign_call(const char *label, xdrproc_t proc, void *msg, u_int *mac_len, char **mac_val)
{
    return auth_enabled() ? sign(label, 'C', NULL, 0, proc, msg, mac_len, mac_val) : 0;
}

bool auth_verify_call(const char *label, xdrproc_t proc, void *msg, u_int *mac_len,
                      char **mac_val)
{
    return !auth_enabled() || verify(label, 'C', NULL, 0, proc, msg, mac_len, mac_val);
}

int auth_sign_reply(const char *label, u_int call_len, const char *call_mac, xdrproc_t proc,
                    void *msg, u_int *mac_len, char **mac_val)
{
    if (!auth_enabled())
        return 0;
    if (call_len != AUTH_MAC_LEN || !call_mac)
        return -1;
    return sign(label, 'R', call_mac, AUTH_MAC_LEN, proc, msg, mac_len, mac_val);
}

bool auth_verify_reply(const char *label, u_int call_len, const char *call_mac, xdrproc_t proc,
                       void *msg, u_int *mac_len, char **mac_val)
{
    if (!auth_enabled())
        return true;
    if (call_len != AUTH_MAC_LEN || !call_mac)
        return false;
    return verify(label, 'R', call_mac, AUTH_MAC_LEN, proc, msg, mac_len, mac_val);
}
