/*
 * text: making data safe for where it is shown. Two helpers, used by every writer of CSV
 * (rinkictl log export and report, the roster export) and every text output of rinkictl
 * meant for a terminal, so that a caller's SMS, a name or a modem's string cannot become
 * a spreadsheet formula or a terminal escape sequence. Also the bounded string copy of the
 * page path (no snprintf before an ATD).
 */
#ifndef GW_TEXT_H
#define GW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* True when c makes a spreadsheet read a cell as a formula: = + - @ TAB CR (OWASP). */
bool gw_text_formula_lead(char c);

/* gw_text_csv_put flags */
#define GW_TEXT_CSV_ROSTER 1u /* also quote '#' and a blank (space, TAB) at either end */

/*
 * Write s (NULL: nothing) as one CSV field to f (RFC 4180): quoted, quotes doubled, when
 * it holds , " CR or LF (and what flags add). A field that begins with a formula lead
 * (gw_text_formula_lead), or with ' and then one, is neutralised as OWASP advises: written
 * quoted with a ' in front; gw_text_csv_unneutralise() takes it off again on import.
 * Returns 0, or -EIO when f fails.
 */
int gw_text_csv_put(FILE *f, const char *s, unsigned flags);

/*
 * Undo gw_text_csv_put's neutralising on a field read back from quotes: a leading ' before
 * a formula lead (or before ' and one) is removed in place. Returns s.
 */
char *gw_text_csv_unneutralise(char *s);

/*
 * Copy s (NULL: "-") into out (len >= 1 bytes) for a terminal: C0 controls and DEL as
 * \t \n \r \e or \xNN, C1 controls (U+0080..U+009F) as \u00NN, bytes that are not
 * UTF-8 as \xNN, and a backslash doubled; printable UTF-8 as is. Cut to fit, never inside
 * an escape or a character. Returns out.
 */
const char *gw_text_term(const char *s, char *out, size_t len);

/*
 * Length (2..4) of the well-formed UTF-8 character at p, within avail bytes, and its code
 * point in *cp (may be NULL); 0 when p[0] starts none (ASCII included): overlong forms,
 * surrogates, code points above U+10FFFF and cut-off sequences are refused. The one UTF-8
 * check of the gateway and its tools.
 */
unsigned gw_utf8_len(const unsigned char *p, size_t avail, uint32_t *cp);

/*
 * Copy src (NULL: "") into dst (len >= 1 bytes), cut to len - 1 bytes and NUL-terminated,
 * as snprintf(dst, len, "%s", src) does but without its format parsing (the page path
 * copies a dozen fields before the ATD, issue #13). Returns the bytes copied, or -ENOSPC
 * when src was cut.
 */
int gw_text_copy(char *dst, size_t len, const char *src);
/*
 * prefix (NULL: "") then v in decimal into dst (len >= 1 bytes), byte for byte as
 * snprintf(dst, len, "%s%" PRId64, prefix, v) writes it, without the format parsing (the
 * ids an incident's machines get before the ATD, issue #13). Returns the length, or
 * -ENOSPC when it was cut.
 */
int gw_text_int(char *dst, size_t len, const char *prefix, int64_t v);

#endif
