/*
 * csv.h -- a small RFC 4180 reader for the GroupLens files: LF or CRLF
 * line ends, fields optionally in double quotes, "" inside quotes for a
 * quote, commas and line breaks allowed inside quotes.
 */
#ifndef RATINGD_CSV_H
#define RATINGD_CSV_H

#include <stddef.h>

typedef struct csv csv_t;

csv_t *csv_open(const char *path, char *err, size_t errlen);
void csv_close(csv_t *c);
/* Read the next row into at most max fields (pointers valid until the next
 * call).  Returns the number of fields, 0 at the end, -1 on an error
 * (csv_error says what: an unterminated quote, text after a closing
 * quote, too many fields, a NUL byte, a line over 64 KiB).  A quote inside
 * an unquoted field is kept as it is.  An empty line is one empty field. */
int csv_row(csv_t *c, char **fields, int max);
/* Line number of the row returned last (1 is the first line). */
size_t csv_line(const csv_t *c);
const char *csv_error(const csv_t *c);

#endif
