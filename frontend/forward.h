/*
 * forward.h -- the front end's request path: send a client's request to a
 * replica, and on a failure or a "try another" answer to the next, within
 * the same request; wait and go round again while no replica can serve
 * yet (gossip will bring what the client has seen), up to a deadline.
 *
 * The client carries its own prev, so the front end keeps no per-client
 * state.  An update without an id gets one here, and every replica it is
 * tried at gets the same id: a replica that did accept it before a
 * failure recognises the retry and applies it once.
 */
#ifndef RATINGD_FORWARD_H
#define RATINGD_FORWARD_H

#include <stdbool.h>

#include "rating.h"

/* wait_ms: how long to keep trying when no replica can serve. */
int forward_init(int wait_ms);

void forward_query(const rt_query_args *a, rt_query_res *res);
void forward_update(const rt_update_args *a, bool submit, rt_update_res *res);
void forward_status(rt_status_list *res);

#endif
