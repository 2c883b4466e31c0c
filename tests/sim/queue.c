/* queue.c -- a binary heap of events (see queue.h). */
#include "queue.h"

#include <stdlib.h>

static int earlier(const event_t *x, const event_t *y)
{
    return x->at != y->at ? x->at < y->at : x->order < y->order;
}

static void swap(event_t *x, event_t *y)
{
    event_t t = *x;
    *x = *y;
    *y = t;
}

int queue_push(queue_t *q, const event_t *e)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        event_t *h = realloc(q->heap, cap * sizeof *h);
        if (!h)
            return -1;
        q->heap = h;
        q->cap = cap;
    }
    size_t i = q->n++;
    q->heap[i] = *e;
    q->heap[i].order = q->scheduled++;
    while (i > 0 && earlier(&q->heap[i], &q->heap[(i - 1) / 2])) {
        swap(&q->heap[i], &q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return 0;
}

int queue_pop(queue_t *q, event_t *e)
{
    if (q->n == 0)
        return 0;
    *e = q->heap[0];
    q->heap[0] = q->heap[--q->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && earlier(&q->heap[l], &q->heap[m]))
            m = l;
        if (r < q->n && earlier(&q->heap[r], &q->heap[m]))
            m = r;
        if (m == i)
            break;
        swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
    return 1;
}

uint64_t queue_next_at(const queue_t *q) { return q->n ? q->heap[0].at : UINT64_MAX; }

void queue_clear(queue_t *q, void (*release)(event_t *e))
{
    for (size_t i = 0; release && i < q->n; i++)
        release(&q->heap[i]);
    q->n = 0;
}

void queue_free(queue_t *q)
{
    free(q->heap);
    q->heap = NULL;
    q->n = q->cap = 0;
}
