/*
 * snapshot.h -- serving RP_SNAPSHOT: a peer that lost its database copies
 * this replica's committed state page by page from one consistent view
 * (store_snap_open).  One view at a time; an abandoned view is dropped
 * when the next SNAP_BEGIN comes after 60 s of silence.
 */
#ifndef RATINGD_SNAPSHOT_H
#define RATINGD_SNAPSHOT_H

#include "rating.h"
#include "state.h"

void snapshot_serve(state_t *s, const rt_snap_args *a, rt_snap_res *res);

#endif
