/*
 * output.h -- what the client prints on stdout, one function per kind of
 * answer.  Tab-separated lines for lists (easy to cut and sort), "key: value"
 * lines for one movie, an aligned table for status.
 */
#ifndef RATINGD_CLI_OUTPUT_H
#define RATINGD_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rating.h"

/* The average in stars with 2 decimals, rounded half up ("3.92"), or "-"
 * for no ratings.  sum_halves=7, n=2 gives "1.75". */
char *cli_format_average(uint64_t sum_halves, uint32_t n, char *buf, size_t len);
/* An rt_vts as "[a,b,c]". */
char *cli_format_vts(const rt_vts *v, char *buf, size_t len);
const char *cli_state_text(rt_state st);

/* id:, title:, genres:, average:, ratings: lines. */
void cli_print_movie(FILE *f, const rt_movie_info *m);
/* ID TITLE GENRES AVERAGE COUNT, tab-separated. */
void cli_print_match(FILE *f, const rt_movie_info *m);
/* MOVIE RATING, tab-separated. */
void cli_print_user_rating(FILE *f, const rt_user_rating *r);
/* "4.5" */
void cli_print_rating(FILE *f, uint32_t halves);
/* "ok replica=K ts=[a,b,c]" */
void cli_print_ok(FILE *f, uint32_t replica, const rt_vts *ts);
/* A header and one aligned row per replica; then a "divergence:" line for
 * each group of replicas with one value_ts and different digests. */
void cli_print_status(FILE *f, const rt_status_res *rows, size_t n);

#endif
