/*
 * handlers.h -- the RATING_REPLICA procedures: decode (done by the shared
 * dispatcher), hand to state.c, reply.  No logic of their own.
 */
#ifndef RATINGD_HANDLERS_H
#define RATINGD_HANDLERS_H

#include "rpcutil.h"
#include "state.h"

/* The program table for rpc_listen(), serving state s as program prog. */
const struct rpc_program *replica_program(state_t *s, uint32_t prog);

#endif
