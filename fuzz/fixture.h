/*
 * fixture.h -- a real replica for the fuzz harnesses: replica 0 of 3,
 * its database on a tmpfs file (a snapshot needs a file: a :memory:
 * replica refuses SNAP_BEGIN), durability off, the 22-movie e2e data set
 * imported.
 *
 * Every input starts from the same state: fixture_reset() closes the
 * replica and reopens it on a fresh copy of a database imported once, so
 * a crash reproduces from its one input (gossip can move a replica's
 * timestamps anywhere, and later inputs would otherwise run against what
 * earlier ones left).
 */
#ifndef RATINGD_FUZZ_FIXTURE_H
#define RATINGD_FUZZ_FIXTURE_H

#include <stdint.h>

#include "rating.h"
#include "rpcutil.h"
#include "state.h"

#define FIXTURE_ID 0
#define FIXTURE_N 3
#define FIXTURE_PROG 0x4f5a7100u

/* Once, from LLVMFuzzerInitialize.  Exits the process on failure. */
void fixture_init(void);
/* A fresh replica (the same state every time). */
state_t *fixture_reset(void);
/* The replica's procedure table (server/handlers.c), serving the fixture. */
const struct rpc_program *fixture_program(void);
/* The session of the snapshot view an input opened, or 0. */
extern uint64_t fixture_snap_session;
/* Note what a SNAPSHOT call did, so that fixture_reset can close its view. */
void fixture_snap_seen(const rt_snap_args *a, const rt_snap_res *r);

#endif
