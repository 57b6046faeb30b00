/*
 * admin: the changes an administrator asks rinkid for over the control socket (rinkictl,
 * rinki-web): manual overrides, worker add, disable/enable and PIN reset on the loop (small
 * writes), and roster and directory imports in a worker thread of their own (read from a
 * descriptor, bounded, parsed, checked and written there) so the loop keeps paging meanwhile. Every
 * change is a system event in the hash-chained call log naming who asked.
 */
#ifndef GW_ADMIN_H
#define GW_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "store/db.h"

/* "+ error" lines a roster-import answer lists at most; the rest are counted. */
#define GW_ADMIN_ERRORS_LISTED 150

struct gw_admin;

struct gw_admin_ops {
	/*
	 * The roster import ticket is finished: reply is its answer, "+ ..." lines then one
	 * ok/err line (include/rinki/proto.h, roster-import). Called from the loop.
	 */
	void (*import_done)(void *arg, uint64_t ticket, const char *reply);
	void *arg;
};

/*
 * Changes go to db (the loop's connection, borrowed); imports open db_path in their thread.
 * Returns 0 and *out, or -errno.
 */
int gw_admin_new(struct gw_loop *loop, struct gw_db *db, const char *db_path,
		 const struct gw_admin_ops *ops, struct gw_admin **out);

/*
 * Stop a running import (one still reading or checking changes nothing; one already
 * committing finishes first), free. NULL is fine.
 */
void gw_admin_free(struct gw_admin *a);

/*
 * Import the roster CSV read from fd (taken: closed in every case): apply false only
 * checks and tells what would change; replace drops conflicting manual changes. Returns 0
 * (ops.import_done comes later with ticket), -EBUSY (an import runs) or -errno.
 */
int gw_admin_roster_import(struct gw_admin *a, int fd, bool apply, bool replace, const char *who,
			   uint64_t ticket);

/*
 * Replace the ISSI directory with the directory records (directory,ISSI,ORGANISATION,...)
 * read from fd (taken), in the import thread with the same bounds as a roster import;
 * the rest of the roster stays. Returns 0 (ops.import_done comes later with ticket and a
 * reply "+ error row=N text=T" lines then "ok entries=N was_entries=N" or an err line),
 * -EBUSY (an import runs) or -errno. An applied import is a system event naming who.
 */
int gw_admin_directory_import(struct gw_admin *a, int fd, const char *who, uint64_t ticket);

/* True while an import runs. */
bool gw_admin_importing(const struct gw_admin *a);

/* Add manual override o (checked by the caller); reason may be NULL. 0, -ENOENT or -errno. */
int gw_admin_override_add(struct gw_admin *a, const struct gw_db_override *o, const char *reason,
			  const char *who, int64_t *id);

/*
 * Add worker w (checked by the caller with gw_roster_check_worker) to the manual layer; a
 * system event naming who. 0, -EEXIST (handle taken) or -errno.
 */
int gw_admin_worker_add(struct gw_admin *a, const struct gw_db_worker *w, const char *who);

/* Remove manual override id. 0, -ENOENT or -errno. */
int gw_admin_override_del(struct gw_admin *a, int64_t id, const char *who);

/*
 * active -1: unchanged, 0/1: disable/enable; pin_reset clears the PIN; pin (not NULL: 4-8
 * digits) is hashed with the loaded pepper and set; phone (E.164, checked by the caller)
 * and lang ("fi", "sv", "en"), NULL: unchanged, go to the manual layer. 0, -ENOENT, -ENOKEY
 * (no pepper: no PIN is set unpeppered), -EINVAL (not a PIN) or -errno. The PIN is never
 * logged; the rest is a system event.
 */
int gw_admin_worker_set(struct gw_admin *a, const char *worker, int active, bool pin_reset,
			const char *pin, const char *phone, const char *lang, const char *who);

#endif
