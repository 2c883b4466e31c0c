/*
 * validate.h -- the rules every program applies to user input: ratings in
 * half-star steps from 0.5 to 5.0, positive ids, bounded titles.  The
 * client checks before it sends, and the replica checks again on receipt,
 * so garbage is rejected on both sides with the same message.
 */
#ifndef RATINGD_VALIDATE_H
#define RATINGD_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

/* Parse a rating into half-stars 1..10: "3.5", "4", "4.0", "0.50" -- one
 * or two digits, optionally a decimal point and 0 or 5, and then only
 * zeros.  Nothing else: no blanks, signs, exponents, hex or "nan".  The
 * one rule for every rating typed or imported.  Returns NULL, or an error
 * message for the user. */
const char *parse_rating(const char *s, uint32_t *halves);
/* Parse a positive decimal id that fits in 31 bits. */
const char *parse_id(const char *s, uint32_t *id);
/* True if s holds a control character (below 0x20, or DEL): never in a
 * title, genres or search text. */
bool has_control(const char *s);
/* Check an op's fields; returns NULL or a message.  `from_client` true
 * means OP_ADD_MOVIE must not carry a movie id yet. */
const char *op_check(const op_t *op, int from_client);
/* The text of a status code, for messages. */
const char *status_text(rt_status st);
/* Format half-stars as "3.5". */
const char *halves_format(uint32_t halves, char buf[8]);

#endif
