/* merkle.c -- the digest tree of anti-entropy repair (see merkle.h). */
#include "merkle.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"

/* Two unrelated hashes of an id: one for the bucket (its top bits), one
 * for the part (its low bits), so owners of one bucket do not all split
 * alike. */
#define BUCKET_SALT 0x6275636b6574ULL
#define PART_SALT 0x70617274ULL

_Static_assert(MERKLE_BUCKETS == 1u << 12, "merkle_bucket takes 12 bits");

uint32_t merkle_bucket(uint32_t owner)
{
    return (uint32_t)(mix64(owner ^ BUCKET_SALT) >> (64 - 12)); /* 4096 = 2^12 */
}

uint32_t merkle_part(uint32_t movie, uint32_t nparts)
{
    return (uint32_t)(mix64(movie ^ PART_SALT) & (nparts - 1));
}

/* Finding d differing rows among R costs about nparts digests plus d *
 * R / nparts rows; with rows 4-5 times a digest's size and d small, the
 * least is near nparts = 2 * sqrt(R). */
uint32_t merkle_nparts(uint64_t rows)
{
    if (rows <= 8)
        return 1;
    uint32_t n = 1;
    while (n < MERKLE_MAX_PARTS && (uint64_t)n * n < 4 * rows)
        n *= 2;
    return n;
}

bool merkle_nparts_ok(uint32_t nparts)
{
    return nparts >= 1 && nparts <= MERKLE_MAX_PARTS && (nparts & (nparts - 1)) == 0;
}

/* ---- the tree ---------------------------------------------------------- */

static const uint32_t level_start[MERKLE_LEVELS + 1] = {
    0, 1, 1 + MERKLE_FANOUT, 1 + MERKLE_FANOUT + MERKLE_FANOUT * MERKLE_FANOUT};

uint32_t merkle_level_size(uint32_t level)
{
    uint32_t n = 1;
    if (level > MERKLE_LEVELS)
        return 0;
    for (uint32_t l = 0; l < level; l++)
        n *= MERKLE_FANOUT;
    return n;
}

void merkle_clear(merkle_t *t) { memset(t, 0, sizeof *t); }

void merkle_add(merkle_t *t, uint32_t bucket, uint64_t delta)
{
    uint32_t index = bucket % MERKLE_BUCKETS;
    for (int l = MERKLE_LEVELS; l >= 0; l--) {
        t->node[level_start[l] + index] += delta;
        index /= MERKLE_FANOUT;
    }
}

uint64_t merkle_root(const merkle_t *t) { return t->node[0]; }

int merkle_children(const merkle_t *t, uint32_t level, uint32_t index,
                    uint64_t out[MERKLE_FANOUT])
{
    if (level >= MERKLE_LEVELS || index >= merkle_level_size(level))
        return -1;
    memcpy(out, &t->node[level_start[level + 1] + index * MERKLE_FANOUT],
           MERKLE_FANOUT * sizeof *out);
    return 0;
}

void merkle_span(uint32_t level, uint32_t index, uint32_t *first, uint32_t *count)
{
    uint32_t size = merkle_level_size(level);
    if (size == 0 || index >= size) {
        *first = *count = 0;
        return;
    }
    *count = MERKLE_BUCKETS / size;
    *first = index * *count;
}

/* ---- comparing ----------------------------------------------------------- */

size_t merkle_diff(const uint64_t *a, const uint64_t *b, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            out[k++] = (uint32_t)i;
    return k;
}

static int owner_order(const merkle_owner_t *a, const merkle_owner_t *b)
{
    if (a->bucket != b->bucket)
        return a->bucket < b->bucket ? -1 : 1;
    return a->owner < b->owner ? -1 : a->owner > b->owner;
}

size_t merkle_owners_diff(const merkle_owner_t *mine, size_t nm, const merkle_owner_t *theirs,
                          size_t nt, merkle_owner_diff_t *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < nm || j < nt) {
        int c = i == nm ? 1 : j == nt ? -1 : owner_order(&mine[i], &theirs[j]);
        if (c < 0) {
            out[k++] = (merkle_owner_diff_t){mine[i].owner, mine[i].rows, 0};
            i++;
        } else if (c > 0) {
            out[k++] = (merkle_owner_diff_t){theirs[j].owner, 0, theirs[j].rows};
            j++;
        } else {
            if (mine[i].digest != theirs[j].digest || mine[i].rows != theirs[j].rows)
                out[k++] = (merkle_owner_diff_t){mine[i].owner, mine[i].rows, theirs[j].rows};
            i++;
            j++;
        }
    }
    return k;
}

/* ---- one transaction's changes ------------------------------------------ */

static size_t slot_of(uint32_t owner, size_t cap)
{
    return (size_t)(mix64(owner) & (cap - 1));
}

static merkle_change_t *find_slot(merkle_change_t *slot, size_t cap, uint32_t owner)
{
    size_t i = slot_of(owner, cap);
    while (slot[i].used && slot[i].owner != owner)
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

/* Keep the table at most half full: short probe runs. */
static int grow(merkle_delta_t *d)
{
    size_t cap = d->cap ? d->cap * 2 : 64;
    merkle_change_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slot[i].used)
            *find_slot(slot, cap, d->slot[i].owner) = d->slot[i];
    free(d->slot);
    d->slot = slot;
    d->cap = cap;
    return 0;
}

int merkle_delta_add(merkle_delta_t *d, uint32_t owner, int64_t rows, uint64_t digest)
{
    if ((d->used + 1) * 2 > d->cap && grow(d) < 0)
        return -1;
    merkle_change_t *c = find_slot(d->slot, d->cap, owner);
    if (!c->used) {
        *c = (merkle_change_t){.owner = owner, .used = true};
        d->used++;
    }
    c->rows += rows;
    c->digest += digest;
    return 0;
}

int merkle_delta_each(const merkle_delta_t *d, int (*fn)(void *arg, const merkle_change_t *c),
                      void *arg)
{
    for (size_t i = 0; i < d->cap; i++) {
        int rc = d->slot[i].used ? fn(arg, &d->slot[i]) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

void merkle_delta_undo(const merkle_delta_t *d, merkle_t *t)
{
    for (size_t i = 0; i < d->cap; i++)
        if (d->slot[i].used)
            merkle_add(t, merkle_bucket(d->slot[i].owner), (uint64_t)0 - d->slot[i].digest);
}

/* A table grown by a large transaction (an import) is dropped rather than
 * wiped: each later commit would clear all of it. */
void merkle_delta_clear(merkle_delta_t *d)
{
    if (d->cap > 4096)
        merkle_delta_free(d);
    else if (d->used)
        memset(d->slot, 0, d->cap * sizeof *d->slot);
    d->used = 0;
}

void merkle_delta_free(merkle_delta_t *d)
{
    free(d->slot);
    memset(d, 0, sizeof *d);
}
